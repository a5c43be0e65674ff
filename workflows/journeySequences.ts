// The journey's nurture sequences, shell side: after a decision reports trigger moments, an activity reads which of
// the workspace's sequences match (read when needed, never frozen into the run) and the enrolments go through the
// reducer; when an enrolment's step comes due, an activity reads the step as the sequence says now.
import { log, patched, proxyActivities, uuid4 } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import { activeEnrolments, enrolmentOfDeadline, type TriggerMoment } from '../shared/journey/sequences';
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
}

const now = () => new Date().toISOString();

export class JourneySequences {
  /** Trigger moments not yet matched, in decision order; drained by the journey's loop, one at a time. */
  private readonly queue: TriggerJob[] = [];

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
    this.queue.push({ eventId, status: decision.state.status, triggers: decision.triggers });
  }

  hasWork(): boolean {
    return this.queue.length > 0;
  }

  /** Matches every noted moment against the workspace's sequences and applies the enrolments, in order. */
  async drain(apply: (event: LeadEvent) => Promise<unknown>): Promise<void> {
    while (this.queue.length > 0) {
      const job = this.queue.shift()!;
      const { workspaceId, leadId, propertyId } = this.options.current();
      let matches: Awaited<ReturnType<typeof matchSequences>>;
      try {
        matches = await matchSequences({ workspaceId, leadId, propertyId, triggers: job.triggers });
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
