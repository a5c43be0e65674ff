// The worker process: runs lead journeys and their activities.
import { NativeConnection } from '@temporalio/worker';
import { createPool } from '../../activities/db/pool';
import { loadConfigOrExit, requireVariables } from '../../shared/config';
import { createLogger } from '../../shared/logger';
import { channelsFromConfig } from './channels';
import { createWorker } from './worker';

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
    notify: channelsFromConfig(config),
  });
  // The Temporal runtime already turns SIGINT/SIGTERM into a graceful worker shutdown.
  logger.info(
    { taskQueue: config.TEMPORAL_TASK_QUEUE, namespace: config.TEMPORAL_NAMESPACE },
    'worker started',
  );
  await worker.run();
  await pool.end();
  await connection.close();
  logger.info('worker stopped');
}

main().catch((error: unknown) => {
  process.stderr.write(`leadrelay worker: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
