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
import type { createActivities } from '../activities';
import { isTerminal, type PartnerName } from '../shared/lifecycle';
import {
  changeStatusUpdate,
  leadEventSignal,
  leadStateQuery,
  repushSyncSignal,
  resendDeliverySignal,
} from '../shared/journey/messages';
import { decide, initialState, leadSourceLabel, validateStatusChange, view } from '../shared/journey/decide';
import { dueDeadlines, planDeadlines } from '../shared/journey/followUps';
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

type Activities = ReturnType<typeof createActivities>;

const RETRY = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' } as const;

const { loadJourneyContext } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  summary: 'load lead projection and policy',
  // A lead that does not exist will not appear by retrying.
  retry: { ...RETRY, nonRetryableErrorTypes: ['lead_not_found'] },
});

const { prepareNotification } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  summary: 'plan notification deliveries',
  retry: RETRY,
});

/** Sends one delivery; retries honour the provider's Retry-After, final failures are recorded, not retried. */
const { sendDelivery } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  summary: 'send notification',
  retry: {
    initialInterval: '5 seconds',
    backoffCoefficient: 2,
    maximumInterval: '10 minutes',
    maximumAttempts: 30,
  },
});

/**
 * One status push to one partner. 429, 5xx and timeouts come back as retryable failures (with the partner's
 * Retry-After as the next delay); other errors are recorded by the activity and answered, not thrown. A partner
 * down for a day gives up, recorded with a staff task.
 */
const { pushStatusToPartner } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  scheduleToCloseTimeout: '24 hours',
  summary: 'push status to partner',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '5 minutes',
    nonRetryableErrorTypes: ['sync_not_found'],
  },
});

const { abandonDelivery } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  summary: 'record abandoned notification',
  retry: RETRY,
});

const { abandonPartnerSync } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  summary: 'record abandoned partner push',
  retry: RETRY,
});

