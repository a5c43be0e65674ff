// Operating the inbox: the relay delivers what was left pending, operators list events (partner, status,
// time) and replay one or a time window, over the API (admin token or admin key) and the CLI.
import { storeInboxEvent } from '../../data/inbox';
import type { InboundEvent } from '../../activities/partners/types';
import type { DeliveryDeps } from '../../usecases/inbox';
import { runInboxCli, UsageError } from '../../services/ingest/cli';
import { relayOnce, startRelay } from '../../services/ingest/relay';
import { ADMIN_TOKEN, call, registerWorkspace, startHarness, type Harness } from '../support/harness';
import {
  createIntegration,
  fixture,
  historyRows,
  journeyWhere,
  postStandard,
  uniqueEmail,
  waitFor,
  type CreatedIntegration,
} from '../support/ingest';

let harness: Harness;
let deps: DeliveryDeps;
let key: string;
let workspaceId: string;
let readKey: string;
let other: { workspaceId: string; apiKey: string };
let resman: CreatedIntegration;
let webform: CreatedIntegration;
let otherWebform: CreatedIntegration;

beforeAll(async () => {
  harness = await startHarness();
  deps = { pool: harness.pool, temporal: harness.client, journeys: harness.journeys };
  ({ apiKey: key, workspaceId } = await registerWorkspace(harness.apiUrl));
  ({ apiKey: readKey } = await registerWorkspace(harness.apiUrl, { permissions: ['read', 'update'] }));
  other = await registerWorkspace(harness.apiUrl);
  resman = await createIntegration(harness, key, { partner: 'resman' });
  webform = await createIntegration(harness, key, { partner: 'webform' });
  otherWebform = await createIntegration(harness, other.apiKey, { partner: 'webform' });
});
afterAll(async () => {
  await harness?.stop();
});

const inbox = (path = '') => `${harness.apiUrl}/api/v1/inbox${path}`;

/** An event stored as if the process died between the inbox insert and the signal: pending, due now. */
async function storedButNotSignalled(email: string) {
  const event: InboundEvent = {
    partnerEventId: `crash-${email}`,
    eventType: 'inquiry.submitted',
    occurredAt: new Date().toISOString(),
    lead: { create: { email, firstName: 'Pending' } },
    events: [],
  };
  const { row } = await storeInboxEvent(harness.pool, {
    workspaceId,
    integrationId: webform.id,
    partner: 'webform',
    event,
    headers: {},
    rawBody: Buffer.from(JSON.stringify({ email })),
  });
  await harness.pool.query('UPDATE inbox_events SET next_attempt_at = now() WHERE id = $1', [row.id]);
  return row;
}

async function unmatchedResmanStatus(externalId: string) {
  const answer = await postStandard(
    resman,
    fixture('resman', 'status-update.json', { lead_id: externalId, new_status: 'contacted' }),
  );
  expect(answer.status).toBe(202);
  const { rows } = await harness.pool.query(
    "SELECT id FROM inbox_events WHERE integration_id = $1 AND normalized->'lead'->'find'->0->>'externalId' = $2",
    [resman.id, externalId],
  );
  return rows[0].id as string;
}

async function leadWithResmanId(externalId: string) {
  const answer = await call(`${harness.apiUrl}/api/v1/leads`, 'POST', key, {
    source: 'website',
    email: uniqueEmail(),
    external_ids: { resman: externalId },
  });
  await journeyWhere(harness, workspaceId, answer.body.id, (s) => s.counters.events > 0);
  return answer.body.id as string;
}

describe('the relay', () => {
  test('delivers an event stored but never signalled, and the journey starts', async () => {
    const email = uniqueEmail('crash');
    const row = await storedButNotSignalled(email);
    const relay = startRelay(deps, { intervalMs: 20, workspaceId });
    try {
      const delivered = await waitFor(`the relay to deliver inbox row ${row.id}`, async () => {
        const { rows } = await harness.pool.query('SELECT status, lead_id FROM inbox_events WHERE id = $1', [
          row.id,
        ]);
        return rows[0].status === 'delivered' ? rows[0] : undefined;
      });
      const state = await journeyWhere(
        harness,
        workspaceId,
        delivered.lead_id,
        (s) => s.counters.events === 1,
      );
      expect(state.status).toBe('new');
    } finally {
      await relay.stop();
    }
  });

  test('leaves alone a freshly stored event its request is still delivering', async () => {
    const email = uniqueEmail('fresh');
    const row = await storedButNotSignalled(email);
    await harness.pool.query(
      "UPDATE inbox_events SET next_attempt_at = now() + interval '30 seconds' WHERE id = $1",
      [row.id],
    );
    const result = await relayOnce(deps, { workspaceId });
    expect(result.claimed).toBe(0);
    const { rows } = await harness.pool.query('SELECT status, attempts FROM inbox_events WHERE id = $1', [
      row.id,
    ]);
    expect(rows[0]).toEqual({ status: 'pending', attempts: 0 });
  });
});

