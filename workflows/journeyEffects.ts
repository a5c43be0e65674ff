// Effect execution of the lead journey: records each decision's effects, drains one ordered push queue per
// partner, sends notification deliveries (waiting out quiet hours), and counts what is still under way.
import { condition, log, proxyActivities } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type { PartnerName } from '../shared/lifecycle';
import type { Decision, JourneyState } from '../shared/journey/types';
import { enrolmentWithdrawn, type SequenceMatch } from '../shared/journey/sequences';
import { failureText, POSTGRES_OUTAGE, RETRY } from './activityBounds';

type Activities = ReturnType<typeof createActivities>;

const { prepareNotification } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: POSTGRES_OUTAGE,
  summary: 'plan notification deliveries',
  retry: RETRY,
});

const { abandonDelivery } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: POSTGRES_OUTAGE,
  summary: 'record abandoned notification',
  retry: RETRY,
});

const { abandonJourneyChange } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: POSTGRES_OUTAGE,
  summary: 'record a journey change that failed',
  retry: RETRY,
});

const { abandonPartnerSync } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: POSTGRES_OUTAGE,
  summary: 'record abandoned partner push',
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

/** Records a decision's effects, with a summary the Temporal UI shows (statuses and kinds only, no personal data). */
function recordJourneyChange(summary: string, args: Parameters<Activities['recordJourneyChange']>[0]) {
  return proxyActivities<Activities>({
    startToCloseTimeout: '30 seconds',
    scheduleToCloseTimeout: POSTGRES_OUTAGE,
    summary,
    retry: RETRY,
  }).recordJourneyChange(args);
}

function summaryOf(decision: Decision): string {
  const entries = decision.effects.flatMap((e) => (e.kind === 'record_history' ? [e.entry] : []));
  if (entries.length)
    return `record ${entries.map((e) => `${e.type} ${e.oldStatus ?? '∅'}→${e.newStatus}`).join(', ')}`;
  return `record ${decision.effects.map((e) => (e.kind === 'notify' ? e.template : e.kind)).join(', ') || 'next follow-up'}`;
}

const errorText = failureText;

export interface JourneyEffectsOptions {
  /** The journey's state as it is now (opt-outs decide whether a waiting SMS still goes). */
  current: () => JourneyState;
  /** Patches of the run (see leadJourney): what runs recorded before each change must replay without. */
  deliveries: boolean;
  pushes: boolean;
  followUps: boolean;
  /** Decisions are recorded one at a time, in the order they were decided. */
  ordered: boolean;
  /** Whether an abandoned delivery is recorded (runs before resends left it pending); asked when needed. */
  resends: () => boolean;
  /**
   * Whether an effect that finally failed (retries bounded, bad data non-retryable) is recorded as failed and
   * the journey goes on; runs from before failed with it, and their replays must too. Asked on a failure.
   */
  survivesFailures: () => boolean;
  /**
   * Given (patch 'fewer-tasks'): a decision's trigger moments are matched by its recording activity. `asked` is
   * told when a recording will answer them, `answered` what it matched (nothing when it failed); runs from before
   * read them with an activity of their own.
   */
  matching?: {
    asked(decision: Decision): void;
    answered(decision: Decision, matches: SequenceMatch[] | undefined): void;
  };
}

