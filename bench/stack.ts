// A throwaway production-like stack for `npm run bench`, `npm run chaos` and `npm run topology`: a Temporal dev server
// on its own SQLite file (WAL) or a given Temporal, an embedded Postgres or a given one, the local mailbox, Twilio and
// Slack sandboxes, and worker, ingest and api as child processes (any number of each). Every part can be killed (-9)
// and started again on the same ports and data.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import { createPool } from '../data/pool';
import { PROJECT_ROOT } from '../infra/local/binaries';
import { startMailbox, type Mailbox } from '../infra/local/mailbox';
import { freePort } from '../infra/local/ports';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../infra/local/postgres';
import { startTemporalDevServer, type DevServer } from '../infra/local/temporal';
import { startSlackSandbox, type SlackSandbox } from '../infra/sandbox/slack';
import { startTwilioSandbox, type TwilioSandbox } from '../infra/sandbox/twilio';
import { connectClient } from '../services/common/temporal';
import { KeyRing } from '../shared/crypto';
import { LOCAL_EGRESS_ALLOW } from '../shared/egress';
import { startService, type ServiceName, type ServiceProcess } from './processes';

export interface StackOptions {
  /** Worker processes to start (default 1); 0 starts none. */
  workers?: number;
  /** Start ingest and api (default true). */
  http?: boolean;
  taskQueue?: string;
  /** Extra environment for every service. */
  env?: Record<string, string>;
  /** Service log lines (default: dropped; the last lines are kept on each process). */
  onLine?: (label: string, line: string) => void;
  /** Keep the data directory after stop (default false). */
  keep?: boolean;
  /** Use this Temporal frontend instead of starting a dev server (then it cannot be restarted). */
  temporalAddress?: string;
  /** Use this (migrated) database instead of starting an embedded Postgres (then it cannot be stopped). */
  databaseUrl?: string;
  /** LEADRELAY_ENCRYPTION_KEYS for the services and the stack's own client (default: a fresh key). */
  encryptionKeys?: string;
  /** Run the services from the TypeScript sources (default) or from the production build in dist/. */
  from?: 'source' | 'build';
  /**
   * A load balancer in front of the replicas (/webhooks to ingest, the rest to api): the services' PUBLIC_BASE_URL,
   * and the stack's apiUrl and ingestUrl.
   */
  publicUrl?: string;
  /** Flags for node per service (e.g. `--cpu-prof` for ingest). */
  nodeFlags?: Partial<Record<ServiceName, string[]>>;
}

export interface Stack {
  dir: string;
  adminToken: string;
  encryptionKeys: string;
  taskQueue: string;
  temporalAddress: string;
  databaseUrl: string;
  apiUrl: string;
  ingestUrl: string;
  mailbox: Mailbox;
  twilio: TwilioSandbox;
  slack: SlackSandbox;
  /** The bench's own connections, for counting and for B0. */
  pool: pg.Pool;
  client: Client;
  /** The running service processes (replaced on restart). */
  processes: ServiceProcess[];
  /** The environment every service gets. */
  env: NodeJS.ProcessEnv;
  /** Starts a service; `env` overrides the stack's (its own ports), and is kept for its restarts. */
  start(name: ServiceName, label?: string, env?: Record<string, string>): Promise<ServiceProcess>;
  /** kill -9 a process, optionally wait, and start it again under the same label. */
  kill9AndRestart(process: ServiceProcess, downMs?: number): Promise<ServiceProcess>;
  kill9Temporal(): Promise<void>;
  startTemporal(): Promise<void>;
  kill9Postgres(): Promise<void>;
  startPostgres(): Promise<void>;
  workers(): ServiceProcess[];
  /** The root process of each part running now (the dev server, Postgres, each service by name), for CPU readings. */
  cpuRoots(): Record<string, number[]>;
  /** Calls `listener` when a service process exits without being told to (a crash). */
  onCrash(listener: (process: ServiceProcess) => void): () => void;
  stop(): Promise<void>;
}

const TWILIO_FROM = '+15550100000';

const SERVICE_LOG = join(PROJECT_ROOT, '.data', 'bench', 'services.log');

/** Stacks started and not stopped yet, for the signal handler. */
const live = new Set<Stack>();

/** For the bench and chaos commands: Ctrl-C (or SIGTERM) stops every stack's processes and data first. */
export function stopStacksOnSignal(): void {
  const stopAll = (signal: NodeJS.Signals) => {
    process.stderr.write(`\n${signal}: stopping ${live.size} stack(s)…\n`);
    void Promise.allSettled([...live].map((stack) => stack.stop())).then(() => process.exit(130));
  };
  process.once('SIGINT', stopAll);
  process.once('SIGTERM', stopAll);
}

