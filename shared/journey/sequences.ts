// Nurture sequences inside the journey: what enrols a lead (trigger moments the reducer reports), the enrolment
// each journey carries, and the rules that end one. Pure and workflow-safe: the definitions themselves live in
// Postgres and are read by activities when they are needed.
import { isTerminal, type LeadStatus } from '../lifecycle';

export const SEQUENCE_CHANNELS = ['email', 'sms'] as const;
export type SequenceChannel = (typeof SEQUENCE_CHANNELS)[number];

/** What starts a sequence: the journey's opening inquiry (optionally from given sources), a no-show, a status. */
export type SequenceTrigger =
  | { event: 'inquiry'; sources?: string[] }
  | { event: 'no_show' }
  | { event: 'status'; status: LeadStatus; reasons?: string[] };

/** When an enrolment ends before its last step. An unsubscribe or STOP always ends it. */
export interface SequenceExitRules {
  /** `any`: the lead leaves when its status changes; a list: when it reaches one of them (or a final status). */
  statuses: 'any' | LeadStatus[];
  /** An inbound SMS or a new inquiry from the lead. */
  reply: boolean;
  /** A call with the lead (inbound, or an answered outbound one). */
  call: boolean;
}

export const DEFAULT_EXIT_RULES: SequenceExitRules = { statuses: 'any', reply: true, call: true };

/** Something that happened in a decision and may enrol the lead: matched against triggers by an activity. */
export interface TriggerMoment {
  event: 'inquiry' | 'no_show' | 'status';
  /** The lead's attributed source (inquiry). */
  source?: string;
  status?: LeadStatus;
  /** The reason given with a status change (e.g. why a lead was lost). */
  reason?: string;
}

export type EnrolmentState = 'active' | 'completed' | 'exited' | 'stopped';

/** One lead's run through one sequence, carried in the journey's state. */
export interface Enrolment {
  /** Made by the workflow (deterministic uuid4); the enrolment row's primary key. */
  id: string;
  sequenceId: string;
  state: EnrolmentState;
  /** Steps sent so far: the index of the next step. */
  step: number;
  /** When the next step is due (active enrolments only). */
  nextAt?: string;
  exitOn: SequenceExitRules;
  /** The status the lead had when it was enrolled: "moving on" is leaving it. */
  enrolledStatus: LeadStatus;
  enrolledAt: string;
  /** What enrolled it, for people: `inquiry`, `no_show`, `status:lost`. */
  trigger: string;
  /** The first reply after a step was sent, and the step it answered (for reply rates). */
  repliedAt?: string;
  replyStep?: number;
  exitReason?: string;
  /** Bumped on every change: the row keeps the latest revision only. */
  revision: number;
}

/** A sequence that matched a trigger moment, as the matching activity answers it. */
export interface SequenceMatch {
  sequenceId: string;
  /** Minutes from enrolment to the first step. */
  firstWaitMinutes: number;
  exitOn: SequenceExitRules;
  trigger: string;
}

/** A step as the step activity read it when it came due; absent when the lead must leave instead. */
export interface SequenceStepDefinition {
  channel: SequenceChannel;
  templateId: string;
  /** Minutes until the step after this one; null when this is the last. */
  nextWaitMinutes: number | null;
  exitOn: SequenceExitRules;
}

/** How many finished enrolments a journey keeps in its state (the rows keep them all). */
export const FINISHED_ENROLMENTS_KEPT = 20;

export const SEQUENCE_DEADLINE_PREFIX = 'sequence_';

export function sequenceDeadlineName(enrolmentId: string): `sequence_${string}` {
  return `${SEQUENCE_DEADLINE_PREFIX}${enrolmentId}`;
}

export function enrolmentOfDeadline(name: string): string | undefined {
  return name.startsWith(SEQUENCE_DEADLINE_PREFIX) ? name.slice(SEQUENCE_DEADLINE_PREFIX.length) : undefined;
}

export function activeEnrolments(enrolments: readonly Enrolment[] | undefined): Enrolment[] {
  return (enrolments ?? []).filter((e) => e.state === 'active');
}

/** A delivery of this enrolment must not go any more: the lead left the sequence or staff stopped it. */
export function enrolmentWithdrawn(enrolments: readonly Enrolment[] | undefined, id: string): boolean {
  const enrolment = enrolments?.find((e) => e.id === id);
  return enrolment?.state === 'exited' || enrolment?.state === 'stopped';
}

/** Whether a status change ends an enrolment: any change for `any`, else a listed or final status. */
export function statusEnds(enrolment: Enrolment, to: LeadStatus): boolean {
  if (to === enrolment.enrolledStatus) return false;
  const { statuses } = enrolment.exitOn;
  return statuses === 'any' || statuses.includes(to) || isTerminal(to);
}

/** Whether a sequence's trigger matches a moment; reasons and sources compare case-insensitively. */
export function triggerMatches(trigger: SequenceTrigger, moment: TriggerMoment): boolean {
  if (trigger.event !== moment.event) return false;
  const lower = (value: string | undefined) => (value ?? '').trim().toLowerCase();
  switch (trigger.event) {
    case 'inquiry':
      return !trigger.sources?.length || trigger.sources.some((s) => lower(s) === lower(moment.source));
    case 'no_show':
      return true;
    case 'status':
      if (trigger.status !== moment.status) return false;
      // A reason matches when the change's reason contains it: "lost - chose a competitor" ~ "competitor".
      return !trigger.reasons?.length || trigger.reasons.some((r) => lower(moment.reason).includes(lower(r)));
  }
}

/** The label an enrolment keeps of what enrolled it. */
export function triggerLabel(trigger: SequenceTrigger): string {
  return trigger.event === 'status' ? `status:${trigger.status}` : trigger.event;
}
