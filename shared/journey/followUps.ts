// Follow-up deadlines as a pure function of the journey's state: speed-to-lead, tour reminders, post-tour
// outcome and no-show, stale nudge, auto-lost and referral-partner response deadlines, and each nurture
// sequence's next step. The workflow waits for the earliest; a fired deadline comes back through decide() as a
// `deadline_fired` event (a sequence step as a `sequence_step` event).
import { isTerminal } from '../lifecycle';
import { activeEnrolments, sequenceDeadlineName } from './sequences';
import type { FollowUpPolicy, JourneyState, LeadEvent } from './types';

export const DEFAULT_FOLLOW_UP_POLICY: FollowUpPolicy = {
  speedToLeadMinutes: 15,
  tourReminderHours: [24, 2],
  postTourHours: 2,
  noShowHours: 24,
  staleDays: 7,
  autoLostDays: 30,
  // A Place for Mom advises answering a referral within 2 hours.
  referralResponseMinutes: { apfm: 120 },
};

export type DeadlineName =
  | 'speed_to_lead'
  | `tour_reminder_${number}h`
  | 'post_tour'
  | 'no_show'
  | 'stale'
  | 'auto_lost'
  | `referral_response_${string}`
  | `rule_${string}`
  | `sequence_${string}`;

export interface Deadline {
  name: DeadlineName;
  fireAt: string;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const at = (base: string, offsetMs: number) => new Date(Date.parse(base) + offsetMs).toISOString();

/** The key a fired deadline is remembered by: the same deadline re-armed at another time fires again. */
export function deadlineKey(deadline: Deadline): string {
  return `${deadline.name}@${deadline.fireAt}`;
}

/** A deadline that came due, as the event the journey decides (its id names the deadline and its time). */
export function deadlineFiredEvent(deadline: Deadline, now: string): LeadEvent {
  return {
    kind: 'deadline_fired',
    name: deadline.name,
    fireAt: deadline.fireAt,
    eventId: `deadline:${deadline.name}:${deadline.fireAt}`,
    occurredAt: now,
    source: 'system',
  };
}

/** The deadline a `deadline_fired` event id names (the inverse of deadlineFiredEvent's id), if it is one. */
export function deadlineOfEventId(eventId: string): Deadline | undefined {
  const match = /^deadline:(.+):(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z)$/.exec(eventId);
  return match ? { name: match[1] as DeadlineName, fireAt: match[2]! } : undefined;
}

/** Every deadline the state calls for that has not fired yet, earliest first. */
export function planDeadlines(
  state: JourneyState,
  policy: FollowUpPolicy = DEFAULT_FOLLOW_UP_POLICY,
): Deadline[] {
  const deadlines: Deadline[] = [];
  const add = (name: DeadlineName, fireAt: string) => deadlines.push({ name, fireAt });
  // A sequence's steps are the enrolment's own: they go on after a final status (a lost lead's win-back).
  for (const enrolment of activeEnrolments(state.enrolments)) {
    if (enrolment.nextAt) add(sequenceDeadlineName(enrolment.id), enrolment.nextAt);
  }
  // Follow-ups turned off (policy.enabled false) keep no follow-up timer; enrolled sequences still run.
  if (isTerminal(state.status) || policy.enabled === false) return sorted(deadlines);

  const untouched = state.status === 'new' && state.counters.calls === 0;
  if (untouched) {
    add('speed_to_lead', at(state.createdAt, policy.speedToLeadMinutes * MINUTE));
    for (const [partner, minutes] of Object.entries(policy.referralResponseMinutes)) {
      if (state.source === partner && minutes !== undefined) {
        add(`referral_response_${partner}`, at(state.createdAt, minutes * MINUTE));
      }
    }
  }
  const tourAt = state.facts.tourAt;
  if (state.status === 'tour_scheduled' && tourAt) {
    for (const hours of policy.tourReminderHours) {
      const fireAt = at(tourAt, -hours * HOUR);
      // A reminder whose moment passed before the tour was booked would arrive late and confuse.
      if (fireAt > state.statusChangedAt) add(`tour_reminder_${hours}h`, fireAt);
    }
    add('post_tour', at(tourAt, policy.postTourHours * HOUR));
    add('no_show', at(tourAt, policy.noShowHours * HOUR));
  }
  for (const custom of state.customDeadlines ?? []) add(custom.name as DeadlineName, custom.fireAt);
  add('stale', at(state.updatedAt, policy.staleDays * DAY));
  add('auto_lost', at(state.updatedAt, policy.autoLostDays * DAY));

  const fired = new Set(state.firedDeadlines ?? []);
  return sorted(deadlines.filter((deadline) => !fired.has(deadlineKey(deadline))));
}

function sorted(deadlines: Deadline[]): Deadline[] {
  return deadlines.sort((a, b) => (a.fireAt < b.fireAt ? -1 : a.fireAt > b.fireAt ? 1 : 0));
}

/** The deadlines due at `now`, earliest first. */
export function dueDeadlines(
  state: JourneyState,
  policy: FollowUpPolicy | undefined,
  now: string,
): Deadline[] {
  return planDeadlines(state, policy).filter((deadline) => deadline.fireAt <= now);
}
