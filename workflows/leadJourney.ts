// The lead journey: one workflow per lead, the durable shell around the pure reducer in shared/journey.
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import type { createActivities } from '../activities';
import { isTerminal } from '../shared/lifecycle';
import {
  changeStatusUpdate,
  leadEventSignal,
  leadStateQuery,
  repushSyncSignal,
  resendDeliverySignal,
} from '../shared/journey/messages';
import {
  decide,
  initialState,
  leadSourceLabel,
  originPartner,
  validateStatusChange,
  view,
} from '../shared/journey/decide';
import { deadlineFiredEvent, dueDeadlines, planDeadlines } from '../shared/journey/followUps';
import { activeEnrolments, enrolmentOfDeadline } from '../shared/journey/sequences';
import type {
  ChangeStatusRequest,
  Decision,
  JourneyContext,
  JourneyPolicy,
  JourneyState,
  JourneyView,
  LeadEvent,
  LeadJourneyInput,
  Refusal,
} from '../shared/journey/types';
import {
  LeadSourceAttribute,
  LeadStatusAttribute,
  NextFollowUpAtAttribute,
  PropertyIdAttribute,
  WorkspaceIdAttribute,
} from '../shared/searchAttributes';
import { POSTGRES_OUTAGE, RETRY, SURVIVES_FAILURES } from './activityBounds';
import { JourneyEffects } from './journeyEffects';
import { policyForDecision, READS_POLICY } from './livePolicy';
import { JourneySequences } from './journeySequences';

type Activities = ReturnType<typeof createActivities>;

const { loadJourneyContext } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: POSTGRES_OUTAGE,
  summary: 'load lead projection and policy',
  // A lead that does not exist will not appear by retrying.
  retry: { ...RETRY, nonRetryableErrorTypes: ['lead_not_found'] },
});

/**
 * Search attributes as the run has them (set at start by the client, then by upserts): an upsert names only
 * what differs, and none is made when nothing does.
 */
class Attributes {
  private readonly current = new Map<string, unknown>();

  constructor() {
    for (const pair of workflowInfo().typedSearchAttributes.getAll()) {
      const value = pair.value instanceof Date ? pair.value.toISOString() : pair.value;
      this.current.set(pair.key.name, value);
    }
  }

  sync(state: JourneyState, nextFollowUpAt: string | null | undefined): void {
    const wanted: SearchAttributeUpdatePair[] = [
      { key: LeadStatusAttribute, value: state.status },
      { key: LeadSourceAttribute, value: state.source },
      { key: WorkspaceIdAttribute, value: state.workspaceId },
      ...(state.propertyId ? [{ key: PropertyIdAttribute, value: state.propertyId }] : []),
    ];
    if (nextFollowUpAt !== undefined) {
      wanted.push({ key: NextFollowUpAtAttribute, value: nextFollowUpAt ? new Date(nextFollowUpAt) : null });
    }
    const changed = wanted.filter((pair) => {
      const value = pair.value instanceof Date ? pair.value.toISOString() : pair.value;
      return (this.current.get(pair.key.name) ?? null) !== value;
    });
    if (changed.length === 0) return;
    for (const pair of changed) {
      this.current.set(pair.key.name, pair.value instanceof Date ? pair.value.toISOString() : pair.value);
    }
    upsertSearchAttributes(changed);
  }
}

function upsertAttributes(state: JourneyState): void {
  upsertSearchAttributes([
    { key: LeadStatusAttribute, value: state.status },
    { key: LeadSourceAttribute, value: state.source },
    { key: WorkspaceIdAttribute, value: state.workspaceId },
    ...(state.propertyId ? [{ key: PropertyIdAttribute, value: state.propertyId }] : []),
  ]);
}

const DEFAULT_HISTORY_LIMIT = 10_000;

function now(): string {
  // Inside a workflow Date is Temporal's deterministic clock.
  return new Date().toISOString();
}

/** A final status ends the run once its sequences are done too (a lost lead's win-back goes on). */
function journeyOver(state: JourneyState): boolean {
  return isTerminal(state.status) && activeEnrolments(state.enrolments).length === 0;
}

function refusalFailure(refusal: Refusal): ApplicationFailure {
  return ApplicationFailure.create({
    type: refusal.code,
    message: refusal.message,
    details: [refusal.details],
    nonRetryable: true,
  });
}

