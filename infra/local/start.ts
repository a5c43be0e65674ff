// `npm start`: the whole system on embedded defaults: Temporal dev server with its UI, embedded Postgres,
// local mailbox, then worker, ingest and api. Data stays under LEADRELAY_DATA_DIR between starts.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig, ConfigError, publicUrls, type Config } from '../../shared/config';
import { LOCAL_EGRESS_ALLOW } from '../../shared/egress';
import { startDemo, type Demo } from './demo';
import { ensureLocalSecrets, type LocalSecrets } from './secrets';
import { migrate } from '../db/migrate';
import { PROJECT_ROOT } from './binaries';
import { startMailbox, type Mailbox } from './mailbox';
import { assertPortFree } from './ports';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './postgres';
import { stopChild } from './process';
import { startTemporalDevServer, type DevServer } from './temporal';

const say = (line: string) => process.stdout.write(`leadrelay: ${line}\n`);

/** Secrets the local stack needs and the user did not set: generated once, kept under the data dir. */
function localSecrets(dataDir: string, config: Config): LocalSecrets {
  const stored = ensureLocalSecrets(dataDir);
  return {
    adminToken: config.LEADRELAY_ADMIN_TOKEN ?? stored.adminToken,
    encryptionKeys: config.LEADRELAY_ENCRYPTION_KEYS ?? stored.encryptionKeys,
  };
}

function startService(name: string, env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(PROJECT_ROOT, 'services', name, 'main.ts')],
    {
      cwd: PROJECT_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const relay = (stream: NodeJS.WriteStream) => (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) stream.write(`[${name}] ${line}\n`);
  };
  child.stdout?.on('data', relay(process.stdout));
  child.stderr?.on('data', relay(process.stderr));
  return child;
}

async function waitForHttp(url: string, child: ChildProcess, name: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode} while starting`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${name} did not answer ${url} within 2 minutes`);
}

/** `npm start -- --demo`: partner sandboxes and a demo workspace connected to them (infra/local/demo.ts). */
const DEMO = process.argv.includes('--demo');

