// The webhook pipeline against the real stack, through the Standard Webhooks partners (ResMan, web forms, the
// chatbot, A Place for Mom, Caring.com): verified, validated, stored once, resolved, signalled, answered.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { createPool } from '../../data/pool';
import { KeyRing } from '../../shared/crypto';
import { createLogger } from '../../shared/logger';
import { JourneyClient } from '../../usecases/journeys';
import { createIngestApp } from '../../services/ingest/app';
import { relayOnce } from '../../services/ingest/relay';
import { freePort } from '../../infra/local/ports';
import { call, ENCRYPTION_KEYS, registerWorkspace, startHarness, type Harness } from '../support/harness';
import {
  createIntegration,
  fixture,
  historyRows,
  inboxRows,
  journeyWhere,
  post,
  postStandard,
  standardWebhookHeaders,
  uniqueEmail,
  waitFor,
  type CreatedIntegration,
} from '../support/ingest';

let harness: Harness;
let key: string;
let workspaceId: string;
const integrations: Record<string, CreatedIntegration> = {};

beforeAll(async () => {
  harness = await startHarness();
  ({ apiKey: key, workspaceId } = await registerWorkspace(harness.apiUrl));
  for (const property of [
    { property_id: 'maple', name: 'Maple Commons', timezone: 'America/Denver', vertical: 'multifamily' },
    { property_id: 'oak', name: 'Oak Senior Living', timezone: 'America/Denver', vertical: 'senior_living' },
  ]) {
    expect((await call(`${harness.apiUrl}/api/v1/properties`, 'POST', key, property)).status).toBe(201);
  }
  integrations.resman = await createIntegration(harness, key, { partner: 'resman', property_id: 'maple' });
  integrations.webform = await createIntegration(harness, key, { partner: 'webform', property_id: 'maple' });
  integrations.chatbot = await createIntegration(harness, key, { partner: 'chatbot', property_id: 'maple' });
  integrations.apfm = await createIntegration(harness, key, { partner: 'apfm', property_id: 'oak' });
  integrations.caring = await createIntegration(harness, key, { partner: 'caring', property_id: 'oak' });
});
afterAll(async () => {
  await harness?.stop();
});

const api = (path: string) => `${harness.apiUrl}/api/v1${path}`;

async function leadWithExternalId(partner: string, externalId: string, body: Record<string, unknown> = {}) {
  const answer = await call(api('/leads'), 'POST', key, {
    source: 'website',
    email: uniqueEmail(),
    property_id: 'maple',
    external_ids: { [partner]: externalId },
    ...body,
  });
  expect(answer.status).toBe(201);
  await journeyWhere(harness, workspaceId, answer.body.id, (s) => s.counters.events > 0);
  return answer.body.id as string;
}

