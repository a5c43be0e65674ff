// Outbound webhooks end to end on the real stack: endpoints registered over HTTP, journey and API events
// fanned out from the outbox by the dispatcher loop (woken by NOTIFY), one delivery workflow per message,
// Standard Webhooks signatures verified by the `standardwebhooks` library, per-lead order, test events,
// secret rotation and the delivery log.
import { inspect } from 'node:util';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NativeConnection, Worker } from '@temporalio/worker';
import { Webhook } from 'standardwebhooks';
import { createActivities } from '../../activities';
import { KeyRing } from '../../shared/crypto';
import { WebhookDispatcher } from '../../services/worker/webhookDispatcher';
import { testStack } from '../setup/stack';
import {
  call,
  dataConverter,
  ENCRYPTION_KEYS,
  registerWorkspace,
  startHarness,
  type Harness,
} from '../support/harness';
import { waitFor } from '../support/wait';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  payload: any;
}

let harness: Harness;
let key: string;
let workspaceId: string;
let server: Server;
let receiverUrl: string;
let connection: NativeConnection;
let worker: Worker;
let running: Promise<void>;
let dispatcher: WebhookDispatcher;
const received: Received[] = [];
/** Per request: the status to answer (tests replace it). */
let respond: (req: Received) => number = () => 200;
const taskQueue = `webhooks-${randomUUID()}`;

const api = (path: string) => `${harness.apiUrl}/api/v1${path}`;

beforeAll(async () => {
  harness = await startHarness();
  ({ apiKey: key, workspaceId } = await registerWorkspace(harness.apiUrl));
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      const got = { path: req.url ?? '', headers: req.headers, body, payload: JSON.parse(body) };
      received.push(got);
      res.writeHead(respond(got)).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // The worker process's part: delivery workflows and activities (with the keys that open the secrets),
  // and the dispatcher loop. Retries are quick here; the hours-long schedule is tested with time skipping.
  const stack = testStack();
  connection = await NativeConnection.connect({ address: stack.temporalAddress });
  worker = await Worker.create({
    connection,
    taskQueue,
    workflowBundle: { codePath: stack.workflowBundlePath },
    // The dispatcher starts deliveries with the harness's client, which encrypts payloads.
    dataConverter,
    activities: createActivities({ pool: harness.pool, keyRing: KeyRing.parse(ENCRYPTION_KEYS) }),
  });
  running = worker.run();
  dispatcher = new WebhookDispatcher({
    pool: harness.pool,
    client: harness.client,
    taskQueue,
    pollMs: 5000,
    retryScheduleSeconds: [0.2, 0.2, 0.2],
  });
  dispatcher.start();
});

afterAll(async () => {
  // Endpoints left behind would get later files' events: delete them (their queued messages are cancelled).
  const list = await call(api('/webhook-endpoints'), 'GET', key).catch(() => undefined);
  for (const endpoint of list?.body?.webhook_endpoints ?? []) {
    await call(api(`/webhook-endpoints/${endpoint.id}`), 'DELETE', key);
  }
  await dispatcher?.stop();
  worker?.shutdown();
  await running;
  await connection?.close();
  await new Promise((resolve) => server?.close(resolve));
  await harness?.stop();
});

/** The receiver's requests matching the filter, once there are `count` of them. */
function receivedWhere(filter: (r: Received) => boolean, count = 1): Promise<Received[]> {
  return waitFor(`${count} matching request(s) at the receiver`, () => received.filter(filter), {
    until: (found) => found.length >= count,
    show: () =>
      inspect(
        received.slice(-5).map((r) => [r.path, r.payload?.type]),
        { breakLength: 120 },
      ),
  });
}

/**
 * The endpoint's delivery log (over the API) once it has `count` attempts; rows are written after the receiver
 * answers. The wait reads the table, so it does not spend the workspace's API budget.
 */
async function deliveriesOf(endpointId: string, count: number): Promise<any[]> {
  await waitFor(
    `${count} delivery attempt(s) of endpoint ${endpointId}`,
    async () =>
      Number(
        (
          await harness.pool.query('SELECT count(*) AS n FROM webhook_deliveries WHERE endpoint_id = $1', [
            endpointId,
          ])
        ).rows[0].n,
      ),
    { until: (n) => n >= count },
  );
  return (await call(api(`/webhook-endpoints/${endpointId}/deliveries?limit=500`), 'GET', key)).body
    .deliveries;
}

