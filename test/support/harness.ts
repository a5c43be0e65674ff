// Test harness over the real stack: a worker on its own task queue, the api and ingest apps on free
// ports, a Postgres pool, and a workspace with an API key. Every test file gets its own.
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import type pg from 'pg';
import type { ActivityDeps } from '../../activities';
import { ConfigListener } from '../../data/configCache';
import { IntegrationCache } from '../../data/integrations';
import { PolicyCache } from '../../data/policies';
import { takesPushes } from '../../activities/partners';
import { createPool } from '../../data/pool';
import { encryptedDataConverter } from '../../shared/codec';
import { KeyRing } from '../../shared/crypto';
import { createLogger } from '../../shared/logger';
import { createApiApp, type ApiDeps } from '../../services/api/app';
import { Gate } from '../../shared/gate';
import { JourneyClient } from '../../usecases/journeys';
import { SignalQueue } from '../../usecases/signalQueue';
import { createIngestApp } from '../../services/ingest/app';
import { createImportWorker, createWorker, type WorkerSetup } from '../../services/worker/worker';
import { testStack } from '../setup/stack';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
/** The test stack's LEADRELAY_ENCRYPTION_KEYS: a fixed key, so sealed secrets open across harnesses. */
export const ENCRYPTION_KEYS = 'test1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=';
/** The payload codec of the harness's clients and workers, for workers and clients a test builds itself. */
export const dataConverter = encryptedDataConverter(KeyRing.parse(ENCRYPTION_KEYS));

export interface Harness {
  pool: pg.Pool;
  client: Client;
  journeys: JourneyClient;
  taskQueue: string;
  apiUrl: string;
  ingestUrl: string;
  worker: Worker;
  /** The worker of the imports' queue (importTaskQueue). */
  importWorker: Worker;
  /** Runs the journeys' worker when the harness started with `worker: 'imports'`. */
  runJourneys(): void;
  stop(): Promise<void>;
}

export function serve(app: ReturnType<typeof createApiApp>): Promise<{ server: Server; url: string }> {
  return new Promise((resolveServe) => {
    const server = app.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolveServe({ server, url: `http://127.0.0.1:${port}` });
    });
  });
}

export function close(server: Server): Promise<void> {
  return new Promise((resolveClose) => {
    server.close(() => resolveClose());
    server.closeAllConnections();
  });
}

/** Worker logs at WARN: test output shows failures, not every state change. Once per process. */
function quietRuntime(): void {
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // Already installed by an earlier test file in this process.
  }
}

export async function startHarness(
  options: {
    /** false: no worker runs; 'imports': only the imports' worker, journeys wait for runJourneys(). */
    worker?: boolean | 'imports';
    /** Notification channels of the worker's activities (none by default). */
    notify?: Omit<ActivityDeps, 'pool'>;
    /** The api's import settings (throttle, file limit, rows per batch). */
    imports?: ApiDeps['imports'];
  } = {},
): Promise<Harness> {
  quietRuntime();
  const stack = testStack();
  const taskQueue = `test-${randomUUID()}`;
  const pool = createPool(stack.databaseUrl, 20);
  const connection = await Connection.connect({ address: stack.temporalAddress });
  const client = new Client({ connection, dataConverter });
  const journeys = new JourneyClient({ client, taskQueue });
  // LEADRELAY_TEST_LOG=error shows what the services log when a test fails for a reason the answer hides.
  const logger = createLogger('test', (process.env.LEADRELAY_TEST_LOG as 'error' | undefined) ?? 'silent');
  const keyRing = KeyRing.parse(ENCRYPTION_KEYS);
  // Ingest listens first: integrations' webhook_url and each SMS's status callback name it. Wired as
  // services/ingest/main.ts wires it: cached integrations and policies, the database gate, the signal queue.
  const listener = ConfigListener.forPool(pool);
  listener.start();
  const ingestApp = createIngestApp({
    pool,
    temporal: client,
    journeys,
    logger,
    keyRing,
    integrations: new IntegrationCache(pool, keyRing, listener),
    policies: new PolicyCache(pool, listener, takesPushes),
    gate: new Gate(8),
    signals: new SignalQueue(32),
  });
  const ingest = await serve(ingestApp);
  const nativeConnection = await NativeConnection.connect({ address: stack.temporalAddress });
  const setup: WorkerSetup = {
    connection: nativeConnection,
    namespace: 'default',
    taskQueue,
    pool,
    workflowBundle: { codePath: stack.workflowBundlePath },
    keyRing,
    // Partner polls open integration secrets and start journeys from the activity.
    notify: { keyRing, temporal: client, ingestUrl: ingest.url, ...options.notify },
  };
  const worker = await createWorker(setup);
  const importWorker = await createImportWorker(setup);
  const running = new Map<Worker, Promise<void>>();
  const run = (w: Worker) => {
    if (!running.has(w)) running.set(w, w.run());
  };
  const runJourneys = () => run(worker);
  if (options.worker !== false) run(importWorker);
  if (options.worker === undefined || options.worker === true) runJourneys();
  const api = await serve(
    createApiApp({
      pool,
      temporal: client,
      journeys,
      logger,
      adminToken: ADMIN_TOKEN,
      keyRing,
      publicIngestUrl: ingest.url,
      taskQueue,
      imports: options.imports,
      policies: new PolicyCache(pool, listener, takesPushes),
    }),
  );
  return {
    pool,
    client,
    journeys,
    taskQueue,
    apiUrl: api.url,
    ingestUrl: ingest.url,
    worker,
    importWorker,
    runJourneys,
    async stop() {
      await Promise.all([close(api.server), close(ingest.server)]);
      await listener.stop();
      // A worker that never ran still holds the connection: it runs to shut down.
      for (const w of [worker, importWorker]) {
        run(w);
        w.shutdown();
      }
      await Promise.all(running.values());
      await nativeConnection.close();
      await connection.close();
      await pool.end();
    },
  };
}

/** JSON over HTTP with a bearer token: status and parsed body. */
export async function call(
  url: string,
  method: string,
  token: string | undefined,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const response = await fetch(url, {
    method,
    headers: {
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON: the raw text is the body.
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

/**
 * Hourly API budget for workspaces of tests that wait by polling their own API: what such a wait spends
 * depends on the machine's speed, and the default 1 000 must not decide a test.
 */
export const POLLING_RATE_LIMIT = 1_000_000;

/** Registers a workspace through the API and returns its id and key. */
export async function registerWorkspace(
  apiUrl: string,
  body: Record<string, unknown> = {},
): Promise<{ workspaceId: string; apiKey: string }> {
  const { status, body: answer } = await call(`${apiUrl}/api/v1/workspaces`, 'POST', ADMIN_TOKEN, {
    workspace_name: 'Test workspace',
    ...body,
  });
  if (status !== 201) throw new Error(`workspace registration failed: ${status} ${JSON.stringify(answer)}`);
  return { workspaceId: answer.workspace_id, apiKey: answer.api_key };
}
