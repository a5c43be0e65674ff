// Builds the Temporal worker: every workflow, every activity, with its dependencies injected.
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type pg from 'pg';
import { createActivities, type ActivityDeps } from '../../activities';
import { importTaskQueue } from '../../shared/ids';
import { encryptedDataConverter } from '../../shared/codec';
import type { KeyRing } from '../../shared/crypto';
import { notificationOutcomes, partnerSyncOutcomes, webhookDeliveryOutcomes } from '../common/metrics';

export const WORKFLOWS_PATH = require.resolve('../../workflows');
/** The workflow bundle `npm run build` makes once, at the root of its output (dist/), for the compiled worker. */
export const WORKFLOW_BUNDLE_FILE = 'workflow-bundle.js';

/** No workflow runs local activities (the SDK wants a slot all the same): one, counted against the pool. */
const LOCAL_ACTIVITY_SLOTS = 1;
/** Connections kept back for the outbound webhook dispatcher's passes. */
const DISPATCHER_CONNECTIONS = 1;

/** Activity and local activity slots that fit the pool (the SDK's defaults are 100 each). */
export function activitySlots(pool: pg.Pool): {
  maxConcurrentActivityTaskExecutions: number;
  maxConcurrentLocalActivityExecutions: number;
} {
  const connections = pool.options.max ?? 10;
  const local = LOCAL_ACTIVITY_SLOTS;
  return {
    maxConcurrentLocalActivityExecutions: local,
    maxConcurrentActivityTaskExecutions: Math.max(1, connections - local - DISPATCHER_CONNECTIONS),
  };
}

export interface WorkerSetup {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  pool: pg.Pool;
  /** A prebuilt bundle (tests build one per run); otherwise the workflows are bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  maxCachedWorkflows?: number;
  /** Notification channels and their defaults (see ActivityDeps). */
  notify?: Omit<ActivityDeps, 'pool'>;
  /**
   * Encrypts every payload the worker writes and decrypts what clients wrote (LEADRELAY_ENCRYPTION_KEYS). Every
   * deployed worker has one; without it payloads are plain JSON (only the history-recording script does that).
   */
  keyRing?: KeyRing;
}

/** The worker of the journeys' queue (TEMPORAL_TASK_QUEUE): every workflow, every activity. */
export async function createWorker(options: WorkerSetup): Promise<Worker> {
  return Worker.create({
    ...common(options),
    taskQueue: options.taskQueue,
    // Every activity slot can have its connection at once: an activity never waits on the pool (and times out
    // there) because the SDK ran more of them than Postgres connections exist.
    ...activitySlots(options.pool),
    maxCachedWorkflows: options.maxCachedWorkflows,
  });
}

/** Imports running side by side per worker process; each batch works through its rows several at a time. */
const IMPORT_SLOTS = 2;

/**
 * The worker of the imports' queue (importTaskQueue): the same code, polled by the same process with few slots, so
 * an import's own workflow tasks never queue behind the journeys it starts, and imports cannot take the slots
 * live journeys need.
 */
export async function createImportWorker(options: WorkerSetup): Promise<Worker> {
  return Worker.create({
    ...common(options),
    taskQueue: importTaskQueue(options.taskQueue),
    maxConcurrentWorkflowTaskExecutions: IMPORT_SLOTS,
    maxConcurrentActivityTaskExecutions: IMPORT_SLOTS,
    maxConcurrentLocalActivityExecutions: 1,
    maxCachedWorkflows: 4 * IMPORT_SLOTS,
  });
}

function common(options: WorkerSetup) {
  return {
    connection: options.connection,
    namespace: options.namespace,
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: WORKFLOWS_PATH }),
    ...(options.keyRing ? { dataConverter: encryptedDataConverter(options.keyRing) } : {}),
    activities: createActivities({
      pool: options.pool,
      metrics: {
        partnerSync: (partner, outcome) => partnerSyncOutcomes.inc({ partner, outcome }),
        notification: (channel, outcome) => notificationOutcomes.inc({ channel, outcome }),
        webhookDelivery: (outcome) => webhookDeliveryOutcomes.inc({ outcome }),
      },
      journeyTaskQueue: options.taskQueue,
      ...options.notify,
    }),
    // In-flight activities get time to finish on shutdown instead of being cancelled at once.
    shutdownGraceTime: '10 seconds',
  } satisfies Partial<WorkerOptions>;
}