describe('Standard Webhooks partners become journey events', () => {
  test('a web form inquiry creates a lead whose journey starts at new, attributed to the web form', async () => {
    const email = uniqueEmail('maria');
    const answer = await postStandard(integrations.webform!, fixture('webform', 'inquiry.json', { email }));
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ accepted: true, duplicate: false, lead_id: expect.any(String) });
    const state = await journeyWhere(
      harness,
      workspaceId,
      answer.body.lead_id,
      (s) => s.counters.events === 1,
    );
    expect(state).toMatchObject({ status: 'new', source: 'webform', propertyId: 'maple' });
    const lead = await call(api(`/leads/${answer.body.lead_id}`), 'GET', key);
    expect(lead.body).toMatchObject({ email, first_name: 'Maria', phone: '+17205550142' });
    expect(lead.body.custom_data).toMatchObject({ form_id: 'contact-us', utm: { source: 'google' } });
    const [row] = await harness.pool
      .query('SELECT status, lead_id FROM inbox_events WHERE lead_id = $1', [answer.body.lead_id])
      .then((r) => r.rows);
    expect(row).toEqual({ status: 'delivered', lead_id: answer.body.lead_id });
  });

  test("a ResMan status update moves the lead it names by ResMan's id, recorded as partner:resman", async () => {
    const leadId = await leadWithExternalId('resman', 'RM-PROSPECT-48213');
    const answer = await postStandard(integrations.resman!, fixture('resman', 'status-update.json'));
    expect(answer).toMatchObject({
      status: 200,
      body: { accepted: true, duplicate: false, lead_id: leadId },
    });
    await journeyWhere(harness, workspaceId, leadId, (s) => s.status === 'tour_scheduled');
    const rows = await historyRows(harness, leadId);
    expect(rows.map((r) => [r.entry_type, r.old_status, r.new_status, r.source])).toEqual([
      ['applied', null, 'new', 'api'],
      ['applied', 'new', 'tour_scheduled', 'partner:resman'],
    ]);
    expect(rows[1]).toMatchObject({
      reason: 'Tour booked by leasing agent at the front desk',
      actor: 'resman_user',
      context: expect.objectContaining({ partner: 'resman', value: 'tour_scheduled', agent_id: 'EMP-1042' }),
    });
  });

  test('a chatbot tour_booked with contact details creates the lead and schedules the tour with its time', async () => {
    const email = uniqueEmail('devon');
    const answer = await postStandard(
      integrations.chatbot!,
      fixture('chatbot', 'tour-booked.json', { 'contact.email': email, 'contact.phone': undefined }),
    );
    expect(answer.status).toBe(200);
    const leadId = answer.body.lead_id;
    await journeyWhere(harness, workspaceId, leadId, (s) => s.status === 'tour_scheduled');
    const rows = await historyRows(harness, leadId);
    expect(rows.map((r) => [r.new_status, r.source])).toEqual([
      ['new', 'chatbot'],
      ['tour_scheduled', 'chatbot'],
    ]);
    expect(rows[1].context).toMatchObject({
      conversation_id: 'conv_01HQ7Z3K9V2',
      tour_at: '2025-03-08T17:00:00.000Z',
    });
    expect(rows[1].context.missing_fields).toBeUndefined();
    // The conversation id now names the lead: a later status without contact details finds it.
    const later = await postStandard(
      integrations.chatbot!,
      fixture('chatbot', 'tour-booked.json', { new_status: 'lost', contact: undefined, tour_at: undefined }),
    );
    expect(later.body.lead_id).toBe(leadId);
    await journeyWhere(harness, workspaceId, leadId, (s) => s.status === 'lost');
  });

  test('an APFM referral, its pre-tour report and its move-in report take a senior-living lead to placed', async () => {
    const referralId = `APFM-${Date.now()}`;
    const email = uniqueEmail('linda');
    const referral = await postStandard(
      integrations.apfm!,
      fixture('apfm', 'referral.json', {
        referral_id: referralId,
        'contact.email': email,
        'contact.phone': undefined,
      }),
    );
    expect(referral.status).toBe(200);
    const leadId = referral.body.lead_id;
    const lead = await call(api(`/leads/${leadId}`), 'GET', key);
    expect(lead.body).toMatchObject({
      property_id: 'oak',
      source: 'apfm',
      external_ids: { apfm: referralId },
    });
    expect(lead.body.custom_data.referral).toMatchObject({
      care_type: 'assisted_living',
      advisor_name: 'Jessica Moreno',
    });
    const preTour = await postStandard(
      integrations.apfm!,
      fixture('apfm', 'status-pre-tour.json', { referral_id: referralId }),
    );
    expect(preTour.body.lead_id).toBe(leadId);
    await journeyWhere(harness, workspaceId, leadId, (s) => s.status === 'tour_scheduled');
    const moveIn = await postStandard(
      integrations.apfm!,
      fixture('apfm', 'move-in.json', { referral_id: referralId }),
    );
    expect(moveIn.status).toBe(200);
    const history = await waitFor('the APFM move-in to record placed', async () => {
      const rows = await historyRows(harness, leadId);
      return rows.some((r) => r.new_status === 'placed') ? rows : undefined;
    });
    expect(history.filter((r) => r.entry_type === 'applied').map((r) => r.new_status)).toEqual([
      'new',
      'tour_scheduled',
      'placed',
    ]);
    expect(history.find((r) => r.new_status === 'placed').context).toMatchObject({
      move_in_date: '2025-03-28',
    });
  });

  test('a Caring.com referral reported moved_in jumps to placed, recording the skipped stages', async () => {
    const referralId = `CARING-${Date.now()}`;
    const referral = await postStandard(
      integrations.caring!,
      fixture('caring', 'referral.json', { referral_id: referralId, 'contact.email': uniqueEmail('robert') }),
    );
    const leadId = referral.body.lead_id;
    await postStandard(
      integrations.caring!,
      fixture('caring', 'status-moved-in.json', { referral_id: referralId }),
    );
    const rows = await waitFor('the Caring.com moved_in report to record placed', async () => {
      const found = await historyRows(harness, leadId);
      return found.some((r) => r.new_status === 'placed') ? found : undefined;
    });
    expect(rows.map((r) => [r.entry_type, r.new_status])).toEqual([
      ['applied', 'new'],
      ['skipped', 'contacted'],
      ['skipped', 'qualified'],
      ['skipped', 'tour_scheduled'],
      ['skipped', 'toured'],
      ['skipped', 'application'],
      ['applied', 'placed'],
    ]);
  });
});

