// The production build as production runs it: `npm run build`, then api, ingest and worker as plain `node` processes
// from dist/ (no tsx, the workflow bundle made at build time) against the test stack's Temporal and Postgres. Then
// each drains on SIGTERM: a request in flight gets its answer, a running activity finishes within the grace time.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import type pg from 'pg';
import { createPool } from '../../data/pool';
import { startService, type ServiceName, type ServiceProcess } from '../../bench/processes';
import { chatbotQualified, setupWorkspace, type BenchWorkspace } from '../../bench/workload';
import { PROJECT_ROOT } from '../../infra/local/binaries';
import { freePort } from '../../infra/local/ports';
import { leadWorkflowId } from '../../shared/ids';
import type { JourneyView } from '../../shared/journey/types';
import { leadStateQuery } from '../../shared/journey/messages';
import { testStack } from '../setup/stack';
import { dataConverter, ENCRYPTION_KEYS } from '../support/harness';
import { journeySummary, waitFor, within } from '../support/wait';

const DIST = join(PROJECT_ROOT, 'dist');
const ADMIN_TOKEN = 'production-build-admin-token';

/** A stand-in Slack webhook that answers at once, or holds every post while told to: an activity surely running. */
function slackEndpoint() {
  const held: ServerResponse[] = [];
  const posts: string[] = [];
  let holding = false;
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      posts.push(body);
      if (holding) held.push(response);
      else response.end('ok');
    });
  });
  return {
    posts,
    held: () => held.length,
    listen: () =>
      new Promise<string>((resolveUrl) =>
        server.listen(0, '127.0.0.1', () =>
          resolveUrl(`http://127.0.0.1:${(server.address() as AddressInfo).port}/services/staff`),
        ),
      ),
    hold() {
      holding = true;
    },
    release() {
      holding = false;
      for (const response of held.splice(0)) response.end('ok');
    },
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

let pool: pg.Pool;
let env: NodeJS.ProcessEnv;
let apiUrl: string;
let ingestUrl: string;
const slack = slackEndpoint();
let slackUrl: string;
const running = new Map<ServiceName, ServiceProcess>();
let workspace: BenchWorkspace;

async function start(name: ServiceName): Promise<ServiceProcess> {
  const started = await startService(name, env, {
    from: 'build',
    healthUrl: name === 'api' ? `${apiUrl}/healthz` : name === 'ingest' ? `${ingestUrl}/healthz` : undefined,
    timeoutMs: 90_000,
  });
  running.set(name, started);
  return started;
}

/** The first line of a process's output that contains `text`, once it is there. */
function printed(service: ServiceProcess, text: string): Promise<string> {
  return waitFor(
    `${service.label} to print "${text}"`,
    () => service.output.find((line) => line.includes(text)),
    {
      show: () => service.output.slice(-5).join('\n'),
    },
  );
}

/** Backends of the test stack's Postgres waiting for a lock on `table`. */
async function waitingOnLock(table: string): Promise<number> {
  // By the lock, not the query text: a write may reach the table inside a SQL function (ingest's one round trip).
  const { rows } = await pool.query<{ n: number }>(
    `SELECT count(DISTINCT pid)::int AS n FROM pg_locks
      WHERE NOT granted AND relation = $1::regclass AND pid <> pg_backend_pid()`,
    [table],
  );
  return rows[0]!.n;
}

/** Holds an EXCLUSIVE lock on a table (reads pass, writes wait) until the returned function is called. */
async function lockTable(table: string): Promise<() => Promise<void>> {
  const client = await pool.connect();
  await client.query('BEGIN');
  await client.query(`LOCK TABLE ${table} IN EXCLUSIVE MODE`);
  return async () => {
    await client.query('ROLLBACK');
    client.release();
  };
}

beforeAll(async () => {
  await promisify(execFile)('npm', ['run', 'build'], { cwd: PROJECT_ROOT, env: process.env });
  const stack = testStack();
  pool = createPool(stack.databaseUrl, 4);
  slackUrl = await slack.listen();
  const [apiPort, ingestPort, workerPort, metricsPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  apiUrl = `http://127.0.0.1:${apiPort}`;
  ingestUrl = `http://127.0.0.1:${ingestPort}`;
  env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    TEMPORAL_ADDRESS: stack.temporalAddress,
    TEMPORAL_TASK_QUEUE: `production-${randomUUID()}`,
    DATABASE_URL: stack.databaseUrl,
    LEADRELAY_ENCRYPTION_KEYS: ENCRYPTION_KEYS,
    LEADRELAY_ADMIN_TOKEN: ADMIN_TOKEN,
    // The sandboxes and the local Slack receiver listen on loopback (test/setup/egress.ts).
    LEADRELAY_EGRESS_ALLOW: process.env.LEADRELAY_EGRESS_ALLOW,
    API_PORT: String(apiPort),
    INGEST_PORT: String(ingestPort),
    WORKER_PORT: String(workerPort),
    TEMPORAL_METRICS_PORT: String(metricsPort),
    LOG_LEVEL: 'info',
  };
  await Promise.all([start('worker'), start('ingest'), start('api')]);
}, 300_000);

afterAll(async () => {
  await Promise.all([...running.values()].map((service) => service.stop(15_000)));
  await slack.close();
  await pool?.end();
});

test('the build is JavaScript only, with the workflow bundle, and nothing in it loads tsx', () => {
  const files = filesUnder(DIST);
  expect(files.filter((file) => file.endsWith('.ts'))).toEqual([]);
  for (const main of ['api', 'ingest', 'worker'])
    expect(existsSync(join(DIST, 'services', main, 'main.js'))).toBe(true);
  expect(existsSync(join(DIST, 'workflow-bundle.js'))).toBe(true);
  expect(files.some((file) => file.endsWith('.sql'))).toBe(true);
  const loadsTsx = files
    .filter((file) => file.endsWith('.js') && !file.endsWith('workflow-bundle.js'))
    .filter((file) => /require\("tsx|from "tsx|--import", "tsx/.test(readFileSync(file, 'utf8')));
  expect(loadsTsx).toEqual([]);
});

test('api, ingest and worker run from dist with plain node; the worker loads the bundle built once', async () => {
  for (const service of running.values()) {
    expect(service.child.spawnargs.slice(1)).toEqual([join(DIST, 'services', service.name, 'main.js')]);
  }
  const workerLog = await printed(running.get('worker')!, '"msg":"workflow code"');
  expect(JSON.parse(workerLog).workflowBundle).toBe(join(DIST, 'workflow-bundle.js'));
  for (const url of [
    `${apiUrl}/readyz`,
    `${ingestUrl}/readyz`,
    `http://127.0.0.1:${env.WORKER_PORT}/readyz`,
  ]) {
    const answer = await waitFor(`${url} to answer 200`, async () => {
      const response = await fetch(url);
      return response.ok ? response : undefined;
    });
    expect(answer.status).toBe(200);
  }
});

test('a partner webhook through the compiled ingest is applied by the compiled worker and read through the api', async () => {
  workspace = await setupWorkspace(
    { apiUrl, adminToken: ADMIN_TOKEN },
    { name: 'Production build', partners: ['chatbot'] },
  );
  const preference = await fetch(`${apiUrl}/api/v1/notification-preferences`, {
    method: 'POST',
    headers: { authorization: `Bearer ${workspace.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      property_id: null,
      status_type: 'qualified',
      notification_method: 'slack',
      recipients: [slackUrl],
    }),
  });
  expect(preference.status).toBe(201);
  const webhook = chatbotQualified(workspace.integrations.chatbot!, 'prodbuild', 1);
  const answer = await fetch(webhook.url, { method: 'POST', headers: webhook.headers(), body: webhook.body });
  expect(answer.status).toBe(200);
  const { lead_id: leadId } = (await answer.json()) as { lead_id: string };
  const lead = await waitFor(
    'the lead to be qualified by the compiled worker',
    async () => {
      const response = await fetch(`${apiUrl}/api/v1/leads/${leadId}`, {
        headers: { authorization: `Bearer ${workspace.apiKey}` },
      });
      return (await response.json()) as { status?: string };
    },
    { until: (body) => body.status === 'qualified' },
  );
  expect(lead.status).toBe('qualified');
  await waitFor('the Slack notification', () => slack.posts.length === 1);
});

test('on SIGTERM the worker finishes the activity it is running, then exits; the message is sent once', async () => {
  slack.hold();
  const webhook = chatbotQualified(workspace.integrations.chatbot!, 'prodbuild', 2);
  const answer = await fetch(webhook.url, { method: 'POST', headers: webhook.headers(), body: webhook.body });
  expect(answer.status).toBe(200);
  const { lead_id: leadId } = (await answer.json()) as { lead_id: string };
  await waitFor('the notification activity to be running (Slack holds its post)', () => slack.held() === 1);
  const worker = running.get('worker')!;
  worker.child.kill('SIGTERM');
  await printed(worker, "state: 'DRAINING'");
  expect(worker.child.exitCode).toBeNull();
  slack.release();
  expect(await within('the worker to exit', worker.exited)).toBe('0');
  const deliveries = await pool.query<{ status: string }>(
    `SELECT status FROM notification_deliveries WHERE workspace_id = $1 AND lead_id = $2 AND channel = 'slack'`,
    [workspace.workspaceId, leadId],
  );
  expect(deliveries.rows).toEqual([{ status: 'sent' }]);
  // A worker again: the journey goes on from the finished activity and sends nothing twice.
  await start('worker');
  const connection = await Connection.connect({ address: testStack().temporalAddress });
  try {
    const journey = new Client({ connection, dataConverter }).workflow.getHandle(
      leadWorkflowId(workspace.workspaceId, leadId),
    );
    await waitFor('the journey to be idle', () => journey.query(leadStateQuery), {
      until: (state) =>
        state.pendingDeliveries === 0 && state.pendingEffects === 0 && state.pendingEvents === 0,
      show: (state) => JSON.stringify(journeySummary(state as JourneyView)),
    });
  } finally {
    await connection.close();
  }
  expect(slack.posts).toHaveLength(2);
});

/**
 * Sends a request that waits on a table locked by the test, delivers SIGTERM to the service while it waits, checks
 * that the service refuses new connections, then lets the request finish: answers its response and the exit code.
 */
async function sigtermWhileInFlight(
  name: 'api' | 'ingest',
  table: string,
  send: () => Promise<Response>,
): Promise<{ answer: Response; exit: string }> {
  const service = running.get(name)!;
  const url = name === 'api' ? apiUrl : ingestUrl;
  const unlock = await lockTable(table);
  let inFlight: Promise<Response>;
  try {
    inFlight = send();
    await waitFor(`the ${name} request to wait on the locked ${table}`, () => waitingOnLock(table));
    service.child.kill('SIGTERM');
    await printed(service, `${name} stopping`);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  } finally {
    await unlock();
  }
  const answer = await inFlight;
  const exit = await within(`${name} to exit`, service.exited);
  running.delete(name);
  return { answer, exit };
}

test('on SIGTERM ingest stops accepting, answers the webhook in flight with its 2xx, and exits', async () => {
  const webhook = chatbotQualified(workspace.integrations.chatbot!, 'prodbuild', 3);
  const { answer, exit } = await sigtermWhileInFlight('ingest', 'inbox_events', () =>
    fetch(webhook.url, { method: 'POST', headers: webhook.headers(), body: webhook.body }),
  );
  expect(answer.status).toBe(200);
  expect(await answer.json()).toMatchObject({ accepted: true, duplicate: false });
  expect(exit).toBe('0');
});

test('on SIGTERM the api stops accepting, answers the request in flight, and exits', async () => {
  const { answer, exit } = await sigtermWhileInFlight('api', 'leads', () =>
    fetch(`${apiUrl}/api/v1/leads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${workspace.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ source: 'website', first_name: 'Drain', email: 'drain@production.example' }),
    }),
  );
  expect(answer.status).toBe(201);
  expect(exit).toBe('0');
});
