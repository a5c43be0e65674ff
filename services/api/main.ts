// The api service: REST for staff and workspaces.
import { takesPushes } from '../../activities/partners';
import { ConfigListener } from '../../data/configCache';
import { PolicyCache } from '../../data/policies';
import { createPool } from '../../data/pool';
import { loadConfigOrExit, publicUrls, requireVariables } from '../../shared/config';
import { KeyRing } from '../../shared/crypto';
import { createLogger } from '../../shared/logger';
import { listen } from '../common/listen';
import { JourneyClient } from '../../usecases/journeys';
import { planChannelsOf } from '../../usecases/whatif';
import { connectClient } from '../common/temporal';
import { createApiApp } from './app';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  requireVariables(config, ['TEMPORAL_ADDRESS', 'DATABASE_URL', 'LEADRELAY_ENCRYPTION_KEYS']);
  const logger = createLogger('api', config.LOG_LEVEL);
  const keyRing = KeyRing.parse(config.LEADRELAY_ENCRYPTION_KEYS!);
  const temporal = await connectClient(config.TEMPORAL_ADDRESS!, config.TEMPORAL_NAMESPACE, keyRing);
  const pool = createPool(config.DATABASE_URL!);
  const journeys = new JourneyClient({ client: temporal, taskQueue: config.TEMPORAL_TASK_QUEUE });
  const listener = ConfigListener.forPool(pool, logger);
  listener.start();
  const app = createApiApp({
    policies: new PolicyCache(pool, listener, takesPushes),
    pool,
    temporal,
    journeys,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    logger,
    adminToken: config.LEADRELAY_ADMIN_TOKEN,
    operatorRateLimitPerHour: config.LEADRELAY_OPERATOR_RATE_LIMIT_PER_HOUR,
    keyRing,
    publicIngestUrl: publicUrls(config).ingest,
    // The UI's run links, and the origin allowed to call /codec with credentials (CORS).
    temporalUiUrl: config.TEMPORAL_UI_URL,
    // The what-if plans deliveries on the channels the worker has under the same configuration.
    whatIfChannels: planChannelsOf(config),
    imports: {
      rowsPerSecond: config.IMPORT_ROWS_PER_SECOND,
      maxBytes: config.IMPORT_MAX_BYTES,
      journeyWindow: config.IMPORT_JOURNEY_WINDOW,
      maxQueueDelayMs: config.IMPORT_MAX_QUEUE_DELAY_MS,
    },
  });
  await listen(app, config.API_PORT, 'api', logger, async () => {
    await listener.stop();
    await pool.end();
    await temporal.connection.close();
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`leadrelay api: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
