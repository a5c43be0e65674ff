// Outbound webhook delivery in Temporal's time-skipping environment, with the real activities, the real test
// Postgres and a local receiver: the Standard Webhooks schedule over hours, Retry-After, signatures the
// `standardwebhooks` library verifies, disabling an endpoint that fails for days, and per-lead order.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import type pg from 'pg';
import { Webhook } from 'standardwebhooks';
import { createActivities } from '../../activities';
import { createPool } from '../../data/pool';
import { createWorkspace } from '../../data/workspaces';
import { createEndpoint, queueTestMessage, type EndpointRecord } from '../../data/webhookEndpoints';
import { KeyRing } from '../../shared/crypto';
import { webhookDeliveryWorkflowId } from '../../shared/ids';
import { RETRY_SCHEDULE_SECONDS } from '../../shared/webhooks';
import { WebhookDispatcher } from '../../services/worker/webhookDispatcher';
import { webhookDelivery } from '../../workflows/webhookDelivery';
import { testStack } from '../setup/stack';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  /** What the receiver answered. */
  status?: number;
}

let env: TestWorkflowEnvironment;
let pool: pg.Pool;
let worker: Worker;
let running: Promise<void>;
let server: Server;
let receiverUrl: string;
let workspaceId: string;
const keyRing = KeyRing.parse(KeyRing.generateSpec());
const taskQueue = `webhooks-${randomUUID()}`;

/** Per test: what the receiver answers (status and headers) for each request, and what it got. */
type Answer = { status: number; headers?: Record<string, string> };
let respond: (n: number, req: Received) => Answer | Promise<Answer>;
let received: Received[];

beforeAll(async () => {
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // Installed by an earlier file in this process.
  }
  const stack = testStack();
  env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: stack.testServerPath } },
  });
  pool = createPool(stack.databaseUrl);
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: { codePath: stack.workflowBundlePath },
    activities: createActivities({ pool, keyRing }),
  });
  running = worker.run();
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const got = { headers: req.headers, body: Buffer.concat(chunks).toString() };
      received.push(got);
      void Promise.resolve(respond(received.length, got)).then((answer) => {
        (got as Received).status = answer.status;
        res.writeHead(answer.status, answer.headers ?? {}).end('ok');
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  ({ workspaceId } = await createWorkspace(pool, {
    name: 'Webhook tests',
    permissions: ['admin'],
    timezone: 'UTC',
  }));
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
  await new Promise((resolve) => server?.close(resolve));
  await pool?.end();
});

beforeEach(() => {
  received = [];
  respond = () => ({ status: 200 });
});

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

async function endpoint(events: string[] = ['*'], workspace = workspaceId): Promise<EndpointRecord> {
  return createEndpoint(pool, keyRing, {
    workspaceId: workspace,
    name: 'receiver',
    url: receiverUrl,
    events,
    secret: SECRET,
  });
}

async function deliver(messageId: string) {
  return env.client.workflow.execute(webhookDelivery, {
    workflowId: webhookDeliveryWorkflowId(messageId),
    taskQueue,
    args: [{ messageId }],
  });
}

/** The durations of the workflow's timers, in seconds, in the order it slept. */
async function sleeps(messageId: string): Promise<number[]> {
  const history = await env.client.workflow.getHandle(webhookDeliveryWorkflowId(messageId)).fetchHistory();
  return (history.events ?? [])
    .map((event) => event.timerStartedEventAttributes?.startToFireTimeout)
    .filter((timeout) => timeout)
    .map((timeout) => Number(timeout!.seconds ?? 0) + (timeout!.nanos ?? 0) / 1e9);
}

async function attempts(messageId: string) {
  const { rows } = await pool.query(
    'SELECT attempt, success, status_code FROM webhook_deliveries WHERE message_id = $1 ORDER BY attempt',
    [messageId],
  );
  return rows.map((r) => [r.attempt, r.success, r.status_code]);
}