async function register(path: string, events: string[], extra: Record<string, unknown> = {}) {
  const answer = await call(api('/webhook-endpoints'), 'POST', key, {
    name: `receiver ${path}`,
    url: `${receiverUrl}${path}`,
    events,
    ...extra,
  });
  expect(answer.status).toBe(201);
  return answer.body as { id: string; secret: string };
}

async function createLead(): Promise<string> {
  const answer = await call(api('/leads'), 'POST', key, {
    source: 'website',
    email: `${randomUUID()}@example.com`,
  });
  expect(answer.status).toBe(201);
  return answer.body.id;
}

describe('registration', () => {
  test('answers the whsec_ secret once, stores it sealed, and never shows it again', async () => {
    const created = await register('/once', ['lead.created']);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(created.secret.slice(6), 'base64')).toHaveLength(24);
    const read = await call(api(`/webhook-endpoints/${created.id}`), 'GET', key);
    expect(read.body).toMatchObject({ id: created.id, status: 'active', events: ['lead.created'] });
    expect(JSON.stringify(read.body)).not.toContain(created.secret);
    const stored = await harness.pool.query('SELECT secret_sealed FROM webhook_endpoints WHERE id = $1', [
      created.id,
    ]);
    expect(stored.rows[0].secret_sealed).not.toContain(created.secret.slice(6));
    const list = await call(api('/webhook-endpoints'), 'GET', key);
    expect(list.body.event_types).toEqual(expect.arrayContaining(['lead.created', 'conversion.logged']));
    expect(JSON.stringify(list.body)).not.toContain(created.secret);
    await call(api(`/webhook-endpoints/${created.id}`), 'DELETE', key);
  });

  test('refuses a bad URL, unknown event types and a malformed secret, naming each', async () => {
    const answer = await call(api('/webhook-endpoints'), 'POST', key, {
      name: 'bad',
      url: 'ftp://example.com/hook',
      events: ['lead.exploded'],
      secret: 'not-a-secret',
    });
    expect(answer.status).toBe(400);
    const fields = answer.body.error.details.fields.map((f: any) => f.field);
    expect(fields).toEqual(expect.arrayContaining(['url', 'events.0', 'secret']));
  });

  test('a secret the client chooses is used to sign', async () => {
    const secret = `whsec_${randomUUID().replace(/-/g, '')}AAAA`;
    const created = await register('/chosen', ['lead.created'], { secret });
    expect(created.secret).toBe(secret);
    const leadId = await createLead();
    const [got] = await receivedWhere((r) => r.path === '/chosen' && r.payload.data.lead_id === leadId);
    expect(new Webhook(secret).verify(got!.body, got!.headers as Record<string, string>)).toMatchObject({
      type: 'lead.created',
    });
    await call(api(`/webhook-endpoints/${created.id}`), 'DELETE', key);
  });
});