async function main(): Promise<void> {
  // The local stack's partners (sandboxes, --demo) listen on loopback: allowed unless the caller says otherwise.
  process.env.LEADRELAY_EGRESS_ALLOW ??= LOCAL_EGRESS_ALLOW;
  const config = loadConfig();
  const dataDir = resolve(PROJECT_ROOT, config.LEADRELAY_DATA_DIR);
  mkdirSync(dataDir, { recursive: true });
  const secrets = localSecrets(dataDir, config);

  const ports: [number, string][] = [
    [config.API_PORT, 'API_PORT'],
    [config.INGEST_PORT, 'INGEST_PORT'],
    [config.WORKER_PORT, 'WORKER_PORT'],
    [config.TEMPORAL_METRICS_PORT, 'TEMPORAL_METRICS_PORT'],
  ];
  if (!config.TEMPORAL_ADDRESS)
    ports.push([config.TEMPORAL_PORT, 'TEMPORAL_PORT'], [config.TEMPORAL_UI_PORT, 'TEMPORAL_UI_PORT']);
  if (!config.DATABASE_URL) ports.push([config.POSTGRES_PORT, 'POSTGRES_PORT']);
  if (!config.SMTP_URL)
    ports.push([config.MAILBOX_SMTP_PORT, 'MAILBOX_SMTP_PORT'], [config.MAILBOX_PORT, 'MAILBOX_PORT']);
  for (const [port, name] of ports) await assertPortFree(port, name, '0.0.0.0');

  let temporal: DevServer | undefined;
  let postgres: EmbeddedPostgres | undefined;
  let mailbox: Mailbox | undefined;
  let demo: Demo | undefined;
  const services: ChildProcess[] = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say('stopping…');
    await Promise.all(services.map((child) => stopChild(child)));
    await demo?.close();
    await mailbox?.stop();
    await postgres?.stop();
    await temporal?.stop();
    say('stopped');
    process.exit(code);
  };
  // `on`, not `once`: Ctrl-C reaches us twice (the terminal's group and tsx's relay); repeats are ignored.
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  try {
    if (!config.TEMPORAL_ADDRESS) {
      say('starting the Temporal dev server');
      temporal = await startTemporalDevServer({
        port: config.TEMPORAL_PORT,
        uiPort: config.TEMPORAL_UI_PORT,
        dbFile: join(dataDir, 'temporal.db'),
        namespace: config.TEMPORAL_NAMESPACE,
        // The UI decrypts payloads through the api's codec endpoint (operators sign in there: docs/codec.md).
        uiCodecEndpoint: `${publicUrls(config).api}/codec`,
      });
    }
    const temporalAddress = config.TEMPORAL_ADDRESS ?? `127.0.0.1:${config.TEMPORAL_PORT}`;
    if (!config.DATABASE_URL) {
      say('starting the embedded Postgres');
      postgres = await startEmbeddedPostgres({
        dataDir: join(dataDir, 'pg'),
        port: config.POSTGRES_PORT,
        database: 'leadrelay',
      });
    }
    const databaseUrl = config.DATABASE_URL ?? postgres!.url;
    const applied = await migrate(databaseUrl);
    say(`database migrated (${applied.length ? applied.join(', ') : 'up to date'})`);
    if (!config.SMTP_URL) {
      mailbox = await startMailbox({
        smtpPort: config.MAILBOX_SMTP_PORT,
        httpPort: config.MAILBOX_PORT,
        dir: join(dataDir, 'mailbox'),
      });
    }

    const env: NodeJS.ProcessEnv = {
      ...process.env,
      TEMPORAL_ADDRESS: temporalAddress,
      DATABASE_URL: databaseUrl,
      SMTP_URL: config.SMTP_URL ?? mailbox!.smtpUrl,
      LEADRELAY_ADMIN_TOKEN: secrets.adminToken,
      LEADRELAY_ENCRYPTION_KEYS: secrets.encryptionKeys,
      // The dashboard links runs to the UI of the dev server we started, unless told another.
      TEMPORAL_UI_URL: process.env.TEMPORAL_UI_URL
        ? config.TEMPORAL_UI_URL
        : (temporal?.uiUrl ?? config.TEMPORAL_UI_URL),
    };
    for (const name of ['worker', 'ingest', 'api']) {
      const child = startService(name, env);
      services.push(child);
      child.once('exit', (code) => {
        if (!stopping) {
          process.stderr.write(
            `leadrelay: ${name} exited unexpectedly (code ${code}); stopping everything\n`,
          );
          void stopAll(1);
        }
      });
    }
    const urls = publicUrls(config);
    await Promise.all([
      waitForHttp(`http://127.0.0.1:${config.API_PORT}/healthz`, services[2]!, 'api'),
      waitForHttp(`http://127.0.0.1:${config.INGEST_PORT}/healthz`, services[1]!, 'ingest'),
      waitForHttp(`http://127.0.0.1:${config.WORKER_PORT}/healthz`, services[0]!, 'worker'),
    ]);
    const lines = [
      '',
      'leadrelay is running:',
      `  Dashboard        ${urls.api}/app   (log in with a workspace API key)`,
      `  API              ${urls.api}/api/v1   (health ${urls.api}/healthz)`,
      `  Ingest webhooks  ${urls.ingest}/webhooks/<partner>/<integrationId>`,
      `  Temporal UI      ${temporal?.uiUrl ?? '(external Temporal at ' + temporalAddress + ')'}`,
      `  Codec endpoint   ${urls.api}/codec   (sign in there with the admin token to read payloads in the UI)`,
      `  Worker           http://localhost:${config.WORKER_PORT}/healthz   (metrics /metrics; Temporal SDK metrics http://localhost:${config.TEMPORAL_METRICS_PORT}/metrics)`,
      `  Temporal gRPC    ${temporalAddress}  namespace ${config.TEMPORAL_NAMESPACE}, task queue ${config.TEMPORAL_TASK_QUEUE}`,
      `  Postgres         ${postgres ? postgres.url : '(DATABASE_URL)'}`,
      `  Mailbox          ${mailbox ? `${mailbox.pageUrl}  (SMTP ${mailbox.smtpUrl})` : '(SMTP_URL)'}`,
      `  Admin token      ${config.LEADRELAY_ADMIN_TOKEN ? '(LEADRELAY_ADMIN_TOKEN)' : `${secrets.adminToken}  (kept in ${join(config.LEADRELAY_DATA_DIR, 'secrets.json')})`}`,
      `  Data             ${dataDir}`,
      '',
      'Ctrl-C stops everything; the next start keeps all data.',
      '',
    ];
    if (DEMO) {
      demo = await startDemo({ apiUrl: urls.api, adminToken: secrets.adminToken, dataDir });
      lines.splice(lines.length - 3, 0, 'Demo mode: every partner is a local sandbox.', ...demo.lines);
    }
    process.stdout.write(lines.join('\n'));
  } catch (error) {
    process.stderr.write(`leadrelay: ${error instanceof Error ? error.message : String(error)}\n`);
    await stopAll(1);
  }
}

main().catch((error: unknown) => {
  const message =
    error instanceof ConfigError
      ? `invalid configuration: ${error.message}`
      : error instanceof Error
        ? error.message
        : String(error);
  process.stderr.write(`leadrelay: ${message}\n`);
  process.exit(error instanceof ConfigError ? 2 : 1);
});
