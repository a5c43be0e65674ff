// The worker's activities, built from injected dependencies so tests swap only the outside world.
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import * as journey from './db/journey';
import { withFailureRules } from './failures';
import * as backfill from './imports/backfill';
import * as imports from '../usecases/imports';
import { JourneyClient } from '../usecases/journeys';
import * as livePolicy from './db/livePolicy';
import * as notify from './notify/deliver';
import * as inboundFetch from './partners/inboundFetch';
import * as poll from './partners/poll';
import * as push from './partners/push';
import * as sequences from './sequences';
import type { KeyRing } from '../shared/crypto';
import type { PolicyCache } from '../data/policies';
import * as webhooks from './webhooks/deliver';

export interface ActivityDeps {
  pool: pg.Pool;
  /** Configured notification channels (a missing one skips its deliveries, recorded as such). */
  channels?: notify.NotificationChannels;
  defaultSlackWebhookUrl?: string;
  /** Base URL of the api, for links in staff notifications. */
  apiUrl?: string;
  /** Public base URL of ingest, where Twilio posts each SMS's delivery status (the workspace's webhook). */
  ingestUrl?: string;
  /** Opens sealed secrets (LEADRELAY_ENCRYPTION_KEYS), e.g. outbound webhook signing secrets. */
  keyRing?: KeyRing;
  /** The HTTP client of outbound webhooks and partner calls (tests may pass another). */
  fetch?: typeof fetch;
  /** Per-request timeout of partner API calls (ms, default 10 s). */
  partnerTimeoutMs?: number;
  /** Counters of finished effects (the worker passes its Prometheus counters; tests need none). */
  metrics?: ActivityMetrics;
  /** Signal-with-start from activities (partner polls deliver new leads and events to journeys). */
  temporal?: Client;
  /** Journey policies kept until Postgres notifies a change (the worker's); none: read at every run's start. */
  policies?: PolicyCache;
  /** The journeys' task queue (TEMPORAL_TASK_QUEUE), where imports start journeys and whose backlog they watch. */
  journeyTaskQueue?: string;
}

export interface ActivityMetrics {
  partnerSync: NonNullable<push.PushDeps['onOutcome']>;
  notification: NonNullable<notify.DeliveryDeps['onOutcome']>;
  webhookDelivery: NonNullable<webhooks.WebhookDeps['onOutcome']>;
}

