// The worker process: runs lead journeys and their activities.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Connection, Client } from '@temporalio/client';
import { NativeConnection, Runtime, bundleWorkflowCode } from '@temporalio/worker';
import { takesPushes } from '../../activities/partners';
import { PolicyCache } from '../../data/policies';
import { ConfigListener } from '../../data/configCache';
import { createPool } from '../../data/pool';
import { encryptedDataConverter } from '../../shared/codec';
import { loadConfigOrExit, requireVariables } from '../../shared/config';
import { KeyRing } from '../../shared/crypto';
import { createLogger } from '../../shared/logger';
import { ensurePollSchedules } from '../../usecases/pollSchedules';
import { channelsFromConfig } from './channels';
import { createWorkerHttpApp, startWorkerHttp, stopWorkerHttp } from './http';
import {
  createImportWorker,
  createWorker,
  WORKFLOW_BUNDLE_FILE,
  WORKFLOWS_PATH,
  type WorkerSetup,
} from './worker';
import { WebhookDispatcher } from './webhookDispatcher';

/** Postgres connections of one worker: its activity slots are sized to fit them (worker.ts). */
const POOL_SIZE = 20;

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  requireVariables(config, ['TEMPORAL_ADDRESS', 'DATABASE_URL', 'LEADRELAY_ENCRYPTION_KEYS']);
  const logger = createLogger('worker', config.LOG_LEVEL);
  // The SDK's own metrics (task latencies, slots, polls, sticky cache) for Prometheus: once per process, before
  // any connection.
  Runtime.install({
    telemetryOptions: { metrics: { prometheus: { bindAddress: `0.0.0.0:${config.TEMPORAL_METRICS_PORT}` } } },
  });
  const keyRing = KeyRing.parse(config.LEADRELAY_ENCRYPTION_KEYS!);
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS! });
  const pool = createPool(config.DATABASE_URL!, POOL_SIZE);
  // Journey policies are read once and kept until Postgres notifies a change.
  const listener = ConfigListener.forPool(pool, logger);
  listener.start();
  // One client for the outbound webhook dispatcher and for activities that start journeys (partner polls).
  const clientConnection = await Connection.connect({ address: config.TEMPORAL_ADDRESS! });
  const client = new Client({
    connection: clientConnection,
    namespace: config.TEMPORAL_NAMESPACE,
    dataConverter: encryptedDataConverter(keyRing),
  });
  // The production build (dist/) carries the workflow bundle made once at build time; from source (tsx) the
  // worker bundles the workflow code at start, once for both of its workers.
  const bundle = join(__dirname, '..', '..', WORKFLOW_BUNDLE_FILE);
  const workflowBundle = existsSync(bundle)
    ? { codePath: bundle }
    : await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH });
  logger.info(
    { workflowBundle: 'codePath' in workflowBundle ? bundle : 'bundled at start' },
    'workflow code',
  );
  const setup: WorkerSetup = {
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    workflowBundle,
    pool,
    keyRing,
    notify: {
      ...channelsFromConfig(config),
      keyRing,
      temporal: client,
      policies: new PolicyCache(pool, listener, takesPushes),
    },
  };
  const worker = await createWorker(setup);
  // Imports run on their own queue beside the journeys', polled by this process with few slots.
  const importWorker = await createImportWorker(setup);
  // Every pollable integration's schedule exists and polls this task queue (created while Temporal was down,
  // or the task queue changed).
  await ensurePollSchedules({ pool, client, taskQueue: config.TEMPORAL_TASK_QUEUE, logger }).then(
    (report) => logger.info(report, 'poll schedules reconciled'),
    (error: unknown) => logger.warn({ err: error }, 'poll schedules not reconciled'),
  );
  // Outbound webhooks: outbox events become one delivery workflow per message.
  const dispatcher = new WebhookDispatcher({
    pool,
    client,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    logger,
  });
  dispatcher.start();
  const http = await startWorkerHttp(
    createWorkerHttpApp({
      pool,
      temporal: client,
      running: () => [worker, importWorker].every((w) => w.getState() === 'RUNNING'),
      logger,
    }),
    config.WORKER_PORT,
    logger,
  );
  // The Temporal runtime already turns SIGINT/SIGTERM into a graceful worker shutdown.
  logger.info(
    { taskQueue: config.TEMPORAL_TASK_QUEUE, namespace: config.TEMPORAL_NAMESPACE },
    'worker started',
  );
  await Promise.all([worker.run(), importWorker.run()]);
  await stopWorkerHttp(http);
  await dispatcher.stop();
  await clientConnection.close();
  await listener.stop();
  await pool.end();
  await connection.close();
  logger.info('worker stopped');
}

main().catch((error: unknown) => {
  process.stderr.write(`leadrelay worker: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