describe('signatures', () => {
  const body = () => JSON.stringify(fixture('webform', 'inquiry.json', { email: uniqueEmail() }));

  test('a body signed with another secret is 401 and leaves no inbox row', async () => {
    const payload = body();
    const before = (await inboxRows(harness, integrations.webform!.id)).length;
    const headers = standardWebhookHeaders(integrations.resman!.webhook_secret!, payload);
    const answer = await post(integrations.webform!.webhook_url, payload, headers);
    expect(answer.status).toBe(401);
    expect(answer.body.error).toMatchObject({ code: 'unauthorized', details: { reason: 'bad_signature' } });
    expect((await inboxRows(harness, integrations.webform!.id)).length).toBe(before);
  });

  test('a signature of a different body is 401', async () => {
    const headers = standardWebhookHeaders(integrations.webform!.webhook_secret!, body());
    expect((await post(integrations.webform!.webhook_url, body(), headers)).status).toBe(401);
  });

  test('missing Standard Webhooks headers are 401', async () => {
    const answer = await post(integrations.webform!.webhook_url, body(), {
      'content-type': 'application/json',
    });
    expect(answer.status).toBe(401);
    expect(answer.body.error.details.reason).toBe('missing_headers');
  });

  test('a timestamp older than 5 minutes is 401 even with a valid signature', async () => {
    const answer = await postStandard(integrations.webform!, body(), {
      at: new Date(Date.now() - 6 * 60_000),
    });
    expect(answer.status).toBe(401);
    expect(answer.body.error.details.reason).toBe('stale_timestamp');
  });

  test('a timestamp more than 5 minutes ahead is 401', async () => {
    const answer = await postStandard(integrations.webform!, body(), {
      at: new Date(Date.now() + 6 * 60_000),
    });
    expect(answer.status).toBe(401);
  });
});

describe('routing, size and validation', () => {
  test('an unknown partner, an unknown integration, or an integration of another partner is 404', async () => {
    const payload = fixture('resman', 'status-update.json');
    const base = harness.ingestUrl;
    const resman = integrations.resman!;
    const sign = (url: string) =>
      post(
        url,
        JSON.stringify(payload),
        standardWebhookHeaders(resman.webhook_secret!, JSON.stringify(payload)),
      );
    expect((await sign(`${base}/webhooks/yardi/${resman.id}`)).status).toBe(404);
    expect((await sign(`${base}/webhooks/resman/00000000-0000-4000-8000-000000000000`)).status).toBe(404);
    expect((await sign(`${base}/webhooks/resman/not-a-uuid`)).status).toBe(404);
    expect((await sign(`${base}/webhooks/webform/${resman.id}`)).status).toBe(404);
  });

  test('a body over 256 KB is 413 before anything else', async () => {
    const big = JSON.stringify({ ...fixture('webform', 'inquiry.json'), message: 'x'.repeat(300_000) });
    const answer = await post(integrations.webform!.webhook_url, big, { 'content-type': 'application/json' });
    expect(answer.status).toBe(413);
    expect(answer.body.error.code).toBe('payload_too_large');
  });

  test('a body that is not JSON is 400 naming the body', async () => {
    const answer = await postStandard(integrations.resman!, '{"lead_id": "RM-1", ');
    expect(answer.status).toBe(400);
    expect(answer.body.error.details.fields).toEqual([{ field: 'body', message: 'invalid JSON' }]);
  });

  test('missing and malformed fields are 400, each one named', async () => {
    const answer = await postStandard(
      integrations.resman!,
      fixture('resman', 'status-update.json', {
        lead_id: undefined,
        updated_at: 'yesterday',
        context_data: 'x',
      }),
    );
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('validation_failed');
    expect(answer.body.error.details.fields.map((f: { field: string }) => f.field).sort()).toEqual([
      'context_data',
      'lead_id',
      'updated_at',
    ]);
  });

  test("a status outside the partner's vocabulary is 422 naming the field and the allowed values", async () => {
    const answer = await postStandard(integrations.resman!, fixture('resman', 'status-unknown-value.json'));
    expect(answer.status).toBe(422);
    expect(answer.body.error).toMatchObject({
      code: 'unknown_partner_value',
      details: {
        value: 'hot_prospect',
        fields: [{ field: 'new_status' }],
        allowed: expect.arrayContaining(['prospect']),
      },
    });
    expect(
      (await inboxRows(harness, integrations.resman!.id)).some(
        (r) => r.normalized.events[0]?.value === 'hot_prospect',
      ),
    ).toBe(false);
  });

  test('text Postgres cannot hold (NUL, lone surrogates) is cleaned and stored, never a 500', async () => {
    const email = uniqueEmail('nul');
    const body = JSON.stringify(fixture('webform', 'inquiry.json', { email, phone: undefined })).replace(
      '"message":"',
      '"message":"\\u0000bad \\ud800 text ',
    );
    const answer = await postStandard(integrations.webform!, body);
    expect(answer.status).toBe(200);
    const lead = await call(api(`/leads/${answer.body.lead_id}`), 'GET', key);
    expect(lead.body.message.startsWith('bad \ufffd text ')).toBe(true);
  });

  test('a web inquiry naming a property the workspace does not have is 400 naming property_id', async () => {
    const answer = await postStandard(
      integrations.webform!,
      fixture('webform', 'inquiry.json', { email: uniqueEmail(), property_id: 'nowhere' }),
    );
    expect(answer.status).toBe(400);
    expect(answer.body.error.details.fields).toEqual([{ field: 'property_id', message: 'unknown property' }]);
  });
});