describe('delivery', () => {
  test('journey and API events arrive signed, verifiable with the standardwebhooks library', async () => {
    const all = await register('/all', ['*']);
    const conversionsOnly = await register('/conversions', ['conversion.logged']);
    const leadId = await createLead();
    const moved = await call(api(`/leads/${leadId}/status`), 'PUT', key, { new_status: 'contacted' });
    expect(moved.status).toBe(200);
    const conversion = await call(api('/conversions'), 'POST', key, {
      contact_id: leadId,
      conversion_type: 'lease',
      conversion_value: 1850,
    });
    expect(conversion.status).toBe(201);

    const mine = (path: string) => (r: Received) => r.path === path && r.payload.data.lead_id === leadId;
    const got = await receivedWhere(mine('/all'), 3);
    const wh = new Webhook(all.secret);
    const types = got.map((r) => (wh.verify(r.body, r.headers as Record<string, string>) as any).type);
    expect(types.sort()).toEqual(['conversion.logged', 'lead.created', 'lead.status_changed']);
    const changed = got.find((r) => r.payload.type === 'lead.status_changed')!;
    expect(changed.payload).toMatchObject({
      timestamp: expect.any(String),
      data: { lead_id: leadId, workspace_id: workspaceId, old_status: 'new', new_status: 'contacted' },
    });
    expect(() => new Webhook(conversionsOnly.secret).verify(changed.body, changed.headers as any)).toThrow();

    const [onlyConversion] = await receivedWhere(mine('/conversions'));
    expect(onlyConversion!.payload).toMatchObject({
      type: 'conversion.logged',
      data: { id: conversion.body.id, conversion_value: 1850 },
    });
    const deliveries = await deliveriesOf(all.id, 3);
    expect(deliveries[0]).toMatchObject({ success: true, status_code: 200, attempt: 1 });
    expect(received.filter(mine('/conversions'))).toHaveLength(1);
    await call(api(`/webhook-endpoints/${all.id}`), 'DELETE', key);
    await call(api(`/webhook-endpoints/${conversionsOnly.id}`), 'DELETE', key);
  });

  test('a lead’s events arrive in order even when the first one needs a retry', async () => {
    const endpoint = await register('/ordered', ['lead.created', 'lead.status_changed']);
    let failedOnce = false;
    respond = (r) => {
      if (r.path === '/ordered' && r.payload.type === 'lead.created' && !failedOnce) {
        failedOnce = true;
        return 500;
      }
      return 200;
    };
    const leadId = await createLead();
    for (const status of ['contacted', 'qualified', 'lost']) {
      expect((await call(api(`/leads/${leadId}/status`), 'PUT', key, { new_status: status })).status).toBe(
        200,
      );
    }
    const got = await receivedWhere(
      (r) =>
        r.path === '/ordered' && r.payload.data.lead_id === leadId && r.payload.data.new_status === 'lost',
    ).then(() => received.filter((r) => r.path === '/ordered' && r.payload.data.lead_id === leadId));
    // At least once (a repeat carries the same webhook-id) and in order: the failed lead.created was retried,
    // and nothing of this lead arrived before it.
    const events = got.map((r) => r.payload.data.new_status ?? r.payload.type);
    expect(events.filter((e, i) => e !== events[i - 1])).toEqual([
      'lead.created',
      'contacted',
      'qualified',
      'lost',
    ]);
    expect(events.slice(0, 2)).toEqual(['lead.created', 'lead.created']);
    expect(got[0]!.headers['webhook-id']).toBe(got[1]!.headers['webhook-id']);
    const failed = await call(api(`/webhook-endpoints/${endpoint.id}/deliveries?success=false`), 'GET', key);
    expect(failed.body.deliveries).toEqual([
      expect.objectContaining({ attempt: 1, success: false, status_code: 500, event_type: 'lead.created' }),
    ]);
    expect(failed.body.deliveries[0].next_attempt_at).toEqual(expect.any(String));
    respond = () => 200;
    await call(api(`/webhook-endpoints/${endpoint.id}`), 'DELETE', key);
  });
});

