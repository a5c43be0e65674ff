// The journey's nurture sequences, shell side: after a decision reports trigger moments, the activity recording the
// decision reads which of the workspace's sequences match (runs from before 'fewer-tasks': an activity of their
// own; read when needed, never frozen into the run) and the enrolments go through the reducer; when an enrolment's
// step comes due, an activity reads the step as the sequence says now.
import { condition, log, patched, proxyActivities, uuid4 } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import {
  activeEnrolments,
  enrolmentOfDeadline,
  type SequenceMatch,
  type TriggerMoment,
} from '../shared/journey/sequences';
import type { LeadStatus } from '../shared/lifecycle';
import type { Decision, JourneyState, LeadEvent } from '../shared/journey/types';
import type { Deadline } from '../shared/journey/followUps';
import { failureText, POSTGRES_OUTAGE, RETRY, SURVIVES_FAILURES } from './activityBounds';

type Activities = ReturnType<typeof createActivities>;

const { matchSequences, loadSequenceStep } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: POSTGRES_OUTAGE,
  summary: 'read nurture sequences',
  retry: RETRY,
});

interface TriggerJob {
  eventId: string;
  /** The lead's status when the moments happened: a lead that moved on since is not enrolled. */
  status: LeadStatus;
  triggers: TriggerMoment[];
  /** The decision the moments came from; its recording matches them ('fewer-tasks'): awaited, then what it found. */
  decision: Decision;
  recording?: boolean;
  matches?: SequenceMatch[];
}

const now = () => new Date().toISOString();

export class JourneySequences {
  /** Trigger moments not yet matched, in decision order; drained by the journey's loop, one at a time. */
  private readonly queue: TriggerJob[] = [];
  /** Jobs whose decision's recording was asked to match them and has not answered yet (queued or being drained). */
  private readonly recording = new Map<Decision, TriggerJob>();

  constructor(
    private readonly options: {
      /** patched('sequences'): runs recorded before sequences existed never ask. */
      enabled: boolean;
      current: () => JourneyState;
    },
  ) {}

  /** Remembers a decision's trigger moments for the loop to match. */
  note(decision: Decision, eventId: string): void {
    if (!this.options.enabled || !decision.triggers?.length) return;
    this.queue.push({ eventId, status: decision.state.status, triggers: decision.triggers, decision });
  }

  /** The decision's recording will answer which sequences its moments match: the loop waits for that answer. */
  asked(decision: Decision): void {
    const job = this.queue.find((queued) => queued.decision === decision);
    if (!job) return;
    job.recording = true;
    this.recording.set(decision, job);
  }

  /** What the decision's recording matched (undefined: it failed, and the loop reads them itself). */
  answered(decision: Decision, matches: SequenceMatch[] | undefined): void {
    const job = this.recording.get(decision);
    if (!job) return;
    this.recording.delete(decision);
    job.recording = false;
    job.matches = matches;
  }

  hasWork(): boolean {
    return this.queue.length > 0;
  }

  /** Matches every noted moment against the workspace's sequences and applies the enrolments, in order. */
  async drain(apply: (event: LeadEvent) => Promise<unknown>): Promise<void> {
    while (this.queue.length > 0) {
      const job = this.queue.shift()!;
      const { workspaceId, leadId, propertyId } = this.options.current();
      // Matched by the decision's recording (a staff change's may still be under way); read here if it failed.
      if (job.recording) await condition(() => !job.recording);
      let matches: SequenceMatch[];
      try {
        matches =
          job.matches ?? (await matchSequences({ workspaceId, leadId, propertyId, triggers: job.triggers }));
      } catch (error) {
        // Unreadable for good: these moments enrol the lead in nothing.
        if (!patched(SURVIVES_FAILURES)) throw error;
        log.error('sequences unreadable; no enrolment', { workspaceId, leadId, error: failureText(error) });
        continue;
      }
      if (matches.length === 0) continue;
      await apply({
        kind: 'sequence_enrol',
        eventId: `enrol:${job.eventId}`,
        occurredAt: now(),
        source: 'system',
        atStatus: job.status,
        enrolments: matches.map((match) => ({ ...match, enrolmentId: uuid4() })),
      });
    }
  }

  /** The event a due sequence deadline becomes: its step as the sequence says now, or why the lead leaves. */
  async stepEvent(deadline: Deadline): Promise<LeadEvent | undefined> {
    const enrolmentId = enrolmentOfDeadline(deadline.name);
    const state = this.options.current();
    const enrolment = activeEnrolments(state.enrolments).find((e) => e.id === enrolmentId);
    if (!enrolment) return undefined;
    let answer: Awaited<ReturnType<typeof loadSequenceStep>>;
    try {
      answer = await loadSequenceStep({
        workspaceId: state.workspaceId,
        leadId: state.leadId,
        enrolmentId: enrolment.id,
        sequenceId: enrolment.sequenceId,
        step: enrolment.step,
      });
    } catch (error) {
      // Unreadable for good: the lead leaves the sequence, with why (a deadline left due would fire again).
      if (!patched(SURVIVES_FAILURES)) throw error;
      answer = { gone: `the step could not be read: ${failureText(error)}` };
    }
    return {
      kind: 'sequence_step',
      eventId: `sequence:${enrolment.id}:${enrolment.step}`,
      occurredAt: now(),
      source: 'system',
      enrolmentId: enrolment.id,
      step: enrolment.step,
      fireAt: deadline.fireAt,
      ...answer,
    };
  }
}
