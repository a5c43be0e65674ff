// Conversions back to ad platforms on the real stack: Meta Conversions API and GA4 integrations created through
// the API (credentials sealed), a web form inquiry carrying the visitor's GA client_id and Meta cookies, and the
// journey's stages sent once per lead and stage — through duplicate webhooks, a tour cancelled and booked again,
// a later journey, and platform outages retried — each send a sync row marketers read and operators re-push.
import { randomUUID } from 'node:crypto';
import { hashedEmail } from '../../activities/partners/adConversions';
import { startGa4Sandbox, type Ga4Sandbox } from '../../infra/sandbox/ga4';
import { startMetaSandbox, type MetaSandbox } from '../../infra/sandbox/metaCapi';
import { call, registerWorkspace, startHarness, type Harness } from '../support/harness';
import {
  createIntegration,
  fixture,
  journeyWhere,
  postStandard,
  uniqueEmail,
  type CreatedIntegration,
} from '../support/ingest';
import { waitFor } from '../support/wait';

let harness: Harness;
let meta: MetaSandbox;
let ga: Ga4Sandbox;
let workspace: { workspaceId: string; apiKey: string };
let form: CreatedIntegration;
let metaIntegration: CreatedIntegration;

const api = (path: string) => `${harness.apiUrl}/api/v1${path}`;

beforeAll(async () => {
  [harness, meta, ga] = await Promise.all([startHarness(), startMetaSandbox(), startGa4Sandbox()]);
  workspace = await registerWorkspace(harness.apiUrl, { workspace_name: 'Ads', timezone: 'UTC' });
  form = await createIntegration(harness, workspace.apiKey, { partner: 'webform' });
  // Connected before any lead arrives: journeys read their partners when a run starts.
  metaIntegration = await createIntegration(harness, workspace.apiKey, {
    partner: 'meta_capi',
    config: { pixel_id: meta.pixelId, base_url: meta.url },
    credentials: { access_token: meta.accessToken },
  });
  await createIntegration(harness, workspace.apiKey, {
    partner: 'ga4',
    config: { measurement_id: ga.measurementId, base_url: ga.url },
    credentials: { api_secret: ga.apiSecret },
  });
});
afterAll(async () => {
  await harness?.stop();
  await Promise.all([meta?.close(), ga?.close()]);
});

const settled = (leadId: string) =>
  journeyWhere(
    harness,
    workspace.workspaceId,
    leadId,
    (s) => (s.pendingPushes ?? 0) === 0,
    'no pushes pending',
  );

async function syncs(leadId: string) {
  const answer = await call(api(`/leads/${leadId}/syncs`), 'GET', workspace.apiKey);
  expect(answer.status).toBe(200);
  return (answer.body.syncs as any[]).filter((s) => s.partner === 'meta_capi' || s.partner === 'ga4');
}

const metaFor = (email: string) =>
  meta.conversions.filter((e) => (e.user_data.em as string[])[0] === hashedEmail(email));
const gaFor = (clientId: string) => ga.events.filter((e) => e.clientId === clientId);

async function inquiry(email: string, clientId: string, webhookId = `msg_${randomUUID()}`) {
  const body = {
    ...fixture('webform', 'inquiry.json'),
    submission_id: randomUUID(),
    email,
    // Leads are matched by phone too: each test's lead is its own person.
    phone: undefined,
    attribution: {
      ga_client_id: clientId,
      fbp: 'fb.1.1712345678901.987654321',
      fb_event_id: `pixel.${clientId}`,
    },
  };
  const answer = await postStandard(form, body, { id: webhookId });
  expect(answer.status).toBeLessThan(300);
  return answer.body.lead_id as string;
}

const changeStatus = (leadId: string, status: string, extra: Record<string, unknown> = {}) =>
  call(api(`/leads/${leadId}/status`), 'PUT', workspace.apiKey, { new_status: status, ...extra });