describe('GET /api/v1/inbox', () => {
  test('lists newest first, filtered by partner, status and time, paged with a cursor', async () => {
    const start = new Date().toISOString();
    for (let i = 0; i < 3; i++) {
      await postStandard(
        webform,
        fixture('webform', 'inquiry.json', { email: uniqueEmail('page'), phone: undefined }),
      );
    }
    await unmatchedResmanStatus(`RM-LIST-${Date.now()}`);
    const byPartner = await call(inbox(`?partner=webform&received_from=${start}`), 'GET', key);
    expect(byPartner.status).toBe(200);
    expect(byPartner.body.events).toHaveLength(3);
    expect(byPartner.body.events.every((e: any) => e.partner === 'webform' && e.status === 'delivered')).toBe(
      true,
    );
    const times = byPartner.body.events.map((e: any) => e.received_at);
    expect([...times].sort().reverse()).toEqual(times);

    const unmatched = await call(inbox(`?status=unmatched&received_from=${start}`), 'GET', key);
    expect(unmatched.body.events.map((e: any) => [e.partner, e.status, e.journey_events])).toEqual([
      ['resman', 'unmatched', ['partner_status']],
    ]);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await call(
        inbox(`?received_from=${start}&limit=2${cursor ? `&cursor=${cursor}` : ''}`),
        'GET',
        key,
      );
      seen.push(...page.body.events.map((e: any) => e.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen).toHaveLength(4);
    expect(new Set(seen).size).toBe(4);

    const future = await call(inbox('?received_from=2999-01-01'), 'GET', key);
    expect(future.body.events).toEqual([]);
    const bad = await call(inbox('?status=lost&partner=yardi'), 'GET', key);
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.fields.map((f: any) => f.field).sort()).toEqual(['partner', 'status.0']);
  });

  test('a workspace key sees only its own workspace; the admin token sees all and can narrow', async () => {
    await postStandard(
      otherWebform,
      fixture('webform', 'inquiry.json', { email: uniqueEmail('other'), phone: undefined }),
    );
    const mine = await call(inbox('?limit=500'), 'GET', key);
    expect(mine.body.events.every((e: any) => e.workspace_id === workspaceId)).toBe(true);
    const theirs = await call(inbox(`?workspace_id=${other.workspaceId}`), 'GET', key);
    expect(theirs.status).toBe(403);
    const operator = await call(inbox(`?workspace_id=${other.workspaceId}`), 'GET', ADMIN_TOKEN);
    expect(operator.status).toBe(200);
    expect(operator.body.events.length).toBeGreaterThan(0);
    expect(operator.body.events.every((e: any) => e.workspace_id === other.workspaceId)).toBe(true);
    const foreign = operator.body.events[0].id;
    expect((await call(inbox(`/${foreign}`), 'GET', key)).status).toBe(404);
    expect((await call(inbox(`/${foreign}/replay`), 'POST', key)).status).toBe(404);
  });

  test('a key without the admin permission is 403; no key is 401', async () => {
    expect((await call(inbox(), 'GET', readKey)).status).toBe(403);
    expect((await call(inbox(), 'GET', undefined)).status).toBe(401);
  });

  test('one event shows its raw body, headers and what the adapter made of it, no secrets', async () => {
    const answer = await postStandard(
      webform,
      fixture('webform', 'inquiry.json', { email: uniqueEmail('one'), phone: undefined }),
    );
    const { rows } = await harness.pool.query('SELECT id FROM inbox_events WHERE lead_id = $1', [
      answer.body.lead_id,
    ]);
    const event = await call(inbox(`/${rows[0].id}`), 'GET', ADMIN_TOKEN);
    expect(event.status).toBe(200);
    expect(JSON.parse(event.body.raw_body)).toMatchObject({ form_id: 'contact-us' });
    expect(event.body.headers['webhook-id']).toEqual(expect.any(String));
    expect(event.body.headers.authorization).toBeUndefined();
    expect(event.body.normalized.lead.create.firstName).toBe('Maria');
  });
});

