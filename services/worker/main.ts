// The worker process: runs lead journeys and their activities.
import { Connection, Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { createPool } from '../../activities/db/pool';
import { loadConfigOrExit, requireVariables } from '../../shared/config';
import { KeyRing } from '../../shared/crypto';
import { createLogger } from '../../shared/logger';
import { channelsFromConfig } from './channels';
import { createWorker } from './worker';
import { WebhookDispatcher } from './webhookDispatcher';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  requireVariables(config, ['TEMPORAL_ADDRESS', 'DATABASE_URL']);
  const logger = createLogger('worker', config.LOG_LEVEL);
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS! });
  const pool = createPool(config.DATABASE_URL!);
  const worker = await createWorker({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    pool,
    notify: {
      ...channelsFromConfig(config),
      keyRing: config.LEADRELAY_ENCRYPTION_KEYS ? KeyRing.parse(config.LEADRELAY_ENCRYPTION_KEYS) : undefined,
    },
  });
  // Outbound webhooks: outbox events become one delivery workflow per message.
  const clientConnection = await Connection.connect({ address: config.TEMPORAL_ADDRESS! });
  const dispatcher = new WebhookDispatcher({
    pool,
    client: new Client({ connection: clientConnection, namespace: config.TEMPORAL_NAMESPACE }),
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    logger,
  });
  dispatcher.start();
  // The Temporal runtime already turns SIGINT/SIGTERM into a graceful worker shutdown.
  logger.info(
    { taskQueue: config.TEMPORAL_TASK_QUEUE, namespace: config.TEMPORAL_NAMESPACE },
    'worker started',
  );
  await worker.run();
  await dispatcher.stop();
  await clientConnection.close();
  await pool.end();
  await connection.close();
  logger.info('worker stopped');
}

main().catch((error: unknown) => {
  process.stderr.write(`leadrelay worker: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
