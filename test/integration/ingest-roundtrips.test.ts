// What one webhook costs Postgres: ingest's SQL statements counted per webhook (a regression fails here, not in
// a benchmark), and its caches of what rarely changes, dropped by Postgres NOTIFY the moment it changes.
import { createHmac, randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type pg from 'pg';
import { takesPushes } from '../../activities/partners';
import { ConfigListener } from '../../data/configCache';
import { IntegrationCache } from '../../data/integrations';
import { PolicyCache } from '../../data/policies';
import { createPool } from '../../data/pool';
import { createIngestApp } from '../../services/ingest/app';
import { KeyRing } from '../../shared/crypto';
import { leadWorkflowId } from '../../shared/ids';
import { Gate } from '../../shared/gate';
import { createLogger } from '../../shared/logger';
import { SignalQueue } from '../../usecases/signalQueue';
import { testStack } from '../setup/stack';
import { journeyStart } from '../support/history';
import { call, ENCRYPTION_KEYS, registerWorkspace, startHarness, type Harness } from '../support/harness';
import {
  createIntegration,
  fixture,
  journeyWhere,
  post,
  postStandard,
  uniqueEmail,
  waitFor,
  type CreatedIntegration,
} from '../support/ingest';

/** The statements one ingest sends Postgres, as sent (the pool's own and every checked-out client's). */
class StatementLog {
  statements: string[] = [];
  watch(pool: pg.Pool): void {
    pool.on('connect', (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
        const first = args[0] as string | { text?: string };
        this.statements.push((typeof first === 'string' ? first : (first.text ?? '')).replace(/\s+/g, ' '));
        return query(...args);
      };
    });
  }
}

let harness: Harness;
let apiKey: string;
let workspaceId: string;
let webform: CreatedIntegration;
let ingest: { server: Server; url: string; pool: pg.Pool; listener: ConfigListener; log: StatementLog };

beforeAll(async () => {
  harness = await startHarness();
  ({ apiKey, workspaceId } = await registerWorkspace(harness.apiUrl));
  await call(`${harness.apiUrl}/api/v1/properties`, 'POST', apiKey, {
    property_id: 'maple',
    name: 'Maple Commons',
    timezone: 'America/Chicago',
    vertical: 'multifamily',
  });
  webform = await createIntegration(harness, apiKey, { partner: 'webform', property_id: 'maple' });
  // An ingest of its own, wired as services/ingest/main.ts wires it, whose every statement is counted. Its caches
  // keep entries for an hour: only a NOTIFY can make them let go within a test.
  const pool = createPool(testStack().databaseUrl, 10);
  const log = new StatementLog();
  log.watch(pool);
  const listener = ConfigListener.forPool(pool);
  listener.start();
  const keyRing = KeyRing.parse(ENCRYPTION_KEYS);
  const app = createIngestApp({
    pool,
    temporal: harness.client,
    journeys: harness.journeys,
    logger: createLogger('test', 'silent'),
    keyRing,
    integrations: new IntegrationCache(pool, keyRing, listener, 3_600_000),
    policies: new PolicyCache(pool, listener, takesPushes, 3_600_000),
    gate: new Gate(8),
    signals: new SignalQueue(32),
  });
  const server = await new Promise<Server>((resolveServer) => {
    const s = app.listen(0, '127.0.0.1', () => resolveServer(s));
  });
  await waitFor('the config listener to listen', () => listener.live);
  ingest = { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, pool, listener, log };
});

afterAll(async () => {
  if (ingest) {
    ingest.server.closeAllConnections();
    await new Promise((resolveClose) => ingest.server.close(resolveClose));
    await ingest.listener.stop();
    await ingest.pool.end();
  }
  await harness?.stop();
});

const viaCounted = (integration: CreatedIntegration) => ({
  ...integration,
  webhook_url: integration.webhook_url.replace(harness.ingestUrl, ingest.url),
});

const inquiry = () => fixture('webform', 'inquiry.json', { email: uniqueEmail('count'), phone: undefined });

