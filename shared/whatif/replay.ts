// A lead's journeys replayed off the record: the inputs go through the reducer one at a time, as the workflow
// shell applies them, with the follow-up deadlines fired from the policy in between (each at its own time), and
// a new journey opened by an inquiry after a terminal status. Pure: nothing is sent or written.
import { DateTime } from 'luxon';
import type { LeadFacts } from '../lifecycle';
import { decide as currentDecide, initialState, leadSourceLabel } from '../journey/decide';
import { deadlineFiredEvent, dueDeadlines, planDeadlines, type Deadline } from '../journey/followUps';
import type { Decision, JourneyPolicy, JourneyState, LeadEvent } from '../journey/types';
import type { TimedEvent } from './inputs';

export interface ReplayLead {
  workspaceId: string;
  leadId: string;
  propertyId: string | null;
  /** The first journey's attributed source (the lead row's). */
  source: string;
  facts: LeadFacts;
  /** Where time-of-day rules are read: each journey takes the zone's offset when it starts, as a run does. */
  zone: string;
}

/** One decision of the replay, with the journey it belongs to. */
export interface ReplayStep {
  at: string;
  event: LeadEvent;
  decision: Decision;
}

export interface ReplayTrace {
  steps: ReplayStep[];
  /** The follow-ups still ahead at `until`, earliest first. */
  pending: Deadline[];
  final?: JourneyState;
}

/** Enough for any real journey; a replay past it is a bug in the policy or the reducer, not a long lead. */
const MAX_DEADLINE_FIRINGS = 10_000;

export function replayLead(
  lead: ReplayLead,
  inputs: readonly TimedEvent[],
  policy: JourneyPolicy,
  until: string,
  decide: typeof currentDecide = currentDecide,
): ReplayTrace {
  const steps: ReplayStep[] = [];
  let state: JourneyState | undefined;
  let journeyPolicy = policy;
  let firings = 0;

  const apply = (event: LeadEvent, at: string) => {
    const decision = decide(state!, event, journeyPolicy, at);
    if (decision.outcome === 'new_journey') return false;
    steps.push({ at, event, decision });
    state = decision.state;
    return true;
  };
  /** A run starting: a new state, the policy's time-of-day offset taken now (the shell loads it at run start). */
  const start = (journey: number, event: LeadEvent, at: string, source: string) => {
    journeyPolicy = { ...policy, utcOffsetMinutes: offsetAt(lead.zone, at) ?? policy.utcOffsetMinutes };
    const fresh = initialState({
      workspaceId: lead.workspaceId,
      leadId: lead.leadId,
      ...(lead.propertyId ? { propertyId: lead.propertyId } : {}),
      journey,
      source,
      now: at,
      facts: lead.facts,
    });
    state = state ? { ...fresh, seenEventIds: [...state.seenEventIds] } : fresh;
  };
  /** Every follow-up whose time comes before `limit`, fired at its time as the shell's timer does. */
  const fireUntil = (limit: string) => {
    while (state) {
      const next = planDeadlines(state, journeyPolicy.followUps)[0];
      if (!next || next.fireAt > limit) return;
      if ((firings += 1) > MAX_DEADLINE_FIRINGS)
        throw new Error(`replay of lead ${lead.leadId} never settles`);
      for (const deadline of dueDeadlines(state, journeyPolicy.followUps, next.fireAt)) {
        apply(deadlineFiredEvent(deadline, next.fireAt), next.fireAt);
      }
    }
  };

  for (const { at, event } of inputs) {
    fireUntil(at);
    if (!state) start(1, event, at, lead.source);
    if (!apply(event, at)) {
      // The lead came back after its journey ended: the next journey opens with this inquiry.
      const channel = event.kind === 'inquiry' ? event.channel : undefined;
      start(state!.journey + 1, event, at, leadSourceLabel(event.source, channel));
      apply(event, at);
    }
  }
  fireUntil(until);
  return {
    steps,
    pending: state ? planDeadlines(state, journeyPolicy.followUps) : [],
    ...(state ? { final: state } : {}),
  };
}

/** The zone's offset from UTC at `at`, in minutes; undefined for an unknown zone. */
function offsetAt(zone: string, at: string): number | undefined {
  const local = DateTime.fromISO(at, { zone });
  return local.isValid ? local.offset : undefined;
}