test('a failing receiver is retried on the schedule, Retry-After stretching a wait, until it answers 2xx', async () => {
  const target = await endpoint();
  respond = (n) =>
    n === 1
      ? { status: 500 }
      : n === 2
        ? { status: 503, headers: { 'retry-after': '600' } }
        : { status: 204 };
  const { messageId } = await queueTestMessage(pool, target);
  expect(await deliver(messageId)).toBe('delivered');
  expect(await attempts(messageId)).toEqual([
    [1, false, 500],
    [2, false, 503],
    [3, true, 204],
  ]);
  expect(await sleeps(messageId)).toEqual([5, 600]);
  // Every attempt is the same message: same webhook-id, same body, each signed so the library verifies it.
  expect(new Set(received.map((r) => r.headers['webhook-id']))).toEqual(new Set([messageId]));
  expect(new Set(received.map((r) => r.body)).size).toBe(1);
  for (const r of received) {
    const payload = new Webhook(SECRET).verify(r.body, r.headers as Record<string, string>) as any;
    expect(payload).toMatchObject({ type: 'webhook.test', data: { endpoint_id: target.id } });
  }
  const message = await pool.query('SELECT status, attempts FROM webhook_messages WHERE id = $1', [
    messageId,
  ]);
  expect(message.rows[0]).toEqual({ status: 'delivered', attempts: 3 });
  const health = await pool.query(
    'SELECT failing_since, last_success_at FROM webhook_endpoints WHERE id = $1',
    [target.id],
  );
  expect(health.rows[0].failing_since).toBeNull();
  expect(health.rows[0].last_success_at).not.toBeNull();
});