test('credentials are sealed and never answered; both connections test against their sandboxes', async () => {
  const listed = await call(api('/integrations'), 'GET', workspace.apiKey);
  const ads = listed.body.integrations.filter((i: any) => i.partner === 'meta_capi' || i.partner === 'ga4');
  expect(ads.map((i: any) => i.has_credentials)).toEqual([true, true]);
  expect(JSON.stringify(listed.body)).not.toContain(meta.accessToken);
  expect(JSON.stringify(listed.body)).not.toContain(ga.apiSecret);
  const stored = await harness.pool.query('SELECT credentials_encrypted FROM integrations WHERE id = $1', [
    metaIntegration.id,
  ]);
  expect(stored.rows[0].credentials_encrypted).toMatch(/^v2\./);
  expect(stored.rows[0].credentials_encrypted).not.toContain(meta.accessToken);

  const metaTest = await call(api(`/integrations/${metaIntegration.id}/test`), 'POST', workspace.apiKey);
  expect(metaTest.body).toMatchObject({ ok: true, detail: expect.stringContaining(meta.pixelId) });
  const refused = await call(api('/integrations/test'), 'POST', workspace.apiKey, {
    partner: 'meta_capi',
    name: 'wrong token',
    config: { pixel_id: meta.pixelId, base_url: meta.url },
    credentials: { access_token: 'EAAB-this-is-not-the-token' },
  });
  expect(refused.body).toMatchObject({ ok: false, error: { code: 'partner_rejected' } });
  const gaTest = await call(api('/integrations/test'), 'POST', workspace.apiKey, {
    partner: 'ga4',
    name: 'GA4',
    config: { measurement_id: ga.measurementId, base_url: ga.url },
    credentials: { api_secret: ga.apiSecret },
  });
  expect(gaTest.body).toMatchObject({ ok: true });
  const badConfig = await call(api('/integrations'), 'POST', workspace.apiKey, {
    partner: 'ga4',
    name: 'GA4',
    config: { measurement_id: 'UA-12345-1' },
    credentials: {},
  });
  expect(badConfig.status).toBe(400);
  expect(badConfig.body.error.details.fields.map((f: any) => f.field)).toEqual(
    expect.arrayContaining(['config.measurement_id', 'credentials.api_secret']),
  );
});