/** The state a run starts from when nothing was carried: the lead's projection in Postgres. */
function stateFromContext(
  input: LeadJourneyInput,
  context: JourneyContext,
  first: LeadEvent | undefined,
): JourneyState {
  const state = freshState(input, context, first);
  return input.seenEventIds ? { ...state, seenEventIds: [...input.seenEventIds] } : state;
}

function freshState(
  input: LeadJourneyInput,
  context: JourneyContext,
  first: LeadEvent | undefined,
): JourneyState {
  const startsNewJourney = isTerminal(context.status) && first?.kind === 'inquiry';
  if (context.seq === 0 || startsNewJourney) {
    const source =
      startsNewJourney && first
        ? leadSourceLabel(first.source, first.kind === 'inquiry' ? first.channel : undefined)
        : context.source;
    return initialState({
      workspaceId: input.workspaceId,
      leadId: input.leadId,
      propertyId: context.propertyId,
      journey: startsNewJourney ? context.journey + 1 : context.journey,
      source,
      // A new journey starts on the workflow clock (the lead row may be older: a later inquiry, a replayed event).
      now: now(),
      facts: context.facts,
    });
  }
  // A run restarted mid-journey (e.g. after an operator terminated it) continues where the projection is.
  const fresh = initialState({
    workspaceId: input.workspaceId,
    leadId: input.leadId,
    propertyId: context.propertyId,
    journey: context.journey,
    source: context.source,
    now: context.createdAt,
    facts: context.facts,
  });
  return {
    ...fresh,
    status: context.status,
    statusChangedAt: context.statusChangedAt,
    sources: context.sources,
    seq: context.seq + 1,
    counters: { ...fresh.counters, events: 1 },
  };
}

