// The ingest service: partner webhooks become journey signals; the relay delivers what could not be at once.
import { createPool } from '../../data/pool';
import { loadConfigOrExit, publicUrls, requireVariables } from '../../shared/config';
import { KeyRing } from '../../shared/crypto';
import { createLogger } from '../../shared/logger';
import { JourneyClient } from '../../usecases/journeys';
import { listen } from '../common/listen';
import { connectClient } from '../common/temporal';
import { createIngestApp } from './app';
import { startRelay } from './relay';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  requireVariables(config, ['TEMPORAL_ADDRESS', 'DATABASE_URL', 'LEADRELAY_ENCRYPTION_KEYS']);
  const logger = createLogger('ingest', config.LOG_LEVEL);
  const keyRing = KeyRing.parse(config.LEADRELAY_ENCRYPTION_KEYS!);
  const temporal = await connectClient(config.TEMPORAL_ADDRESS!, config.TEMPORAL_NAMESPACE, keyRing);
  const pool = createPool(config.DATABASE_URL!);
  const journeys = new JourneyClient({ client: temporal, taskQueue: config.TEMPORAL_TASK_QUEUE });
  const deps = { pool, temporal, journeys, logger, keyRing, publicUrl: publicUrls(config).ingest };
  const app = createIngestApp(deps);
  const relay = startRelay(deps);
  await listen(app, config.INGEST_PORT, 'ingest', logger, async () => {
    await relay.stop();
    await pool.end();
    await temporal.connection.close();
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`leadrelay ingest: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