/** Records a decision's effects, with a summary the Temporal UI shows (statuses and kinds only, no personal data). */
function recordJourneyChange(summary: string, args: Parameters<Activities['recordJourneyChange']>[0]) {
  return proxyActivities<Activities>({
    startToCloseTimeout: '30 seconds',
    summary,
    retry: RETRY,
  }).recordJourneyChange(args);
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
  // Runs recorded before follow-up timers existed replay without them; every new run has them.
  const followUpsEnabled = patched('follow-up-deadlines');
  const deliveriesEnabled = patched('notification-delivery');
  const pushesEnabled = patched('partner-push');
  const pending: LeadEvent[] = [...(input.pending ?? [])];
  let inFlight = 0;
  let deliveriesInFlight = 0;
  let pushesInFlight = 0;
  // One queue per partner, drained in order by its own coroutine: a partner that is down delays only itself.
  const pushQueues = new Map<PartnerName, string[]>();
  let lastEventId: string | undefined;
  // Signals that arrive before the state is ready wait in `pending` like any other.
  setHandler(leadEventSignal, (event) => {
    pending.push(event);
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
  setHandler(leadStateQuery, () => {
    if (!loaded) {
      throw ApplicationFailure.create({
        type: 'journey_loading',
        message: 'the journey is loading its state; ask again',
      });
    }
    return {
      ...view(loaded.state, loaded.policy, nextFollowUp(loaded.state, loaded.policy)),
      lastEventId,
      pendingEvents: pending.length,
      pendingEffects: inFlight,
      pendingDeliveries: deliveriesInFlight,
      pendingPushes: pushesInFlight,
      followUps: followUpsEnabled ? planDeadlines(loaded.state, loaded.policy.followUps) : [],
    };
  });
  if (!loaded) {
    const context = await loadJourneyContext({ workspaceId: input.workspaceId, leadId: input.leadId });
    loaded = { policy: context.policy, state: input.state ?? stateFromContext(input, context, pending[0]) };
  }
  const policy = loaded.policy;
  let current: JourneyState = loaded.state;
  let followUpAt = nextFollowUp(current, policy);

  const publish = (next: JourneyState) => {
    const previous = current;
    current = next;
    loaded = { policy, state: next };
    if (
      previous.status !== next.status ||
      previous.propertyId !== next.propertyId ||
      previous.source !== next.source
    ) {
      upsertAttributes(next);
    }
  };
  upsertAttributes(current);
  if (followUpAt) upsertSearchAttributes([{ key: NextFollowUpAtAttribute, value: new Date(followUpAt) }]);

  /** Sends a planned delivery, after quiet hours when it must wait; an SMS opt-out cancels a waiting SMS. */
  const sendPlanned = async (plan: { deliveryKey: string; channel: string; notBefore?: string }) => {
    deliveriesInFlight += 1;
    try {
      const waitMs = plan.notBefore ? Date.parse(plan.notBefore) - Date.now() : 0;
      if (waitMs > 0) {
        await condition(() => plan.channel === 'sms' && current.smsOptedOut, waitMs, {
          summary: 'quiet hours',
        });
      }
      await sendDelivery({ deliveryKey: plan.deliveryKey, smsOptedOut: current.smsOptedOut });
    } catch (error) {
      // Retries are exhausted: the row becomes `failed` with its last error, for operators to resend. Runs from
      // before resends left it pending; their replays must too.
      if (patched('notification-resend')) {
        await abandonDelivery({
          deliveryKey: plan.deliveryKey,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    } finally {
      deliveriesInFlight -= 1;
    }
  };

  if (deliveriesEnabled) {
    setHandler(resendDeliverySignal, ({ deliveryKey, channel }) => {
      // Runs that took this signal before resends existed ignored it; their replays must too.
      if (patched('notification-resend')) void sendPlanned({ deliveryKey, channel });
    });
  }

  const drainPushes = async (partner: PartnerName, queue: string[]) => {
    while (queue.length > 0) {
      const syncKey = queue[0]!;
      const lead = { workspaceId: current.workspaceId, leadId: current.leadId };
      try {
        await pushStatusToPartner({ ...lead, syncKey });
      } catch (error) {
        await abandonPartnerSync({
          ...lead,
          syncKey,
          error: error instanceof Error ? error.message : String(error),
        });
      } finally {
        queue.shift();
        pushesInFlight -= 1;
      }
    }
    pushQueues.delete(partner);
  };
  const enqueuePush = (partner: PartnerName, syncKey: string) => {
    pushesInFlight += 1;
    const queue = pushQueues.get(partner);
    if (queue) {
      queue.push(syncKey);
      return;
    }
    const fresh = [syncKey];
    pushQueues.set(partner, fresh);
    void drainPushes(partner, fresh);
  };
  if (pushesEnabled) setHandler(repushSyncSignal, ({ syncKey, partner }) => enqueuePush(partner, syncKey));

  /**
   * Writes a decision's effects durably (the activity's idempotency keys make retries harmless), then plans
   * its notifications and starts their deliveries. Answers how many deliveries were queued.
   */
  const execute = async (decision: Decision): Promise<number> => {
    const next = nextFollowUp(decision.state, policy);
    const followUpChanged = next !== followUpAt;
    if (followUpChanged) {
      followUpAt = next;
      upsertSearchAttributes([{ key: NextFollowUpAtAttribute, value: next ? new Date(next) : null }]);
    }
    if (decision.effects.length === 0 && !followUpChanged) return 0;
    inFlight += 1;
    try {
      const entries = decision.effects.flatMap((e) => (e.kind === 'record_history' ? [e.entry] : []));
      const summary = entries.length
        ? `record ${entries.map((e) => `${e.type} ${e.oldStatus ?? '∅'}→${e.newStatus}`).join(', ')}`
        : `record ${decision.effects.map((e) => (e.kind === 'notify' ? e.template : e.kind)).join(', ') || 'next follow-up'}`;
      await recordJourneyChange(summary, {
        workspaceId: decision.state.workspaceId,
        leadId: decision.state.leadId,
        journey: decision.state.journey,
        effects: decision.effects,
        projection: {
          status: decision.state.status,
          statusChangedAt: decision.state.statusChangedAt,
          updatedAt: decision.state.updatedAt,
          propertyId: decision.state.propertyId,
          source: decision.state.source,
          sources: decision.state.sources,
          seq: decision.state.seq - 1,
          ...(followUpsEnabled ? { nextFollowUpAt: next ?? null } : {}),
        },
      });
      if (pushesEnabled) {
        for (const effect of decision.effects) {
          if (effect.kind === 'push_partner') enqueuePush(effect.partner, effect.key);
        }
      }
      if (!deliveriesEnabled) return 0;
      let queued = 0;
      for (const effect of decision.effects) {
        if (effect.kind !== 'notify') continue;
        const plans = await prepareNotification({
          workspaceId: decision.state.workspaceId,
          leadId: decision.state.leadId,
          key: effect.key,
          audience: effect.audience,
          topic: effect.topic,
          template: effect.template,
          priority: effect.priority,
          data: effect.data,
          ...(effect.recipients ? { recipients: effect.recipients } : {}),
        });
        queued += plans.length;
        for (const plan of plans) if (plan.status === 'pending') void sendPlanned(plan);
      }
      return queued;
    } finally {
      inFlight -= 1;
    }
  };

  setHandler(
    changeStatusUpdate,
    async (request) => {
      const decision = decide(current, statusChangeEvent(request), policy, now());
      lastEventId = request.requestId;
      // The validator saw an older state if another change landed in between: refuse with today's answer.
      if (decision.outcome === 'refused' && decision.refusal) throw refusalFailure(decision.refusal);
      publish(decision.state);
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
    const decision = decide(current, event, policy, now());
    lastEventId = event.eventId;
    if (decision.outcome === 'new_journey') return false;
    publish(decision.state);
    await execute(decision);
    return true;
  };

  for (;;) {
    const wake = () =>
      pending.length > 0 ||
      (isTerminal(current.status) && inFlight === 0 && deliveriesInFlight === 0 && pushesInFlight === 0) ||
      shouldContinueAsNew();
    const waitMs = followUpAt ? Date.parse(followUpAt) - Date.now() : undefined;
    if (waitMs === undefined) await condition(wake);
    // The follow-up timer: cancelled by whatever event arrives first, re-armed from the new state.
    else if (waitMs > 0) await condition(wake, waitMs, { summary: 'next follow-up' });
    for (const deadline of followUpsEnabled ? dueDeadlines(current, policy.followUps, now()) : []) {
      await apply({
        kind: 'deadline_fired',
        name: deadline.name,
        fireAt: deadline.fireAt,
        eventId: `deadline:${deadline.name}:${deadline.fireAt}`,
        occurredAt: now(),
        source: 'system',
      });
    }
    while (pending.length > 0 && !shouldContinueAsNew()) {
      const event = pending.shift()!;
      if (!(await apply(event))) {
        // The journey ended; this inquiry opens the next one in a fresh run under the same workflow id.
        await condition(
          () => inFlight === 0 && deliveriesInFlight === 0 && pushesInFlight === 0 && allHandlersFinished(),
        );
        return continueAsNew<typeof leadJourney>({
          ...input,
          state: undefined,
          context: contextOf(current, policy),
          seenEventIds: current.seenEventIds,
          pending: [event, ...pending],
        });
      }
    }
    if (shouldContinueAsNew()) {
      await condition(
        () => inFlight === 0 && deliveriesInFlight === 0 && pushesInFlight === 0 && allHandlersFinished(),
      );
      return continueAsNew<typeof leadJourney>({
        ...input,
        state: current,
        context: contextOf(current, policy),
        pending: [...pending],
      });
    }
    if (isTerminal(current.status) && pending.length === 0) {
      await condition(
        () => inFlight === 0 && deliveriesInFlight === 0 && pushesInFlight === 0 && allHandlersFinished(),
      );
      if (pending.length === 0) return view(current, policy);
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

function statusChangeEvent(request: ChangeStatusRequest): LeadEvent {
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
  };
}