export async function leadJourney(input: LeadJourneyInput): Promise<JourneyView> {
  // Runs recorded before each change replay without it; every new run has them all. Each patch costs the history
  // a marker and an upsert of TemporalChangeVersion, so a newer patch implies the ones before it: runs from
  // 'first-read' record that one marker, runs from 'compact-history' recorded three (it, live-policy, sequences),
  // runs before it up to eight.
  // fewer-tasks: a decision's recording also matches its sequence triggers, and a run whose starter read the live
  // policy for its first event (`policyReadFor`) decides that event with it: a new lead, one activity.
  const fewerTasks = patched('fewer-tasks');
  // first-read: a run that loads its context reads the live policy for its first event in the same activity.
  const firstRead = fewerTasks || patched('first-read');
  const compact = firstRead || patched('compact-history');
  const followUpsEnabled = compact || patched('follow-up-deadlines');
  const deliveriesEnabled = compact || patched('notification-delivery');
  const pushesEnabled = compact || patched('partner-push');
  // Staff changes take their turn behind the events that arrived before them, and effects are recorded in
  // the order they were decided.
  const inArrivalOrder = compact || patched('arrival-order');
  /** Resends of notifications; asked where a run first needs to know, as runs before it did. */
  const resends = () => compact || patched('notification-resend');
  // They also upsert search attributes only when they change, once per decision (the client's at start are kept).
  const attributes = compact ? new Attributes() : undefined;
  // Not implied by 'compact-history' (runs recorded with it alone predate them), implied by 'first-read'.
  // Connected partners, active rules and the time zone are read when an event is decided, not once per run.
  const livePolicy = firstRead || patched('live-policy');
  // Nurture sequences: enrolments read from Postgres when a trigger happens, steps as durable deadlines.
  const sequencesEnabled = firstRead || patched('sequences');

  // ---- set up: handlers first, so signals and queries that arrive during the load are kept or answered ----
  const pending: LeadEvent[] = [...(input.pending ?? [])];
  /** Events ever queued, and taken from the queue to be decided: a staff change waits for those before it. */
  let received = pending.length;
  let taken = 0;
  /** Turns of staff changes waiting to be decided (the count of events received before each). */
  const waitingChanges: number[] = [];
  const changeDue = () => waitingChanges.some((turn) => turn <= taken);
  /** Staff changes received and decided: they are decided in the order they arrived. */
  let changesReceived = 0;
  let changesDecided = 0;
  let lastEventId: string | undefined;
  setHandler(leadEventSignal, (event) => {
    pending.push(event);
    received += 1;
  });

  // Carried state keeps its place; a fresh run starts from the lead's projection, given by whoever started
  // it (services, continue-as-new) or else loaded here, in which case queries wait for the load.
  let loaded: { policy: JourneyPolicy; state: JourneyState } | undefined = input.context
    ? {
        policy: input.context.policy,
        state: input.state ?? stateFromContext(input, input.context, pending[0]),
      }
    : undefined;
  const nextFollowUp = (state: JourneyState, policy: JourneyPolicy): string | undefined =>
    followUpsEnabled ? planDeadlines(state, policy.followUps)[0]?.fireAt : undefined;
  const sequences = new JourneySequences({ enabled: sequencesEnabled, current: () => current });
  // Effects run only after the load; until then the query reports nothing under way.
  const work = new JourneyEffects({
    current: () => current,
    deliveries: deliveriesEnabled,
    pushes: pushesEnabled,
    followUps: followUpsEnabled,
    ordered: inArrivalOrder,
    resends,
    // An effect that finally fails is recorded as failed and the journey goes on: 'bounded-effects' is asked on a
    // failure only, so a journey without one records no fourth marker.
    survivesFailures: () => patched(SURVIVES_FAILURES),
    // Trigger moments matched by the recording itself: no matchSequences activity per decision.
    ...(fewerTasks ? { matching: sequences } : {}),
  });
  setHandler(leadStateQuery, () => {
    if (!loaded) {
      throw ApplicationFailure.create({
        type: 'journey_loading',
        message: 'the journey is loading its state; ask again',
      });
    }
    const inFlight = work.inFlight;
    return {
      ...view(loaded.state, loaded.policy, nextFollowUp(loaded.state, loaded.policy)),
      lastEventId,
      pendingEvents: pending.length,
      pendingEffects: inFlight.effects,
      pendingDeliveries: inFlight.deliveries,
      pendingPushes: inFlight.pushes,
      followUps: followUpsEnabled ? planDeadlines(loaded.state, loaded.policy.followUps) : [],
    };
  });
  /** The live policy read with the context, for the event it was read for (first-read, fewer-tasks). */
  let primed: { eventId: string; live: Partial<JourneyPolicy> } | undefined;
  const readFor = input.policyReadFor;
  if (
    fewerTasks &&
    input.context &&
    !input.state &&
    readFor !== undefined &&
    readFor === pending[0]?.eventId
  ) {
    // The starter read today's partners, rules and zone when it stored this event: they decide it.
    const { connectedPartners, rules, timeZone } = input.context.policy;
    primed = { eventId: readFor, live: { connectedPartners, rules, timeZone } };
  }
  if (!loaded) {
    // The load also reads the live policy for the first event waiting (an inquiry may bring the property): that
    // event is then decided without an activity of its own, one activity and one workflow task fewer per new lead.
    const first = firstRead && !input.state ? pending[0] : undefined;
    const context = await loadJourneyContext({
      workspaceId: input.workspaceId,
      leadId: input.leadId,
      ...(first && READS_POLICY.has(first.kind)
        ? { livePolicyFor: { propertyId: first.kind === 'inquiry' ? first.propertyId : undefined } }
        : {}),
    });
    if (first && context.live) primed = { eventId: first.eventId, live: context.live };
    loaded = { policy: context.policy, state: input.state ?? stateFromContext(input, context, pending[0]) };
  }
  let policy = loaded.policy;
  let current: JourneyState = loaded.state;
  /** Reads today's partners, rules and zone before `event` is decided (runs from before: the run's policy). */
  const refreshPolicy = async (event: LeadEvent) => {
    if (!livePolicy) return;
    // Read with the context for this very event: taken once, by the event it was read for.
    const read = primed;
    primed = undefined;
    if (read?.eventId === event.eventId && !current.seenEventIds.includes(event.eventId)) {
      policy = { ...policy, ...read.live };
      return;
    }
    policy = await policyForDecision(policy, current, event);
  };
  let followUpAt = nextFollowUp(current, policy);
  /** Nothing recording, sending or pushing, and no handler mid-way: the run may end or continue as new. */
  const allWorkFinished = () => work.idle() && allHandlersFinished();

  const publish = (next: JourneyState) => {
    const previous = current;
    current = next;
    loaded = { policy, state: next };
    if (attributes) return; // synced once per decision, with the next follow-up (execute)
    if (
      previous.status !== next.status ||
      previous.propertyId !== next.propertyId ||
      previous.source !== next.source
    ) {
      upsertAttributes(next);
    }
  };
  if (attributes) {
    attributes.sync(current, followUpsEnabled ? (followUpAt ?? null) : undefined);
  } else {
    upsertAttributes(current);
    if (followUpAt) upsertSearchAttributes([{ key: NextFollowUpAtAttribute, value: new Date(followUpAt) }]);
  }

  if (deliveriesEnabled) {
    setHandler(resendDeliverySignal, ({ deliveryKey, channel }) => {
      // Runs that took this signal before resends existed ignored it; their replays must too.
      if (resends()) void work.send({ deliveryKey, channel });
    });
  }
  if (pushesEnabled)
    setHandler(repushSyncSignal, ({ syncKey, partner }) => work.enqueuePush(partner, syncKey));

  /** Moves NextFollowUpAt with the decision, then executes its effects; answers the deliveries queued. */
  const execute = (decision: Decision): Promise<number> => {
    const next = nextFollowUp(decision.state, policy);
    const followUpChanged = next !== followUpAt;
    if (attributes) {
      followUpAt = next;
      attributes.sync(decision.state, followUpsEnabled ? (next ?? null) : undefined);
    } else if (followUpChanged) {
      followUpAt = next;
      upsertSearchAttributes([{ key: NextFollowUpAtAttribute, value: next ? new Date(next) : null }]);
    }
    if (decision.effects.length === 0 && !followUpChanged) return Promise.resolve(0);
    return work.execute(decision, next);
  };

  setHandler(
    changeStatusUpdate,
    async (request) => {
      // A change naming a partner (`updated_by`) is the requester's word: that partner still gets the push.
      // Asked only then, so other runs record no marker; runs decided before it trusted the word.
      const event = statusChangeEvent(
        request,
        originPartner(request.source) !== undefined && patched('signed-origin'),
      );
      const order = changesReceived++;
      if (inArrivalOrder) {
        // Events that arrived first are decided first (an inquiry signalled just before this change is the
        // lead's first event, not a later touch).
        const turn = received;
        waitingChanges.push(turn);
        // Read while waiting, so that once its turn comes the change is decided at once, before anything else;
        // changes whose reads finish out of order still go in the order they came.
        await refreshPolicy(event);
        await condition(() => taken >= turn && (!livePolicy || changesDecided === order));
        waitingChanges.splice(waitingChanges.indexOf(turn), 1);
      } else {
        await refreshPolicy(event);
      }
      const decision = decide(current, event, policy, now());
      changesDecided += 1;
      lastEventId = request.requestId;
      // The validator saw an older state if another change landed in between: refuse with today's answer.
      if (decision.outcome === 'refused' && decision.refusal) throw refusalFailure(decision.refusal);
      publish(decision.state);
      sequences.note(decision, request.requestId);
      const queued = await execute(decision);
      return {
        success: true,
        new_status: decision.state.status,
        updated_at: decision.state.statusChangedAt,
        notifications_sent: queued,
        workflow_actions_triggered: decision.actionsFired ?? [],
      };
    },
    {
      validator: (request) => {
        const refusal = validateStatusChange(current, request.to, policy, request.facts);
        if (refusal) throw refusalFailure(refusal);
      },
    },
  );

  const historyLimit = input.historyLimit ?? DEFAULT_HISTORY_LIMIT;
  const shouldContinueAsNew = () =>
    workflowInfo().continueAsNewSuggested || workflowInfo().historyLength >= historyLimit;

  /** Applies one event through the reducer; false when it opens the next journey (the run must end). */
  const apply = async (event: LeadEvent): Promise<boolean> => {
    // Imported leads start at their stage (decide's `imported` event); runs from before imports never took one.
    if (event.kind === 'imported' && !patched('imported-start')) return true;
    // An API inquiry naming a partner as its source is the caller's word (the status change handler marks its
    // own); a worker from before signed-origin decided it as the partner's, and its runs replay so.
    if (event.sourceUnproven && !patched('signed-origin')) event = { ...event, sourceUnproven: undefined };
    const decision = decide(current, event, policy, now());
    lastEventId = event.eventId;
    if (decision.outcome === 'new_journey') {
      // This journey's sequences end with it (their rows say so); the next run starts without them.
      if (decision.effects.length > 0) {
        publish(decision.state);
        await execute(decision);
      }
      return false;
    }
    publish(decision.state);
    sequences.note(decision, event.eventId);
    await execute(decision);
    return true;
  };

  /** Waits until all work has finished, matching sequences for whatever triggered them meanwhile. */
  const settle = async () => {
    for (;;) {
      await sequences.drain(apply);
      await condition(() => allWorkFinished() || sequences.hasWork());
      if (!sequences.hasWork()) return;
    }
  };

  /** Waits for the next event, the run's end, or the next follow-up, whichever comes first. */
  const waitForWork = async () => {
    const wake = () =>
      (pending.length > 0 && !changeDue()) ||
      (journeyOver(current) && work.idle()) ||
      sequences.hasWork() ||
      shouldContinueAsNew();
    const waitMs = followUpAt ? Date.parse(followUpAt) - Date.now() : undefined;
    if (waitMs === undefined) await condition(wake);
    // The follow-up timer: cancelled by whatever event arrives first, re-armed from the new state.
    else if (waitMs > 0) await condition(wake, waitMs, { summary: 'next follow-up' });
  };

  /** Fires the follow-ups that are due, each an event through the same reducer. */
  const fireDueFollowUps = async () => {
    for (const deadline of followUpsEnabled ? dueDeadlines(current, policy.followUps, now()) : []) {
      if (enrolmentOfDeadline(deadline.name) !== undefined) {
        const step = await sequences.stepEvent(deadline);
        if (step) {
          await refreshPolicy(step);
          await apply(step);
        }
        continue;
      }
      const fired = deadlineFiredEvent(deadline, now());
      await refreshPolicy(fired);
      await apply(fired);
    }
  };

  // ---- run: apply events one at a time until the journey ends, continues as new, or opens the next one ----
  for (;;) {
    await waitForWork();
    await fireDueFollowUps();
    await sequences.drain(apply);
    // A staff change whose turn has come is decided before the events that arrived after it; one still waiting
    // for its turn gets it even when the run is about to continue as new (the run ends once it has finished).
    while (pending.length > 0 && !changeDue() && (!shouldContinueAsNew() || waitingChanges.length > 0)) {
      // Read before the event is taken: a staff change arriving meanwhile still waits for it.
      await refreshPolicy(pending[0]!);
      const event = pending.shift()!;
      taken += 1;
      if (!(await apply(event))) {
        // The journey ended; this inquiry opens the next one in a fresh run under the same workflow id.
        await settle();
        return continueAsNew<typeof leadJourney>({
          ...input,
          policyReadFor: undefined,
          state: undefined,
          context: contextOf(current, policy),
          seenEventIds: current.seenEventIds,
          pending: [event, ...pending],
        });
      }
      await sequences.drain(apply);
    }
    if (shouldContinueAsNew()) {
      await settle();
      return continueAsNew<typeof leadJourney>({
        ...input,
        policyReadFor: undefined,
        state: current,
        context: contextOf(current, policy),
        pending: [...pending],
      });
    }
    if (journeyOver(current) && pending.length === 0) {
      await settle();
      if (pending.length === 0 && journeyOver(current)) return view(current, policy);
    }
  }
}

/** The projection a next run would load, taken from the state at hand (continue-as-new). */
function contextOf(state: JourneyState, policy: JourneyPolicy): JourneyContext {
  return {
    policy,
    propertyId: state.propertyId,
    status: state.status,
    journey: state.journey,
    seq: state.seq - 1,
    source: state.source,
    sources: state.sources,
    facts: state.facts,
    createdAt: state.createdAt,
    statusChangedAt: state.statusChangedAt,
  };
}

function statusChangeEvent(request: ChangeStatusRequest, sourceUnproven: boolean): LeadEvent {
  return {
    kind: 'status_change',
    eventId: request.requestId,
    occurredAt: request.occurredAt,
    source: request.source,
    actor: request.actor,
    to: request.to,
    reason: request.reason,
    context: request.context,
    triggerNotifications: request.triggerNotifications,
    facts: request.facts,
    ...(sourceUnproven ? { sourceUnproven } : {}),
  };
}