test('a receiver that never answers 2xx gets eight attempts over about 28 hours, then the message fails', async () => {
  const target = await endpoint();
  respond = () => ({ status: 500 });
  const { messageId } = await queueTestMessage(pool, target);
  expect(await deliver(messageId)).toBe('failed');
  expect((await attempts(messageId)).map(([n]) => n)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  expect(await sleeps(messageId)).toEqual([...RETRY_SCHEDULE_SECONDS]);
  const log = await pool.query(
    'SELECT next_attempt_at FROM webhook_deliveries WHERE message_id = $1 ORDER BY attempt DESC LIMIT 1',
    [messageId],
  );
  expect(log.rows[0].next_attempt_at).toBeNull();
  const state = await pool.query(
    `SELECT m.status, e.status AS endpoint_status, e.failing_since IS NOT NULL AS failing
       FROM webhook_messages m JOIN webhook_endpoints e ON e.id = m.endpoint_id WHERE m.id = $1`,
    [messageId],
  );
  expect(state.rows[0]).toEqual({ status: 'failed', endpoint_status: 'active', failing: true });
});

test('an endpoint failing for days is disabled, what waits for it is cancelled, and staff get a task', async () => {
  const target = await endpoint();
  // It has failed every attempt for 5 days less 1 hour, by the workflow clock (skipped ahead by earlier tests).
  const clock = await env.currentTimeMs();
  const { rows } = await pool.query(
    `UPDATE webhook_endpoints SET failing_since = $2 WHERE id = $1 RETURNING failing_since`,
    [target.id, new Date(clock - 5 * 24 * 3600_000 + 3600_000)],
  );
  expect(rows[0].failing_since).not.toBeNull();
  respond = () => ({ status: 502 });
  const { messageId } = await queueTestMessage(pool, target);
  const waiting = await queueTestMessage(pool, target);
  expect(await deliver(messageId)).toBe('failed');
  // 5 s + 5 min + 30 min + 2 h later, attempt 5 is past the 5 days.
  expect((await attempts(messageId)).length).toBe(5);
  const state = await pool.query(
    `SELECT e.status, e.disabled_reason, m.status AS waiting
       FROM webhook_endpoints e JOIN webhook_messages m ON m.endpoint_id = e.id WHERE e.id = $1 AND m.id = $2`,
    [target.id, waiting.messageId],
  );
  expect(state.rows[0]).toMatchObject({ status: 'disabled', waiting: 'cancelled' });
  expect(state.rows[0].disabled_reason).toMatch(/^every delivery failed since/);
  const tasks = await pool.query(
    `SELECT details FROM staff_tasks WHERE workspace_id = $1 AND kind = 'webhook_endpoint_disabled'`,
    [workspaceId],
  );
  expect(tasks.rows.map((t) => t.details.endpoint_id)).toContain(target.id);
});

test('a message whose endpoint is disabled between attempts is cancelled, not sent again', async () => {
  const target = await endpoint();
  respond = async () => {
    await pool.query(`UPDATE webhook_endpoints SET status = 'disabled' WHERE id = $1`, [target.id]);
    return { status: 500 };
  };
  const { messageId } = await queueTestMessage(pool, target);
  expect(await deliver(messageId)).toBe('cancelled');
  expect(received).toHaveLength(1);
});

test('the dispatcher keeps each lead’s order on an endpoint and lets other leads pass', async () => {
  // A workspace of its own: the endpoints of the tests above must not receive these events.
  const own = await createWorkspace(pool, { name: 'Ordering', permissions: ['admin'], timezone: 'UTC' });
  const target = await endpoint(['lead.status_changed'], own.workspaceId);
  const [slow, other] = [randomUUID(), randomUUID()];
  await pool.query(`UPDATE outbox_events SET dispatched_at = now() WHERE dispatched_at IS NULL`);
  for (const [lead, n] of [
    [slow, 1],
    [slow, 2],
    [other, 1],
    [slow, 3],
  ] as [string, number][]) {
    await pool.query(
      `INSERT INTO outbox_events (idempotency_key, workspace_id, lead_id, event_type, data)
       VALUES ($1, $2, $3, 'lead.status_changed', $4)`,
      [randomUUID(), own.workspaceId, lead, JSON.stringify({ lead_id: lead, n })],
    );
  }
  await pool.query(
    `INSERT INTO outbox_events (idempotency_key, workspace_id, lead_id, event_type, data)
     VALUES ($1, $2, $3, 'lead.created', '{}')`,
    [randomUUID(), own.workspaceId, slow],
  );
  // Messages other test files left queued are not this test's to start.
  await pool.query(`UPDATE webhook_messages SET status = 'cancelled' WHERE status = 'queued'`);
  const dispatcher = new WebhookDispatcher({ pool, client: env.client, taskQueue });
  // The slow lead's first event fails once and is retried 5 s later.
  respond = (_n, req) => {
    const data = JSON.parse(req.body).data;
    const firstTry = received.filter((r) => r.body === req.body).length === 1;
    return { status: data.lead_id === slow && data.n === 1 && firstTry ? 500 : 200 };
  };
  const order = async () => {
    const { rows } = await pool.query(
      `SELECT id FROM webhook_messages WHERE endpoint_id = $1 AND status = 'sending' ORDER BY seq`,
      [target.id],
    );
    return rows.map((r) => r.id as string);
  };
  const first = await dispatcher.runOnce();
  expect(first.events).toBe(5);
  // One message per lead is under way: the slow lead's first, and the other lead's; lead.created was not subscribed.
  const sending = await order();
  expect(sending).toHaveLength(2);
  expect((await dispatcher.runOnce()).started).toBe(0);
  // Each round finishes at least one message per lead; five events need at most five rounds.
  for (let round = 1; ; round += 1) {
    const ids = await order();
    if (ids.length === 0) break;
    if (round > 5) throw new Error(`messages still sending after 5 dispatch rounds: ${ids.join(', ')}`);
    // One result at a time: each result() unlocks and relocks the test server's time skipping.
    for (const id of ids) await env.client.workflow.getHandle(webhookDeliveryWorkflowId(id)).result();
    await dispatcher.runOnce();
  }
  // Delivery is at least once (a retried attempt may repeat a message, with the same webhook-id), and in
  // order: no event of the lead arrives before the one before it was answered 2xx.
  const requests = received
    .filter((r) => JSON.parse(r.body).data.lead_id === slow)
    .map((r) => ({ n: JSON.parse(r.body).data.n as number, id: r.headers['webhook-id'], status: r.status }));
  expect(requests[0]).toMatchObject({ n: 1, status: 500 });
  expect(requests.map((r) => r.n)).toEqual([...requests.map((r) => r.n)].sort());
  expect([...new Set(requests.map((r) => r.n))]).toEqual([1, 2, 3]);
  for (const n of [2, 3]) {
    const first = requests.findIndex((r) => r.n === n);
    expect(requests.slice(0, first).some((r) => r.n === n - 1 && r.status === 200)).toBe(true);
  }
  expect(new Set(requests.filter((r) => r.n === 1).map((r) => r.id)).size).toBe(1);
  const statuses = await pool.query(
    `SELECT status, count(*)::int AS n FROM webhook_messages WHERE endpoint_id = $1 GROUP BY 1`,
    [target.id],
  );
  expect(statuses.rows).toEqual([{ status: 'delivered', n: 4 }]);
});