describe('operations', () => {
  test('a test event reaches the endpoint and shows in the delivery log, which pages', async () => {
    const endpoint = await register('/test', ['lead.status_changed']);
    const messages: string[] = [];
    for (let i = 0; i < 3; i++) {
      const queued = await call(api(`/webhook-endpoints/${endpoint.id}/test`), 'POST', key);
      expect(queued.status).toBe(202);
      messages.push(queued.body.message_id);
    }
    const got = await receivedWhere((r) => r.path === '/test', 3);
    expect(got.map((r) => r.headers['webhook-id']).sort()).toEqual([...messages].sort());
    expect(got[0]!.payload).toMatchObject({ type: 'webhook.test', data: { endpoint_id: endpoint.id } });
    await deliveriesOf(endpoint.id, 3);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await call(
        api(`/webhook-endpoints/${endpoint.id}/deliveries?limit=2${cursor ? `&cursor=${cursor}` : ''}`),
        'GET',
        key,
      );
      expect(page.body.deliveries.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.deliveries.map((d: any) => d.message_id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen.sort()).toEqual([...messages].sort());
    await call(api(`/webhook-endpoints/${endpoint.id}`), 'DELETE', key);
  });

  test('after a rotation, deliveries verify with the new secret and, for a while, the old one', async () => {
    const endpoint = await register('/rotate', ['lead.created']);
    const rotated = await call(api(`/webhook-endpoints/${endpoint.id}/rotate-secret`), 'POST', key);
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(endpoint.secret);
    expect(rotated.body.previous_secret_expires_at).toEqual(expect.any(String));
    await call(api(`/webhook-endpoints/${endpoint.id}/test`), 'POST', key);
    const [got] = await receivedWhere((r) => r.path === '/rotate');
    const headers = got!.headers as Record<string, string>;
    expect(headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(new Webhook(rotated.body.secret).verify(got!.body, headers)).toMatchObject({
      type: 'webhook.test',
    });
    expect(new Webhook(endpoint.secret).verify(got!.body, headers)).toMatchObject({ type: 'webhook.test' });
    expect(() =>
      new Webhook(`whsec_${Buffer.alloc(24, 7).toString('base64')}`).verify(got!.body, headers),
    ).toThrow();
    await call(api(`/webhook-endpoints/${endpoint.id}`), 'DELETE', key);
  });

  test('a disabled endpoint gets nothing and refuses tests until it is enabled again', async () => {
    const endpoint = await register('/paused', ['lead.created']);
    const paused = await call(api(`/webhook-endpoints/${endpoint.id}`), 'PATCH', key, { enabled: false });
    expect(paused.body).toMatchObject({ status: 'disabled', disabled_reason: 'disabled by the workspace' });
    expect((await call(api(`/webhook-endpoints/${endpoint.id}/test`), 'POST', key)).status).toBe(409);
    const missed = await createLead();
    // Its lead.created is fanned out while the endpoint is disabled.
    await waitFor(`the dispatcher to pass over lead.created of ${missed}`, async () => {
      const { rows } = await harness.pool.query(
        `SELECT dispatched_at FROM outbox_events WHERE lead_id = $1 AND event_type = 'lead.created'`,
        [missed],
      );
      return rows[0]?.dispatched_at;
    });
    const resumed = await call(api(`/webhook-endpoints/${endpoint.id}`), 'PATCH', key, { enabled: true });
    expect(resumed.body).toMatchObject({ status: 'active', disabled_reason: null });
    const seen = await createLead();
    await receivedWhere((r) => r.path === '/paused' && r.payload.data.lead_id === seen);
    expect(received.some((r) => r.path === '/paused' && r.payload.data.lead_id === missed)).toBe(false);
    await call(api(`/webhook-endpoints/${endpoint.id}`), 'DELETE', key);
    expect((await call(api(`/webhook-endpoints/${endpoint.id}`), 'GET', key)).status).toBe(404);
  });
});

describe('dispatcher wake-ups', () => {
  test('an outbox row wakes the dispatcher only when its workspace has an active endpoint', async () => {
    // Rows are inserted on a connection of our own and only its notifications count (other test files share this
    // Postgres); a NOTIFY of our own after each insert arrives after any the insert sent, so the wait is exact.
    const writer = await harness.pool.connect();
    const listener = await harness.pool.connect();
    try {
      const pid = (await writer.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      const heard: string[] = [];
      listener.on('notification', (n) => {
        if (n.processId === pid) heard.push(n.payload || '(outbox)');
      });
      await listener.query('LISTEN leadrelay_outbox');
      const insertAndMark = async (workspace: string, marker: string) => {
        await writer.query(
          `INSERT INTO outbox_events (idempotency_key, workspace_id, lead_id, event_type, data)
           VALUES ($1, $2, NULL, 'lead.created', '{}')`,
          [randomUUID(), workspace],
        );
        await writer.query(`SELECT pg_notify('leadrelay_outbox', $1)`, [marker]);
        await waitFor(`our own NOTIFY ${marker}`, () => heard.includes(marker));
      };

      const quiet = await registerWorkspace(harness.apiUrl);
      await insertAndMark(quiet.workspaceId, 'after-quiet');
      expect(heard).toEqual(['after-quiet']);

      const endpoint = await call(`${harness.apiUrl}/api/v1/webhook-endpoints`, 'POST', quiet.apiKey, {
        name: 'wake-up',
        url: `${receiverUrl}/wake-up`,
        events: ['lead.created'],
      });
      expect(endpoint.status).toBe(201);
      await insertAndMark(quiet.workspaceId, 'after-subscribed');
      expect(heard).toEqual(['after-quiet', '(outbox)', 'after-subscribed']);
    } finally {
      await listener.query('UNLISTEN *');
      listener.release();
      writer.release();
    }
  });
});