describe('exactly once', () => {
  test('a redelivered event answers 200 duplicate:true and leaves one inbox row and one history row', async () => {
    const leadId = await leadWithExternalId('resman', `RM-DUP-${Date.now()}`);
    const externalId = (await call(api(`/leads/${leadId}`), 'GET', key)).body.external_ids.resman;
    const payload = fixture('resman', 'status-update.json', { lead_id: externalId, new_status: 'contacted' });
    const id = `msg_dup_${Date.now()}`;
    const first = await postStandard(integrations.resman!, payload, { id });
    expect(first.body).toMatchObject({ accepted: true, duplicate: false, lead_id: leadId });
    await journeyWhere(harness, workspaceId, leadId, (s) => s.status === 'contacted');
    const again = await postStandard(integrations.resman!, payload, { id });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ accepted: true, duplicate: true, lead_id: leadId });
    const rows = await harness.pool.query(
      'SELECT count(*)::int AS n FROM inbox_events WHERE partner_event_id = $1',
      [id],
    );
    expect(rows.rows[0].n).toBe(1);
    const contacted = (await historyRows(harness, leadId)).filter((r) => r.new_status === 'contacted');
    expect(contacted).toHaveLength(1);
  });

  test('a status for a lead nobody knows yet is kept as unmatched (202) and applies once replayed', async () => {
    const externalId = `RM-LATE-${Date.now()}`;
    const answer = await postStandard(
      integrations.resman!,
      fixture('resman', 'status-update.json', { lead_id: externalId, new_status: 'contacted' }),
    );
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({
      accepted: true,
      duplicate: false,
      lead_id: null,
      status: 'unmatched',
    });
    const [row] = (await inboxRows(harness, integrations.resman!.id)).filter(
      (r) => r.normalized.lead?.find?.[0]?.externalId === externalId,
    );
    expect(row.status).toBe('unmatched');
    const leadId = await leadWithExternalId('resman', externalId);
    const replay = await call(api(`/inbox/${row.id}/replay`), 'POST', key);
    expect(replay).toMatchObject({
      status: 200,
      body: { previous_status: 'unmatched', status: 'delivered', lead_id: leadId },
    });
    await journeyWhere(harness, workspaceId, leadId, (s) => s.status === 'contacted');
  });
});

test('a referral status that arrived before its referral is applied as soon as the referral arrives', async () => {
  const referralId = `APFM-EARLY-${Date.now()}`;
  const early = await postStandard(
    integrations.apfm!,
    fixture('apfm', 'status-pre-tour.json', { referral_id: referralId }),
  );
  expect(early.body).toMatchObject({ status: 'unmatched', lead_id: null });
  const referral = await postStandard(
    integrations.apfm!,
    fixture('apfm', 'referral.json', {
      referral_id: referralId,
      'contact.email': uniqueEmail('early'),
      'contact.phone': undefined,
    }),
  );
  expect(referral.status).toBe(200);
  await journeyWhere(harness, workspaceId, referral.body.lead_id, (s) => s.status === 'tour_scheduled');
  const rows = (await inboxRows(harness, integrations.apfm!.id)).filter(
    (r) => r.normalized.lead?.find?.[0]?.externalId === referralId,
  );
  expect(rows.map((r) => [r.status, r.lead_id])).toEqual([['delivered', referral.body.lead_id]]);
});

