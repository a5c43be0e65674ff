// The ingest service: partner webhooks become journey signals; the relay delivers what could not be at once.
import { ConfigListener } from '../../data/configCache';
import { IntegrationCache } from '../../data/integrations';
import { PolicyCache } from '../../data/policies';
import { takesPushes } from '../../activities/partners';
import { createPool, STATEMENT_TIMEOUT_MS } from '../../data/pool';
import { loadConfigOrExit, publicUrls, requireVariables } from '../../shared/config';
import { KeyRing } from '../../shared/crypto';
import { createLogger } from '../../shared/logger';
import { Gate } from '../../shared/gate';
import { JourneyClient } from '../../usecases/journeys';
import { SignalQueue } from '../../usecases/signalQueue';
import { listen } from '../common/listen';
import { connectClient } from '../common/temporal';
import { createIngestApp } from './app';
import { startRelay } from './relay';

/** Postgres connections of one ingest process. */
const POOL_SIZE = 10;
/** Journey signals in flight at once: Temporal takes more in parallel than one request at a time. */
const SIGNALS_IN_FLIGHT = 32;

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  requireVariables(config, ['TEMPORAL_ADDRESS', 'DATABASE_URL', 'LEADRELAY_ENCRYPTION_KEYS']);
  const logger = createLogger('ingest', config.LOG_LEVEL);
  const keyRing = KeyRing.parse(config.LEADRELAY_ENCRYPTION_KEYS!);
  const temporal = await connectClient(config.TEMPORAL_ADDRESS!, config.TEMPORAL_NAMESPACE, keyRing);
  // Connections stay open a minute idle: a burst finds them ready instead of opening ten at once.
  const pool = createPool(config.DATABASE_URL!, POOL_SIZE, STATEMENT_TIMEOUT_MS, {
    idleTimeoutMillis: 60_000,
  });
  const journeys = new JourneyClient({ client: temporal, taskQueue: config.TEMPORAL_TASK_QUEUE });
  const listener = ConfigListener.forPool(pool, logger);
  listener.start();
  const deps = {
    pool,
    temporal,
    journeys,
    logger,
    keyRing,
    publicUrl: publicUrls(config).ingest,
    integrations: new IntegrationCache(pool, keyRing, listener),
    policies: new PolicyCache(pool, listener, takesPushes),
    // Webhooks' database work takes its turn here, so the pool never makes anyone wait (and time out); the
    // connections left over serve the relay and the delivered-marks of signalled rows.
    // Bounded: a webhook whose wait would outlast the partner's patience is answered 503 before it is stored.
    gate: new Gate(POOL_SIZE - 2, { maxWaitMs: config.INGEST_MAX_WAIT_MS }),
    signals: new SignalQueue(SIGNALS_IN_FLIGHT),
  };
  const app = createIngestApp(deps);
  const relay = startRelay(deps);
  await listen(app, config.INGEST_PORT, 'ingest', logger, async () => {
    await relay.stop();
    await listener.stop();
    await pool.end();
    await temporal.connection.close();
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`leadrelay ingest: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