test('each stage is one conversion per lead and platform, through duplicates, re-booked tours and retries', async () => {
  const email = uniqueEmail('ads');
  const clientId = `${Date.now()}.1712345678`;
  const webhookId = `msg_${randomUUID()}`;
  const leadId = await inquiry(email, clientId, webhookId);
  // The same webhook delivered again, and the lead writing in again through the form: no second Lead.
  await inquiry(email, clientId, webhookId);
  await inquiry(email, clientId);
  await settled(leadId);
  await waitFor('the Lead at Meta', () => metaFor(email).length === 1);
  expect(metaFor(email)[0]).toMatchObject({
    event_name: 'Lead',
    event_id: `pixel.${clientId}`,
    user_data: { fbp: 'fb.1.1712345678901.987654321' },
  });
  expect(gaFor(clientId).map((e) => e.name)).toEqual(['generate_lead']);

  // Meta is down for the tour: the push is retried, and still counted once.
  meta.faults.push({ status: 503, pathIncludes: '/events' }, { status: 500, pathIncludes: '/events' });
  const tourAt = new Date(Date.now() + 3 * 86_400_000).toISOString();
  expect((await changeStatus(leadId, 'tour_scheduled', { tour_at: tourAt })).status).toBe(200);
  await settled(leadId);
  await waitFor('the Schedule at Meta', () => metaFor(email).some((e) => e.event_name === 'Schedule'));
  const retried = (await syncs(leadId)).find(
    (s) => s.partner === 'meta_capi' && s.status === 'tour_scheduled',
  );
  expect(retried).toMatchObject({ outcome: 'success', attempts: 3 });

  // Cancelled, then booked again: the lead reaches the tour stage a second time, sent nothing more.
  expect((await changeStatus(leadId, 'qualified', { status_reason: 'rescheduling' })).status).toBe(200);
  expect((await changeStatus(leadId, 'tour_scheduled', { tour_at: tourAt })).status).toBe(200);
  await settled(leadId);
  const again = (await syncs(leadId)).filter((s) => s.status === 'tour_scheduled');
  expect(again.map((s) => `${s.partner}:${s.outcome}`).sort()).toEqual([
    'ga4:skipped',
    'ga4:success',
    'meta_capi:skipped',
    'meta_capi:success',
  ]);
  expect(again.find((s) => s.outcome === 'skipped').error).toMatch(/^already sent for this lead/);

  // Won with a logged value: one Purchase (Meta) and one close_convert_lead (GA4), valued.
  const conversion = await call(api('/conversions'), 'POST', workspace.apiKey, {
    contact_id: leadId,
    conversion_type: 'lease',
    conversion_value: 21600,
  });
  expect(conversion.status).toBe(201);
  expect((await changeStatus(leadId, 'leased')).status).toBe(200);
  await settled(leadId);
  await waitFor('the Purchase at Meta', () => metaFor(email).some((e) => e.event_name === 'Purchase'));
  expect(metaFor(email).map((e) => [e.event_name, e.custom_data?.value ?? null])).toEqual([
    ['Lead', null],
    ['Schedule', null],
    ['Purchase', 21600],
  ]);
  expect(gaFor(clientId).map((e) => [e.name, e.params.value ?? null])).toEqual([
    ['generate_lead', null],
    ['schedule_tour', null],
    ['close_convert_lead', 21600],
  ]);

  // What marketers read: each send, its event and the platform's receipt.
  const sent = (await syncs(leadId)).filter((s) => s.outcome === 'success');
  expect(sent.map((s) => [s.partner, s.status, s.response.sent.event_name]).sort()).toEqual([
    ['ga4', 'leased', 'close_convert_lead'],
    ['ga4', 'new', 'generate_lead'],
    ['ga4', 'tour_scheduled', 'schedule_tour'],
    ['meta_capi', 'leased', 'Purchase'],
    ['meta_capi', 'new', 'Lead'],
    ['meta_capi', 'tour_scheduled', 'Schedule'],
  ]);
  expect(sent.find((s) => s.partner === 'meta_capi' && s.status === 'leased').response).toMatchObject({
    events_received: 1,
    sent: { event_id: `leadrelay.${leadId}.won`, value: 21600, currency: 'USD' },
  });
});

test('a send refused for good is a failed sync with a staff task; re-pushed once fixed, it goes once', async () => {
  const email = uniqueEmail('repush');
  const leadId = await inquiry(email, `${Date.now()}.99`);
  await settled(leadId);
  // Won without a value: Meta requires one with Purchase, so the send fails rather than mislead.
  for (const status of ['qualified', 'application', 'leased']) {
    expect((await changeStatus(leadId, status)).status).toBe(200);
  }
  await settled(leadId);
  const failed = (await syncs(leadId)).find((s) => s.partner === 'meta_capi' && s.status === 'leased');
  expect(failed).toMatchObject({ outcome: 'failed', error: expect.stringContaining('requires a value') });
  const tasks = await harness.pool.query(
    "SELECT kind FROM staff_tasks WHERE lead_id = $1 AND kind = 'partner_sync_failed'",
    [leadId],
  );
  expect(tasks.rows).toHaveLength(1);

  const logged = await call(api('/conversions'), 'POST', workspace.apiKey, {
    contact_id: leadId,
    conversion_type: 'lease',
    conversion_value: 14400,
  });
  expect(logged.status).toBe(201);
  const repushed = await call(api(`/leads/${leadId}/syncs/${failed.id}/repush`), 'POST', workspace.apiKey);
  expect(repushed.status).toBe(202);
  await waitFor('the re-pushed Purchase', () => metaFor(email).some((e) => e.event_name === 'Purchase'));
  await waitFor('the sync to succeed', async () =>
    (await syncs(leadId)).some((s) => s.id === failed.id && s.outcome === 'success'),
  );
  expect(metaFor(email).filter((e) => e.event_name === 'Purchase')).toHaveLength(1);
  expect(metaFor(email).find((e) => e.event_name === 'Purchase')!.custom_data).toMatchObject({
    value: 14400,
  });
});