/** Everything but the service processes. */
async function startParts(options: StackOptions): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), 'leadrelay-stack-'));
  mkdirSync(join(PROJECT_ROOT, '.data', 'bench'), { recursive: true });
  // The embedded Postgres runs as an unprivileged user, which must reach its data directory.
  chmodSync(dir, 0o755);
  const [temporalPort, postgresPort, apiPort, ingestPort, smtpPort, mailPort] = await Promise.all(
    Array.from({ length: 6 }, () => freePort()),
  );
  const temporalOptions = {
    port: temporalPort!,
    dbFile: join(dir, 'temporal.db'),
  };
  const postgresOptions = { dataDir: join(dir, 'pg'), port: postgresPort!, database: 'leadrelay' };
  let temporal: DevServer | undefined;
  let postgres: EmbeddedPostgres | undefined;
  const cleanup: (() => Promise<void>)[] = [];
  try {
    [temporal, postgres] = await Promise.all([
      options.temporalAddress ? undefined : startTemporalDevServer(temporalOptions),
      options.databaseUrl ? undefined : startEmbeddedPostgres(postgresOptions),
    ]);
    const temporalAddress = options.temporalAddress ?? temporal!.address;
    const databaseUrl = options.databaseUrl ?? postgres!.url;
    if (postgres) await migrateInChild(databaseUrl);
    const [mailbox, twilio, slack] = await Promise.all([
      startMailbox({ smtpPort: smtpPort!, httpPort: mailPort!, maxMessages: 1_000_000 }),
      startTwilioSandbox(),
      startSlackSandbox(),
    ]);
    cleanup.push(
      () => mailbox.stop(),
      () => twilio.close(),
      () => slack.close(),
    );
    const adminToken = randomBytes(24).toString('base64url');
    const encryptionKeys = options.encryptionKeys ?? `bench:${randomBytes(32).toString('base64')}`;
    const taskQueue = options.taskQueue ?? 'leads';
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'production',
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: taskQueue,
      DATABASE_URL: databaseUrl,
      SMTP_URL: mailbox.smtpUrl,
      TWILIO_ACCOUNT_SID: twilio.accountSid,
      TWILIO_AUTH_TOKEN: twilio.authToken,
      TWILIO_FROM,
      TWILIO_API_BASE_URL: twilio.url,
      SLACK_WEBHOOK_URL: slack.webhookUrl('staff'),
      API_PORT: String(apiPort),
      INGEST_PORT: String(ingestPort),
      LEADRELAY_ADMIN_TOKEN: adminToken,
      LEADRELAY_ENCRYPTION_KEYS: encryptionKeys,
      // Every partner twin, the Slack receiver and the stack itself listen on loopback.
      LEADRELAY_EGRESS_ALLOW: process.env.LEADRELAY_EGRESS_ALLOW ?? LOCAL_EGRESS_ALLOW,
      LOG_LEVEL: 'info',
      // Ingest's gate bound, when the operator runs the bench with another one (default: the service's own).
      ...(process.env.INGEST_MAX_WAIT_MS ? { INGEST_MAX_WAIT_MS: process.env.INGEST_MAX_WAIT_MS } : {}),
      ...(options.publicUrl ? { PUBLIC_BASE_URL: options.publicUrl } : {}),
      ...options.env,
    };
    const pool = createPool(databaseUrl, 10);
    const client = await connectClient(temporalAddress, 'default', KeyRing.parse(encryptionKeys));
    cleanup.push(
      () => pool.end(),
      () => client.connection.close(),
    );
    const apiUrl = options.publicUrl ?? `http://127.0.0.1:${apiPort}`;
    const ingestUrl = options.publicUrl ?? `http://127.0.0.1:${ingestPort}`;
    const processes: ServiceProcess[] = [];
    const crashListeners = new Set<(process: ServiceProcess) => void>();
    const envByLabel = new Map<string, Record<string, string>>();
    let current = { temporal, postgres };

    // Without a listener of their own, the services' warnings and errors go to .data/bench/services.log.
    const onLine =
      options.onLine ??
      ((label: string, line: string) => {
        if (/"level":(40|50|60)|WARN|ERROR/.test(line))
          appendFileSync(SERVICE_LOG, `${new Date().toISOString()} [${label}] ${line.slice(0, 2000)}\n`);
      });
    const start = async (
      name: ServiceName,
      label: string = name,
      own: Record<string, string> = envByLabel.get(label) ?? {},
    ): Promise<ServiceProcess> => {
      envByLabel.set(label, own);
      // Each worker gets its own ports for its health and metrics servers (several run side by side).
      const ports =
        name === 'worker'
          ? { WORKER_PORT: String(await freePort()), TEMPORAL_METRICS_PORT: String(await freePort()) }
          : {};
      const merged: NodeJS.ProcessEnv = { ...env, ...ports, ...own };
      const started = await startService(name, merged, {
        label,
        from: options.from,
        healthUrl:
          name === 'api'
            ? `http://127.0.0.1:${merged.API_PORT}/healthz`
            : name === 'ingest'
              ? `http://127.0.0.1:${merged.INGEST_PORT}/healthz`
              : undefined,
        onLine,
        nodeFlags: options.nodeFlags?.[name],
      });
      processes.push(started);
      void started.exited.then(() => {
        if (!started.endedByUs) for (const listener of crashListeners) listener(started);
      });
      return started;
    };

    const stack: Stack = {
      cpuRoots() {
        const roots: Record<string, number[]> = {};
        const add = (part: string, pid: number | undefined) => {
          if (pid !== undefined) roots[part] = [...(roots[part] ?? []), pid];
        };
        add('temporal', current.temporal?.child.pid);
        add('postgres', current.postgres?.child.pid);
        for (const service of processes) add(service.name, service.pid);
        return roots;
      },
      dir,
      adminToken,
      encryptionKeys,
      taskQueue,
      temporalAddress,
      databaseUrl,
      apiUrl,
      ingestUrl,
      mailbox,
      twilio,
      slack,
      pool,
      client,
      processes,
      env,
      start,
      async kill9AndRestart(process, downMs = 0) {
        await process.kill9();
        processes.splice(processes.indexOf(process), 1);
        if (downMs > 0) await new Promise((resolveLater) => setTimeout(resolveLater, downMs));
        return start(process.name, process.label);
      },
      async kill9Temporal() {
        if (!current.temporal) throw new Error('this stack uses an external Temporal: it cannot kill it');
        current.temporal.child.kill('SIGKILL');
        await current.temporal.stop();
      },
      async startTemporal() {
        if (!current.temporal) throw new Error('this stack uses an external Temporal');
        current = { ...current, temporal: await startTemporalDevServer(temporalOptions) };
      },
      async kill9Postgres() {
        if (!current.postgres) throw new Error('this stack uses an external Postgres: it cannot kill it');
        current.postgres.child.kill('SIGKILL');
        await current.postgres.stop();
      },
      async startPostgres() {
        if (!current.postgres) throw new Error('this stack uses an external Postgres');
        current = { ...current, postgres: await startPostgresAgain(postgresOptions) };
      },
      workers: () => processes.filter((p) => p.name === 'worker'),
      onCrash(listener) {
        crashListeners.add(listener);
        return () => crashListeners.delete(listener);
      },
      async stop() {
        live.delete(stack);
        await Promise.all(processes.map((p) => p.stop(10_000)));
        for (const step of cleanup.reverse()) await step().catch(() => undefined);
        await Promise.all([current.temporal?.stop(), current.postgres?.stop()]);
        if (!options.keep) rmSync(dir, { recursive: true, force: true });
      },
    };
    live.add(stack);
    return stack;
  } catch (error) {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
    await Promise.all([temporal?.stop(), postgres?.stop()]);
    if (!options.keep) rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const stack = await startParts(options);
  try {
    const workers = options.workers ?? 1;
    for (let i = 1; i <= workers; i++) await stack.start('worker', workers > 1 ? `worker-${i}` : 'worker');
    if (options.http !== false) await Promise.all([stack.start('ingest'), stack.start('api')]);
  } catch (error) {
    await stack.stop();
    throw error;
  }
  return stack;
}

/**
 * Migrations as the deploy job runs them (`node --import tsx infra/db/migrate.ts`): in a child process, which
 * also keeps node-pg-migrate (ESM) out of jest's module system when a test starts a stack.
 */
function migrateInChild(databaseUrl: string): Promise<void> {
  return new Promise((resolveMigrated, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(PROJECT_ROOT, 'infra', 'db', 'migrate.ts')],
      { cwd: PROJECT_ROOT, env: { ...process.env, DATABASE_URL: databaseUrl } },
      (error, _stdout, stderr) =>
        error ? reject(new Error(`migrations failed: ${stderr.trim() || error.message}`)) : resolveMigrated(),
    );
  });
}

/**
 * After a kill -9 the old server's backends notice their postmaster is gone and exit within moments; until
 * they have, a new postmaster refuses the data directory. Tries again for up to 30 s.
 */
async function startPostgresAgain(options: {
  dataDir: string;
  port: number;
  database: string;
}): Promise<EmbeddedPostgres> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await startEmbeddedPostgres(options);
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolveLater) => setTimeout(resolveLater, 500));
    }
  }
}
