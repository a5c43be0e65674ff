// The ingest service: partner webhooks become journey signals.
import { createPool } from '../../activities/db/pool';
import { loadConfigOrExit, requireVariables } from '../../shared/config';
import { createLogger } from '../../shared/logger';
import { listen } from '../common/listen';
import { connectClient } from '../common/temporal';
import { createIngestApp } from './app';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  requireVariables(config, ['TEMPORAL_ADDRESS', 'DATABASE_URL']);
  const logger = createLogger('ingest', config.LOG_LEVEL);
  const temporal = await connectClient(config.TEMPORAL_ADDRESS!, config.TEMPORAL_NAMESPACE);
  const pool = createPool(config.DATABASE_URL!);
  const app = createIngestApp({ pool, temporal, logger });
  await listen(app, config.INGEST_PORT, 'ingest', logger, async () => {
    await pool.end();
    await temporal.connection.close();
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`leadrelay ingest: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