export function createActivities(deps: ActivityDeps) {
  const delivery: notify.DeliveryDeps = {
    pool: deps.pool,
    channels: deps.channels ?? {},
    defaultSlackWebhookUrl: deps.defaultSlackWebhookUrl,
    apiUrl: deps.apiUrl ?? 'http://localhost:8080',
    ingestUrl: deps.ingestUrl,
    keyRing: deps.keyRing,
    onOutcome: deps.metrics?.notification,
  };
  const pushDeps: push.PushDeps = {
    pool: deps.pool,
    keyRing: deps.keyRing,
    fetch: deps.fetch,
    partnerTimeoutMs: deps.partnerTimeoutMs,
    onOutcome: deps.metrics?.partnerSync,
  };
  const fetchDeps: inboundFetch.InboundFetchDeps = {
    pool: deps.pool,
    keyRing: deps.keyRing,
    temporal: deps.temporal,
    fetch: deps.fetch,
    partnerTimeoutMs: deps.partnerTimeoutMs,
  };
  return withFailureRules({
    loadJourneyContext: (args: journey.LoadJourneyContextArgs) =>
      journey.loadJourneyContext(deps.pool, args, deps.policies),
    currentPolicy: (args: livePolicy.LivePolicyArgs) => livePolicy.loadLivePolicy(deps.pool, args),
    recordJourneyChange: (input: journey.RecordJourneyChangeInput) =>
      journey.recordJourneyChange(deps.pool, input),
    abandonJourneyChange: (input: journey.AbandonJourneyChangeInput) =>
      journey.abandonJourneyChange(deps.pool, input),
    prepareNotification: (request: notify.NotificationRequest) =>
      notify.prepareNotification(delivery, request),
    sendDelivery: (args: notify.SendArgs) => notify.sendDelivery(delivery, args),
    abandonDelivery: (args: { deliveryKey: string; error: string }) => notify.abandonDelivery(delivery, args),
    attemptWebhookDelivery: (args: webhooks.AttemptArgs) =>
      webhooks.attemptWebhookDelivery(
        {
          pool: deps.pool,
          keyRing: deps.keyRing,
          fetch: deps.fetch,
          onOutcome: deps.metrics?.webhookDelivery,
        },
        args,
      ),
    pollIntegration: (args: poll.PollArgs) =>
      poll.pollIntegration(
        {
          pool: deps.pool,
          keyRing: deps.keyRing,
          temporal: deps.temporal,
          fetch: deps.fetch,
          partnerTimeoutMs: deps.partnerTimeoutMs,
        },
        args,
      ),
    completeInboxEvent: (args: { inboxId: string }) => inboundFetch.completeInboxEvent(fetchDeps, args),
    deliverFetchedEvent: (args: { inboxId: string; gaveUp?: string }) =>
      inboundFetch.deliverFetchedEvent(fetchDeps, args),
    pushStatusToPartner: (args: push.PushArgs) => push.pushStatusToPartner(pushDeps, args),
    abandonPartnerSync: (args: push.PushArgs & { error: string }) => push.abandonPartnerSync(pushDeps, args),
    matchSequences: (args: sequences.MatchArgs) => sequences.matchSequences(deps.pool, args),
    loadSequenceStep: (args: sequences.StepArgs) => sequences.loadSequenceStep(deps.pool, args),
    finishWebhookMessage: (args: { messageId: string; outcome: 'delivered' | 'failed' | 'cancelled' }) =>
      webhooks.finishWebhookMessage(deps.pool, args),
    beginImport: (args: { importId: string }) => imports.beginImport(deps.pool, args.importId),
    listBackfillPage: (args: { importId: string }) =>
      backfill.listBackfillPage(
        {
          pool: deps.pool,
          keyRing: deps.keyRing,
          fetch: deps.fetch,
          partnerTimeoutMs: deps.partnerTimeoutMs,
        },
        args,
      ),
    importBatch: (args: { importId: string; limit: number }) => imports.importBatch(importDeps(deps), args),
    finishImport: (args: { importId: string }) => imports.finishImport(deps.pool, args),
    importHeadroom: (args: {
      importId: string;
      window: number;
      maxQueueDelayMs: number;
      recordedThrough: number;
      probe?: { last?: string; next: string };
    }) =>
      imports.importHeadroom(
        { pool: deps.pool, temporal: importClient(deps), journeyTaskQueue: journeyQueue(deps) },
        args,
      ),
    // The import's probe does nothing: the wait for it on the journeys' queue is what it measures.
    probeJourneyQueue: async (): Promise<void> => undefined,
  });
}

function importClient(deps: ActivityDeps): Client {
  if (!deps.temporal) {
    throw ApplicationFailure.create({
      type: 'worker_misconfigured',
      message: 'imports need a Temporal client on the worker',
      nonRetryable: true,
    });
  }
  return deps.temporal;
}

/**
 * Where imports start journeys: the worker's journeys' queue (an import now runs on its own queue beside it); an
 * import started before that runs on the journeys' queue itself.
 */
function journeyQueue(deps: ActivityDeps): string {
  return deps.journeyTaskQueue ?? Context.current().info.taskQueue;
}

/** Import batches start journeys on the journeys' queue. */
function importDeps(deps: ActivityDeps): imports.BatchDeps {
  const context = Context.current();
  return {
    pool: deps.pool,
    journeys: new JourneyClient({ client: importClient(deps), taskQueue: journeyQueue(deps) }),
    onRow: () => context.heartbeat(),
  };
}