export class JourneyEffects {
  private recording = 0;
  private delivering = 0;
  private pushing = 0;
  /** One queue per partner, drained in order by its own coroutine: a partner that is down delays only itself. */
  private readonly pushQueues = new Map<PartnerName, string[]>();
  private lastRecord: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: JourneyEffectsOptions) {}

  /** What the journey's query reports as under way. */
  get inFlight(): { effects: number; deliveries: number; pushes: number } {
    return { effects: this.recording, deliveries: this.delivering, pushes: this.pushing };
  }

  /** Every recording, delivery and push has finished: the run may end or continue as new. */
  idle(): boolean {
    return this.recording === 0 && this.delivering === 0 && this.pushing === 0;
  }

  /**
   * Writes a decision's effects durably (the activity's idempotency keys make retries harmless), queues its
   * partner pushes, then plans its notifications and starts their deliveries. Answers how many deliveries were
   * queued. `nextFollowUpAt` is the projection's next follow-up (undefined: runs from before follow-ups).
   */
  async execute(decision: Decision, nextFollowUpAt: string | null | undefined): Promise<number> {
    this.recording += 1;
    try {
      const args = this.recordArgs(decision, nextFollowUpAt);
      if (this.options.ordered) {
        // A staff change can be decided while the event before it is still being recorded: in turn, its outbox
        // events and partner pushes cannot overtake the earlier ones.
        const turn = this.lastRecord.then(async () => {
          // Awaited right here, not through a helper: an extra await would reorder commands that recorded runs
          // issued together, and their replays would fail.
          let recorded: Awaited<ReturnType<typeof recordJourneyChange>>;
          try {
            recorded = await recordJourneyChange(summaryOf(decision), args);
          } catch (error) {
            if (args.match) this.options.matching?.answered(decision, undefined);
            return this.recordFailed(decision, error);
          }
          this.enqueuePushes(decision);
          if (args.match) this.options.matching?.answered(decision, recorded?.matches);
          return true;
        });
        this.lastRecord = turn.catch(() => undefined);
        if (!(await turn)) return 0;
      } else {
        // Runs from before the change: recorded concurrently, exactly as their histories did.
        try {
          await recordJourneyChange(summaryOf(decision), args);
        } catch (error) {
          await this.recordFailed(decision, error);
          return 0;
        }
        this.enqueuePushes(decision);
      }
      if (!this.options.deliveries) return 0;
      let queued = 0;
      for (const effect of decision.effects) {
        if (effect.kind !== 'notify') continue;
        let plans: Awaited<ReturnType<typeof prepareNotification>>;
        try {
          plans = await prepareNotification({
            workspaceId: decision.state.workspaceId,
            leadId: decision.state.leadId,
            key: effect.key,
            audience: effect.audience,
            topic: effect.topic,
            template: effect.template,
            priority: effect.priority,
            data: effect.data,
            ...(effect.recipients ? { recipients: effect.recipients } : {}),
            // The workflow's clock: quiet hours are judged from the moment of the decision.
            decidedAt: new Date().toISOString(),
          });
        } catch (error) {
          this.failedForGood(`plan ${effect.template}`, error);
          continue;
        }
        queued += plans.length;
        // A sequence's message stays unsent once the lead has left the sequence (or staff stopped it).
        const enrolmentId = effect.data.enrolment_id;
        const withdrawn =
          typeof enrolmentId === 'string'
            ? () => enrolmentWithdrawn(this.options.current().enrolments, enrolmentId)
            : undefined;
        for (const plan of plans) if (plan.status === 'pending') void this.send(plan, withdrawn);
      }
      return queued;
    } finally {
      this.recording -= 1;
    }
  }

  /**
   * A decision's effects could not be recorded for good (Postgres down past the bound, or data that can never be
   * written): a staff task says so and the journey goes on without this decision's pushes and notifications
   * (their rows were never written); the next recorded decision writes the whole projection again. Answers false.
   */
  private async recordFailed(decision: Decision, error: unknown): Promise<false> {
    this.failedForGood('record the change', error);
    const { workspaceId, leadId, seq } = decision.state;
    try {
      await abandonJourneyChange({
        workspaceId,
        leadId,
        seq,
        summary: summaryOf(decision),
        error: errorText(error),
      });
    } catch (again) {
      this.failedForGood('record the failed change', again);
    }
    return false;
  }

  /**
   * An effect's activity failed for good: the journey logs it and goes on. Runs from before 'bounded-effects'
   * failed with it; their replays rethrow it.
   */
  private failedForGood(what: string, error: unknown): void {
    if (!this.options.survivesFailures()) throw error;
    const { workspaceId, leadId } = this.options.current();
    log.error('journey effect failed for good', {
      workspaceId,
      leadId,
      effect: what,
      error: errorText(error),
    });
  }

  private recordArgs(
    decision: Decision,
    nextFollowUpAt: string | null | undefined,
  ): Parameters<Activities['recordJourneyChange']>[0] {
    const { state } = decision;
    const triggers = this.options.matching && this.options.ordered ? decision.triggers : undefined;
    if (triggers?.length) this.options.matching!.asked(decision);
    return {
      ...(triggers?.length ? { match: { triggers } } : {}),
      workspaceId: state.workspaceId,
      leadId: state.leadId,
      journey: state.journey,
      effects: decision.effects,
      projection: {
        status: state.status,
        statusChangedAt: state.statusChangedAt,
        updatedAt: state.updatedAt,
        propertyId: state.propertyId,
        source: state.source,
        sources: state.sources,
        seq: state.seq - 1,
        ...(this.options.followUps ? { nextFollowUpAt: nextFollowUpAt ?? null } : {}),
      },
    };
  }

  private enqueuePushes(decision: Decision): void {
    if (!this.options.pushes) return;
    for (const effect of decision.effects) {
      if (effect.kind === 'push_partner') this.enqueuePush(effect.partner, effect.key);
    }
  }

  /**
   * Sends a planned delivery, after quiet hours when it must wait; an SMS opt-out cancels a waiting SMS, and a
   * sequence's message is withdrawn when the lead leaves the sequence.
   */
  async send(
    plan: { deliveryKey: string; channel: string; notBefore?: string },
    withdrawn?: () => boolean,
  ): Promise<void> {
    this.delivering += 1;
    try {
      const waitMs = plan.notBefore ? Date.parse(plan.notBefore) - Date.now() : 0;
      if (waitMs > 0) {
        await condition(
          () => (plan.channel === 'sms' && this.options.current().smsOptedOut) || (withdrawn?.() ?? false),
          waitMs,
          { summary: 'quiet hours' },
        );
      }
      await sendDelivery({
        deliveryKey: plan.deliveryKey,
        smsOptedOut: this.options.current().smsOptedOut,
        ...(withdrawn?.() ? { withdrawn: 'the lead left the sequence' } : {}),
      });
    } catch (error) {
      // Retries are exhausted: the row becomes `failed` with its last error, for operators to resend. Runs from
      // before resends left it pending; their replays must too.
      if (this.options.resends()) {
        try {
          await abandonDelivery({ deliveryKey: plan.deliveryKey, error: errorText(error) });
        } catch (again) {
          this.failedForGood('record the abandoned delivery', again);
        }
      }
    } finally {
      this.delivering -= 1;
    }
  }

  /** Queues one push behind the partner's earlier ones (a new push, or an operator's re-push). */
  enqueuePush(partner: PartnerName, syncKey: string): void {
    this.pushing += 1;
    const queue = this.pushQueues.get(partner);
    if (queue) {
      queue.push(syncKey);
      return;
    }
    const fresh = [syncKey];
    this.pushQueues.set(partner, fresh);
    void this.drainPushes(partner, fresh);
  }

  private async drainPushes(partner: PartnerName, queue: string[]): Promise<void> {
    while (queue.length > 0) {
      const syncKey = queue[0]!;
      const { workspaceId, leadId } = this.options.current();
      try {
        await pushStatusToPartner({ workspaceId, leadId, syncKey });
      } catch (error) {
        try {
          await abandonPartnerSync({ workspaceId, leadId, syncKey, error: errorText(error) });
        } catch (again) {
          this.failedForGood('record the abandoned push', again);
        }
      } finally {
        queue.shift();
        this.pushing -= 1;
      }
    }
    this.pushQueues.delete(partner);
  }
}