describe('backends unavailable', () => {
  let closedPort: number;
  let brokenTemporal: { server: Server; url: string; connection: Connection };

  beforeAll(async () => {
    closedPort = await freePort();
    // No gRPC retries: a retry timer outliving the test would fire on a closed channel.
    const connection = Connection.lazy({ address: `127.0.0.1:${closedPort}`, interceptors: [] });
    const client = new Client({ connection });
    const app = createIngestApp({
      pool: harness.pool,
      temporal: client,
      journeys: new JourneyClient({ client, taskQueue: harness.taskQueue }),
      logger: createLogger('test', 'silent'),
      keyRing: KeyRing.parse(ENCRYPTION_KEYS),
      signalTimeoutMs: 1000,
    });
    const server = await new Promise<Server>((resolveServer) => {
      const s = app.listen(0, '127.0.0.1', () => resolveServer(s));
    });
    brokenTemporal = {
      server,
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      connection,
    };
  });
  afterAll(async () => {
    brokenTemporal.server.closeAllConnections();
    await new Promise((r) => brokenTemporal.server.close(r));
    await brokenTemporal.connection.close().catch(() => undefined);
  });

  const viaBroken = (integration: CreatedIntegration) => ({
    ...integration,
    webhook_url: integration.webhook_url.replace(harness.ingestUrl, brokenTemporal.url),
  });

  test('Temporal down: 503 with Retry-After, the event pending; the partner retry then delivers it once', async () => {
    const email = uniqueEmail('retry');
    const payload = fixture('webform', 'inquiry.json', { email, phone: undefined });
    const id = `msg_retry_${Date.now()}`;
    const down = await postStandard(viaBroken(integrations.webform!), payload, { id });
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('5');
    expect(down.body.error.code).toBe('unavailable');
    const [pending] = (await inboxRows(harness, integrations.webform!.id)).filter(
      (r) => r.partner_event_id === id,
    );
    expect(pending).toMatchObject({ status: 'pending', last_error: expect.any(String) });

    const retry = await postStandard(integrations.webform!, payload, { id });
    expect(retry.status).toBe(200);
    expect(retry.body).toMatchObject({ accepted: true, duplicate: false, lead_id: pending.lead_id });
    await journeyWhere(harness, workspaceId, retry.body.lead_id, (s) => s.counters.events === 1);
    const rows = (await inboxRows(harness, integrations.webform!.id)).filter(
      (r) => r.partner_event_id === id,
    );
    expect(rows.map((r) => r.status)).toEqual(['delivered']);
    const leads = await harness.pool.query(
      'SELECT count(*)::int AS n FROM leads WHERE email_normalized = $1',
      [email],
    );
    expect(leads.rows[0].n).toBe(1);
  });

  test('the relay delivers an event left pending while Temporal was down', async () => {
    const email = uniqueEmail('relay');
    const down = await postStandard(
      viaBroken(integrations.webform!),
      fixture('webform', 'inquiry.json', { email, phone: undefined }),
    );
    expect(down.status).toBe(503);
    const [row] = await harness.pool
      .query("SELECT id, lead_id FROM inbox_events WHERE normalized->'lead'->'create'->>'email' = $1", [
        email,
      ])
      .then((r) => r.rows);
    const delivered = await waitFor(`the relay to deliver inbox row ${row.id}`, async () => {
      await relayOnce(
        { pool: harness.pool, temporal: harness.client, journeys: harness.journeys },
        { workspaceId },
      );
      const { rows } = await harness.pool.query('SELECT status FROM inbox_events WHERE id = $1', [row.id]);
      return rows[0].status === 'delivered';
    });
    expect(delivered).toBe(true);
    await journeyWhere(
      harness,
      workspaceId,
      row.lead_id,
      (s) => s.counters.events === 1 && s.status === 'new',
    );
  });

  test('Postgres down: 503 with Retry-After', async () => {
    const pool = createPool(`postgres://nobody@127.0.0.1:${closedPort}/none`, 1);
    const app = createIngestApp({
      pool,
      temporal: harness.client,
      journeys: harness.journeys,
      logger: createLogger('test', 'silent'),
      keyRing: KeyRing.parse(ENCRYPTION_KEYS),
    });
    const server = await new Promise<Server>((resolveServer) => {
      const s = app.listen(0, '127.0.0.1', () => resolveServer(s));
    });
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const answer = await postStandard(
        {
          ...integrations.webform!,
          webhook_url: integrations.webform!.webhook_url.replace(harness.ingestUrl, url),
        },
        fixture('webform', 'inquiry.json', { email: uniqueEmail(), phone: undefined }),
      );
      expect(answer.status).toBe(503);
      expect(answer.headers.get('retry-after')).toBe('5');
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await pool.end();
    }
  });
});