describe('replay', () => {
  test('POST /api/v1/inbox/:id/replay of a delivered event changes nothing in the journey (same event ids)', async () => {
    const externalId = `RM-AGAIN-${Date.now()}`;
    const leadId = await leadWithResmanId(externalId);
    const answer = await postStandard(
      resman,
      fixture('resman', 'status-update.json', { lead_id: externalId }),
    );
    await journeyWhere(harness, workspaceId, leadId, (s) => s.status === 'tour_scheduled');
    const { rows } = await harness.pool.query('SELECT id FROM inbox_events WHERE lead_id = $1', [
      answer.body.lead_id,
    ]);
    const replay = await call(inbox(`/${rows[0].id}/replay`), 'POST', ADMIN_TOKEN);
    expect(replay.body).toMatchObject({ previous_status: 'delivered', status: 'delivered', lead_id: leadId });
    const state = await journeyWhere(
      harness,
      workspaceId,
      leadId,
      (s) => s.lastEventId === `inbox/${rows[0].id}/1`,
    );
    expect(state.status).toBe('tour_scheduled');
    expect(
      (await historyRows(harness, leadId)).filter((r) => r.new_status === 'tour_scheduled'),
    ).toHaveLength(1);
    const after = await harness.pool.query('SELECT replay_count FROM inbox_events WHERE id = $1', [
      rows[0].id,
    ]);
    expect(after.rows[0].replay_count).toBe(1);
  });

  test('POST /api/v1/inbox/replay replays a time window, delivering what can be now', async () => {
    const start = new Date().toISOString();
    const ids = [`RM-WIN-A-${Date.now()}`, `RM-WIN-B-${Date.now()}`];
    for (const id of ids) await unmatchedResmanStatus(id);
    const leadA = await leadWithResmanId(ids[0]!);
    const end = new Date().toISOString();
    const answer = await call(inbox('/replay'), 'POST', key, {
      received_from: start,
      received_to: end,
      partner: 'resman',
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ replayed: 2, counts: { delivered: 1, unmatched: 1 } });
    expect(answer.body.results.map((r: any) => r.status)).toEqual(['delivered', 'unmatched']);
    await journeyWhere(harness, workspaceId, leadA, (s) => s.status === 'contacted');
    const bad = await call(inbox('/replay'), 'POST', key, { received_from: 'yesterday' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.fields.map((f: any) => f.field).sort()).toEqual([
      'received_from',
      'received_to',
    ]);
  });

  test('the CLI lists by partner and status and replays one event and a window', async () => {
    const start = new Date().toISOString();
    const externalId = `RM-CLI-${Date.now()}`;
    const inboxId = await unmatchedResmanStatus(externalId);
    const lines: string[] = [];
    const out = (line: string) => lines.push(line);
    await runInboxCli(
      [
        'list',
        '--workspace',
        workspaceId,
        '--partner',
        'resman',
        '--status',
        'unmatched',
        '--from',
        start,
        '--json',
      ],
      deps,
      out,
    );
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({ id: inboxId, partner: 'resman', status: 'unmatched', lead_id: null }),
    ]);

    const leadId = await leadWithResmanId(externalId);
    lines.length = 0;
    await runInboxCli(['replay', inboxId], deps, out);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      id: inboxId,
      previous_status: 'unmatched',
      status: 'delivered',
      lead_id: leadId,
    });
    await journeyWhere(harness, workspaceId, leadId, (s) => s.status === 'contacted');

    lines.length = 0;
    await runInboxCli(
      ['replay', '--workspace', workspaceId, '--from', start, '--to', new Date().toISOString()],
      deps,
      out,
    );
    expect(lines[lines.length - 1]).toBe('1 event(s) replayed');

    lines.length = 0;
    await runInboxCli(
      ['list', '--workspace', workspaceId, '--partner', 'resman', '--from', start],
      deps,
      out,
    );
    expect(lines[0]).toContain(inboxId);
    expect(lines[lines.length - 1]).toBe('1 event(s)');

    await expect(runInboxCli(['replay'], deps, out)).rejects.toThrow(UsageError);
    await expect(runInboxCli(['list', '--status', 'sleeping'], deps, out)).rejects.toThrow(/--status/);
    await expect(runInboxCli(['explode'], deps, out)).rejects.toThrow(/unknown command/);
  });
});