test('a new lead’s web form webhook costs Postgres one statement before its signal and one after (at most 4)', async () => {
  // The first webhook of an integration reads it (and its workspace's policy) into the caches.
  expect((await postStandard(viaCounted(webform), inquiry())).status).toBe(200);
  ingest.log.statements = [];

  const answer = await postStandard(viaCounted(webform), inquiry());
  expect(answer.status).toBe(200);
  expect(answer.body).toMatchObject({ accepted: true, duplicate: false, status: 'delivered' });
  const statements = ingest.log.statements;
  // Stored, lead created and linked in one call; marked delivered after the signal. Nothing read back.
  expect(statements).toEqual([
    expect.stringMatching(/^SELECT \* FROM leadrelay_receive_events\(/),
    expect.stringMatching(/^UPDATE inbox_events SET status = 'delivered'/),
  ]);
  expect(statements.length).toBeLessThanOrEqual(4);
  // The journey started from the context ingest gave it: applied, no context load of its own.
  const state = await journeyWhere(harness, workspaceId, answer.body.lead_id, (s) => s.counters.events === 1);
  expect(state.status).toBe('new');
  // Its partners, rules and zone were read in that one statement, for this inquiry: the journey decided it
  // without reading them again, and its recording matched the sequences too. One activity for a new lead.
  const start = await journeyStart(
    harness.client,
    leadWorkflowId(workspaceId, answer.body.lead_id as string),
  );
  expect(start).toMatchObject({
    eventId: expect.any(String),
    readFor: start.eventId,
    policy: { timeZone: 'America/Chicago', connectedPartners: [], rules: [] },
    scheduled: ['recordJourneyChange'],
  });
});

test('a redelivered webhook costs one statement', async () => {
  const payload = inquiry();
  const id = `msg_twice_${Date.now()}`;
  expect((await postStandard(viaCounted(webform), payload, { id })).status).toBe(200);
  ingest.log.statements = [];
  const again = await postStandard(viaCounted(webform), payload, { id });
  expect(again.body).toMatchObject({ duplicate: true });
  expect(ingest.log.statements).toHaveLength(1);
});

test('a deleted integration answers 404 at once, though ingest had it cached', async () => {
  const doomed = await createIntegration(harness, apiKey, { partner: 'webform' });
  expect((await postStandard(viaCounted(doomed), inquiry())).status).toBe(200);
  const deleted = await call(`${harness.apiUrl}/api/v1/integrations/${doomed.id}`, 'DELETE', apiKey);
  expect(deleted.status).toBe(204);
  // Cached for an hour, yet gone as soon as Postgres tells: the NOTIFY of the deletion dropped it.
  await waitFor('the deleted integration to answer 404', async () => {
    const answer = await postStandard(viaCounted(doomed), inquiry());
    return answer.status === 404 ? answer : undefined;
  });
});

test('a rotated signing key takes effect at once: the old key is refused, the new one accepted', async () => {
  const calendly = await createIntegration(harness, apiKey, {
    partner: 'calendly',
    property_id: 'maple',
    credentials: { signing_key: 'old-signing-key-0123456789' },
  });
  const signed = (key: string, body: string) => {
    const at = Math.floor(Date.now() / 1000);
    const signature = createHmac('sha256', key).update(`${at}.${body}`).digest('hex');
    return { 'content-type': 'application/json', 'calendly-webhook-signature': `t=${at},v1=${signature}` };
  };
  const body = () => {
    const tag = randomBytes(6).toString('hex');
    return JSON.stringify(
      fixture('calendly', 'invitee-created.json', {
        'payload.uri': `https://api.calendly.com/scheduled_events/EV${tag}/invitees/IN${tag}`,
        'payload.email': uniqueEmail('rotate'),
      }),
    );
  };
  const url = viaCounted(calendly).webhook_url;
  const first = body();
  expect((await post(url, first, signed('old-signing-key-0123456789', first))).status).toBe(200);
  const patched = await call(`${harness.apiUrl}/api/v1/integrations/${calendly.id}`, 'PATCH', apiKey, {
    credentials: { signing_key: 'new-signing-key-9876543210' },
  });
  expect(patched.status).toBe(200);
  await waitFor('the old signing key to be refused', async () => {
    const next = body();
    const answer = await post(url, next, signed('old-signing-key-0123456789', next));
    return answer.status === 401 ? answer : undefined;
  });
  const last = body();
  expect((await post(url, last, signed('new-signing-key-9876543210', last))).status).toBe(200);
});

test('a burst larger than the gate waits its turn: every webhook answered 2xx, every journey applies its inquiry', async () => {
  // 48 new leads at once against a gate of 8 and a pool of 10: without the gate they would queue in the pool,
  // whose connection timeout turns a long wait into a 503.
  const answers = await Promise.all(
    Array.from({ length: 48 }, () => postStandard(viaCounted(webform), inquiry())),
  );
  expect(answers.map((a) => a.status).filter((status) => status < 200 || status > 299)).toEqual([]);
  // Answered delivered, or pending when its signal waited longer than ingest waits (the queue signals it).
  for (const answer of answers) expect(['delivered', 'pending']).toContain(answer.body.status);
  const leadIds = answers.map((a) => a.body.lead_id as string);
  expect(new Set(leadIds).size).toBe(48);
  await waitFor('every journey of the burst to apply its inquiry', async () => {
    const { rows } = await harness.pool.query<{ n: number }>(
      `SELECT count(DISTINCT lead_id)::int AS n FROM status_history
        WHERE workspace_id = $1 AND lead_id = ANY($2) AND entry_type = 'applied'`,
      [workspaceId, leadIds],
    );
    return rows[0]!.n === 48 ? rows[0] : undefined;
  });
});

test('a burst past the bounded gate: the overflow is answered 503 overloaded with Retry-After and nothing stored; every 2xx, and every retry, applies once', async () => {
  // A gate of one place bounded at 1 s, timed by a clock the test moves: which webhooks are refused depends on the
  // order of events, never on how fast this machine is.
  let now = 0;
  const gate = new Gate(1, { maxWaitMs: 1000, now: () => now });
  const keyRing = KeyRing.parse(ENCRYPTION_KEYS);
  const app = createIngestApp({
    pool: ingest.pool,
    temporal: harness.client,
    journeys: harness.journeys,
    logger: createLogger('test', 'silent'),
    keyRing,
    integrations: new IntegrationCache(ingest.pool, keyRing, ingest.listener),
    policies: new PolicyCache(ingest.pool, ingest.listener, takesPushes),
    gate,
    signals: new SignalQueue(32),
  });
  const server = await new Promise<Server>((resolveServer) => {
    const s = app.listen(0, '127.0.0.1', () => resolveServer(s));
  });
  const bounded = {
    ...webform,
    webhook_url: webform.webhook_url.replace(
      harness.ingestUrl,
      `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    ),
  };
  const locker = await harness.pool.connect();
  try {
    const send = (id: string) => postStandard(bounded, inquiry(), { id });
    const stamp = Date.now();
    // The first webhook's database call waits on its event's advisory lock (the first thing the call takes), held
    // by the test: the one place stays taken until the test lets go.
    const heldId = `msg_held_${stamp}`;
    await locker.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [`inbox|${webform.id}|${heldId}`]);
    const first = send(heldId);
    await waitFor('the first webhook to hold the gate', () => gate.load.holders === 1 || undefined);
    // Two more while the held call has taken no time yet: the expected wait is 0, both queue.
    const queuedIds = [1, 2].map((i) => `msg_queued_${stamp}_${i}`);
    const queued = queuedIds.map(send);
    await waitFor('two webhooks to queue behind it', () => gate.load.waiting === 2 || undefined);

    // Ten seconds into the held call: a newcomer would wait 3 rounds of it (30 s), past the 1 s bound.
    now += 10_000;
    const refusedIds = [1, 2, 3, 4, 5].map((i) => `msg_refused_${stamp}_${i}`);
    const refused = await Promise.all(refusedIds.map(send));
    for (const answer of refused) {
      expect(answer.status).toBe(503);
      expect(answer.headers.get('retry-after')).toBe('30');
      expect(answer.body).toMatchObject({
        error: {
          code: 'overloaded',
          details: { retry_after: 30, expected_wait_ms: 30_000, max_wait_ms: 1000 },
        },
      });
    }
    expect(gate.load).toEqual({ holders: 1, waiting: 2 }); // refused, never queued
    const stored = (ids: string[]) =>
      harness.pool
        .query<{ partner_event_id: string; n: number }>(
          `SELECT partner_event_id, count(*)::int AS n FROM inbox_events
            WHERE integration_id = $1 AND partner_event_id = ANY($2) GROUP BY partner_event_id`,
          [webform.id, ids],
        )
        .then((r) => r.rows);
    expect(await stored(refusedIds)).toEqual([]); // nothing was acknowledged, nothing was kept

    await locker.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [
      `inbox|${webform.id}|${heldId}`,
    ]);
    const admitted = await Promise.all([first, ...queued]);
    expect(admitted.map((a) => a.status).filter((status) => status < 200 || status > 299)).toEqual([]);
    // The partner retries the refused after Retry-After (its own clock): the gate is free, each is stored once.
    const retried: Awaited<ReturnType<typeof send>>[] = [];
    for (const id of refusedIds) retried.push(await send(id));
    expect(retried.map((a) => a.status).filter((status) => status < 200 || status > 299)).toEqual([]);

    const allIds = [heldId, ...queuedIds, ...refusedIds];
    expect((await stored(allIds)).map((r) => r.n)).toEqual(allIds.map(() => 1));
    const leadIds = [...admitted, ...retried].map((a) => a.body.lead_id as string);
    expect(new Set(leadIds).size).toBe(allIds.length);
    const applied = () =>
      harness.pool
        .query<{ lead_id: string; n: number }>(
          `SELECT lead_id, count(*)::int AS n FROM status_history
            WHERE workspace_id = $1 AND lead_id = ANY($2) AND entry_type = 'applied' GROUP BY lead_id`,
          [workspaceId, leadIds],
        )
        .then((r) => r.rows);
    await waitFor('every admitted and retried webhook’s journey to apply its inquiry', async () =>
      (await applied()).length === leadIds.length ? true : undefined,
    );
    // Exactly once: one applied inquiry per lead, and each journey counts one event.
    expect((await applied()).map((r) => r.n)).toEqual(leadIds.map(() => 1));
    for (const leadId of leadIds) {
      const state = await journeyWhere(harness, workspaceId, leadId, (s) => s.counters.events >= 1);
      expect(state.counters.events).toBe(1);
    }
  } finally {
    await locker.query('SELECT pg_advisory_unlock_all()').finally(() => locker.release());
    server.closeAllConnections();
    await new Promise((resolveClose) => server.close(resolveClose));
  }
});
