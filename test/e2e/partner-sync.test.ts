// A lead's changes reaching connected partners: a ResMan webhook moves a lead and HubSpot and Salesforce
// (their sandbox twins) get the lead and each status, in order, with origin and causation; a partner that is
// down delays only itself; a 4xx fails fast with a staff task; a write the partner ignores is not a success;
// HubSpot echoing our own write back changes nothing.
import { createHmac, randomUUID } from 'node:crypto';
import { startHubSpotSandbox, type HubSpotSandbox } from '../../infra/sandbox/hubspot';
import { startSalesforceSandbox, type SalesforceSandbox } from '../../infra/sandbox/salesforce';
import { call, registerWorkspace, startHarness, type Harness } from '../support/harness';
import {
  createIntegration,
  fixture,
  historyRows,
  journeyWhere,
  post,
  postStandard,
  uniqueEmail,
  waitFor,
  type CreatedIntegration,
} from '../support/ingest';

const HUBSPOT_APP_SECRET = 'hubspot-app-secret-e2e-7d1c';

let harness: Harness;
let key: string;
let workspaceId: string;
let hubspot: HubSpotSandbox;
let salesforce: SalesforceSandbox;
const integrations: Record<string, CreatedIntegration> = {};

beforeAll(async () => {
  [harness, hubspot, salesforce] = await Promise.all([
    startHarness(),
    startHubSpotSandbox(),
    startSalesforceSandbox(),
  ]);
  // Waits below read partner_syncs from the database; the API is read for assertions only, so the workspace
  // has the default hourly budget.
  ({ apiKey: key, workspaceId } = await registerWorkspace(harness.apiUrl));
  const property = {
    property_id: 'maple',
    name: 'Maple Commons',
    timezone: 'America/Denver',
    vertical: 'multifamily',
  };
  expect((await call(api('/properties'), 'POST', key, property)).status).toBe(201);
  // ResMan relays its changes to our webhook and takes no pushes here (no API credentials): inbound only.
  integrations.resman = await createIntegration(harness, key, { partner: 'resman', property_id: 'maple' });
  integrations.hubspot = await createIntegration(harness, key, {
    partner: 'hubspot',
    config: { base_url: hubspot.url, portal_id: 62515 },
    credentials: { access_token: hubspot.accessToken, client_secret: HUBSPOT_APP_SECRET },
  });
  integrations.salesforce = await createIntegration(harness, key, {
    partner: 'salesforce',
    config: { base_url: salesforce.url },
    credentials: { client_id: salesforce.clientId, client_secret: salesforce.clientSecret },
  });
});
afterAll(async () => {
  await harness?.stop();
  await Promise.all([hubspot?.close(), salesforce?.close()]);
});

function api(path: string): string {
  return `${harness.apiUrl}/api/v1${path}`;
}

async function createLead(body: Record<string, unknown> = {}): Promise<{ id: string; email: string }> {
  const email = uniqueEmail('sync');
  const answer = await call(api('/leads'), 'POST', key, {
    source: 'website',
    property_id: 'maple',
    first_name: 'Maya',
    last_name: 'Okafor',
    email,
    ...body,
  });
  expect(answer.status).toBe(201);
  return { id: answer.body.id, email };
}

async function syncs(leadId: string): Promise<any[]> {
  const answer = await call(api(`/leads/${leadId}/syncs`), 'GET', key);
  expect(answer.status).toBe(200);
  return answer.body.syncs;
}

/** The lead's sync rows straight from the database (waiting must not spend the workspace's API budget). */
async function syncRows(leadId: string): Promise<{ partner: string; outcome: string; attempts: number }[]> {
  const { rows } = await harness.pool.query(
    'SELECT partner, outcome, attempts FROM partner_syncs WHERE lead_id = $1 ORDER BY created_at, id',
    [leadId],
  );
  return rows;
}

/** The lead's syncs (over the API) once none is pending and the journey has settled its queues. */
async function settledSyncs(leadId: string, count: number): Promise<any[]> {
  await journeyWhere(harness, workspaceId, leadId, (s) => (s.pendingPushes ?? 0) === 0, 'no pushes pending');
  await waitFor(`${count} settled syncs of lead ${leadId}`, () => syncRows(leadId), {
    until: (rows) => rows.length === count && rows.every((row) => row.outcome !== 'pending'),
  });
  return syncs(leadId);
}

const outcomes = (rows: any[]) =>
  rows.map((row) => [row.partner, row.status, row.partner_value, row.outcome]);

async function changeStatus(leadId: string, to: string): Promise<void> {
  const answer = await call(api(`/leads/${leadId}/status`), 'PUT', key, { new_status: to });
  expect(answer.status).toBe(200);
}

async function staffTasks(leadId: string): Promise<any[]> {
  const { rows } = await harness.pool.query('SELECT kind, details FROM staff_tasks WHERE lead_id = $1', [
    leadId,
  ]);
  return rows;
}

/** The Status values Salesforce received for a Lead (by our id or Salesforce's), in the order they arrived. */
function salesforceStatusWrites(leadId: string): string[] {
  const ids = [leadId, salesforce.leadBy('LeadRelay_Id__c', leadId)?.Id].filter((id): id is string => !!id);
  return salesforce.requests.items
    .filter((r) => (r.method === 'PATCH' || r.method === 'POST') && r.status! < 300)
    .filter((r) => ids.some((id) => r.url.includes(id)))
    .map((r) => JSON.parse(r.body).Status as string | undefined)
    .filter((status): status is string => status !== undefined);
}

test('a ResMan webhook moves the lead; HubSpot and Salesforce get the lead and the status with origin and causation, ResMan gets nothing back', async () => {
  const resmanId = `RM-${randomUUID().slice(0, 8)}`;
  const lead = await createLead({ external_ids: { resman: resmanId } });

  // The inquiry creates the lead at both partners.
  expect(outcomes(await settledSyncs(lead.id, 2))).toEqual(
    expect.arrayContaining([
      ['hubspot', 'new', 'NEW', 'success'],
      ['salesforce', 'new', 'Open - Not Contacted', 'success'],
    ]),
  );
  const contact = hubspot.contactByEmail(lead.email)!;
  expect(contact.properties).toMatchObject({ hs_lead_status: 'NEW', leadrelay_lead_id: lead.id });
  expect(salesforce.leadBy('LeadRelay_Id__c', lead.id)!.fields).toMatchObject({
    Status: 'Open - Not Contacted',
    LastName: 'Okafor',
    Email: lead.email,
  });

  const webhookId = `msg_${randomUUID()}`;
  const answer = await postStandard(
    integrations.resman!,
    fixture('resman', 'status-update.json', {
      lead_id: resmanId,
      old_status: 'new',
      new_status: 'contacted',
      updated_at: new Date().toISOString(),
    }),
    { id: webhookId },
  );
  expect(answer.status).toBe(200);
  await journeyWhere(harness, workspaceId, lead.id, (s) => s.status === 'contacted');
  const rows = await settledSyncs(lead.id, 4);
  const pushed = rows.filter((row) => row.status === 'contacted');
  expect(outcomes(pushed)).toEqual(
    expect.arrayContaining([
      ['hubspot', 'contacted', 'ATTEMPTED_TO_CONTACT', 'success'],
      ['salesforce', 'contacted', 'Working - Contacted', 'success'],
    ]),
  );
  // Origin and causation travel with the write and stay on the sync row.
  const causation = pushed[0].causation_id;
  expect(pushed.every((row) => row.origin === 'partner:resman' && row.causation_id === causation)).toBe(true);
  expect(pushed.every((row) => row.read_back === 'confirmed' && row.response_code < 300)).toBe(true);
  expect(hubspot.contact(contact.id)!.properties).toMatchObject({
    hs_lead_status: 'ATTEMPTED_TO_CONTACT',
    leadrelay_origin: 'partner:resman',
    leadrelay_causation_id: causation,
  });
  expect(salesforce.leadBy('LeadRelay_Id__c', lead.id)!.fields).toMatchObject({
    Status: 'Working - Contacted',
    LeadRelay_Origin__c: 'partner:resman',
    LeadRelay_Causation_Id__c: causation,
  });
  expect(rows.some((row) => row.partner === 'resman')).toBe(false);
  expect(salesforceStatusWrites(lead.id)).toEqual(['Open - Not Contacted', 'Working - Contacted']);
});

test('HubSpot reporting back the status we pushed is an acknowledgement: no history row, no push anywhere', async () => {
  const lead = await createLead();
  await changeStatus(lead.id, 'contacted');
  const before = await settledSyncs(lead.id, 4);
  const historyBefore = await historyRows(harness, lead.id);
  const contact = hubspot.contactByEmail(lead.email)!;

  const body = JSON.stringify([
    {
      ...fixture('hubspot', 'lead-status-changes.json')[0],
      objectId: Number(contact.id),
      eventId: Date.now(),
      propertyValue: 'ATTEMPTED_TO_CONTACT',
    },
  ]);
  const at = Date.now();
  const signature = createHmac('sha256', HUBSPOT_APP_SECRET)
    .update(`POST${integrations.hubspot!.webhook_url}${body}${at}`)
    .digest('base64');
  const answer = await post(integrations.hubspot!.webhook_url, body, {
    'content-type': 'application/json',
    'x-hubspot-signature-v3': signature,
    'x-hubspot-request-timestamp': String(at),
  });
  expect(answer.status).toBe(200);
  expect(answer.body).toMatchObject({
    accepted: true,
    duplicate: false,
    lead_id: lead.id,
    status: 'delivered',
  });
  const state = await journeyWhere(harness, workspaceId, lead.id, (s) => s.pendingEvents === 0);
  expect(state.status).toBe('contacted');
  expect(await historyRows(harness, lead.id)).toHaveLength(historyBefore.length);
  expect(await syncs(lead.id)).toHaveLength(before.length);
});

test('Salesforce down delays only Salesforce: HubSpot gets every change at once, Salesforce all of them in order when it is back', async () => {
  salesforce.down = true;
  const lead = await createLead();
  await changeStatus(lead.id, 'contacted');
  await changeStatus(lead.id, 'lost');

  // HubSpot is done while Salesforce is still refusing.
  await waitFor('three successful HubSpot pushes while Salesforce is down', () => syncRows(lead.id), {
    until: (all) => {
      const rows = all.filter((row) => row.partner === 'hubspot');
      return rows.length === 3 && rows.every((row) => row.outcome === 'success');
    },
  });
  await waitFor('three Salesforce pushes, the first tried at least once', () => syncRows(lead.id), {
    until: (all) => {
      const rows = all.filter((row) => row.partner === 'salesforce');
      return rows.length === 3 && rows[0]!.attempts >= 1;
    },
  });
  const listed = await syncs(lead.id);
  const hubspotDone = listed.filter((row) => row.partner === 'hubspot');
  expect(hubspotDone.map((row) => row.partner_value)).toEqual(['NEW', 'ATTEMPTED_TO_CONTACT', 'UNQUALIFIED']);
  const waiting = listed.filter((row) => row.partner === 'salesforce');
  expect(waiting.map((row) => row.outcome)).toEqual(['pending', 'pending', 'pending']);
  expect(waiting[0]).toMatchObject({ response_code: 503 });
  expect(salesforceStatusWrites(lead.id)).toEqual([]);

  salesforce.down = false;
  const rows = await settledSyncs(lead.id, 6);
  expect(rows.every((row) => row.outcome === 'success')).toBe(true);
  expect(salesforceStatusWrites(lead.id)).toEqual([
    'Open - Not Contacted',
    'Working - Contacted',
    'Closed - Not Converted',
  ]);
  expect(await staffTasks(lead.id)).toEqual([]);
});

test('a 429 is retried after the partner’s Retry-After, not before', async () => {
  salesforce.faults.push({ status: 429, retryAfterSeconds: 3, pathIncludes: '/sobjects/Lead' });
  const lead = await createLead();
  const rows = await settledSyncs(lead.id, 2);
  const sync = rows.find((row) => row.partner === 'salesforce');
  expect(sync).toMatchObject({ outcome: 'success', attempts: 2 });
  const writes = salesforce.requests.items.filter(
    (r) => r.url.includes('/sobjects/Lead') && r.url.includes(lead.id),
  );
  const refused = writes.find((r) => r.status === 429)!;
  const accepted = writes.find((r) => r.status! < 300)!;
  // The activity's own first backoff is 2 s: waiting 3 s shows the partner's header was followed.
  expect(accepted.at - refused.at).toBeGreaterThanOrEqual(2900);
});

test('a 4xx fails fast with the partner’s message and a staff task; a re-push after the fix succeeds', async () => {
  hubspot.faults.push({
    status: 400,
    pathIncludes: '/crm/v3/objects/contacts',
    body: JSON.stringify({
      status: 'error',
      message: 'Property values were not valid',
      category: 'VALIDATION_ERROR',
      correlationId: randomUUID(),
    }),
  });
  const lead = await createLead();
  const rows = await settledSyncs(lead.id, 2);
  const failed = rows.find((row) => row.partner === 'hubspot');
  expect(failed).toMatchObject({ outcome: 'failed', response_code: 400, attempts: 1 });
  expect(failed.error).toContain('Property values were not valid');
  expect(await staffTasks(lead.id)).toEqual([
    expect.objectContaining({
      kind: 'partner_sync_failed',
      details: expect.objectContaining({ partner: 'hubspot' }),
    }),
  ]);

  const repush = await call(api(`/leads/${lead.id}/syncs/${failed.id}/repush`), 'POST', key);
  expect(repush.status).toBe(202);
  const again = await settledSyncs(lead.id, 2);
  expect(again.find((row) => row.id === failed.id)).toMatchObject({ outcome: 'success', error: null });
  expect(hubspot.contactByEmail(lead.email)!.properties.hs_lead_status).toBe('NEW');
  // A successful sync is not pushed again.
  const twice = await call(api(`/leads/${lead.id}/syncs/${failed.id}/repush`), 'POST', key);
  expect(twice.status).toBe(409);
});

test('a write the partner answered 2xx but did not apply is a failure with a staff task, not a success', async () => {
  const lead = await createLead();
  await settledSyncs(lead.id, 2);
  hubspot.ignoreWrites = true;
  try {
    await changeStatus(lead.id, 'contacted');
    const rows = await settledSyncs(lead.id, 4);
    const ignored = rows.find((row) => row.partner === 'hubspot' && row.status === 'contacted');
    expect(ignored).toMatchObject({ outcome: 'failed' });
    expect(ignored.error).toContain('did not apply');
    expect(hubspot.contactByEmail(lead.email)!.properties.hs_lead_status).toBe('NEW');
    expect((await staffTasks(lead.id)).map((task) => task.kind)).toEqual(['partner_write_not_applied']);
  } finally {
    hubspot.ignoreWrites = false;
  }
  // Once HubSpot applies writes again, the integration's "sync now" re-pushes what failed.
  const synced = await call(api(`/integrations/${integrations.hubspot!.id}/sync`), 'POST', key);
  expect(synced.status).toBe(202);
  expect(synced.body.repushed).toBeGreaterThanOrEqual(1);
  const after = await settledSyncs(lead.id, 4);
  expect(after.find((row) => row.partner === 'hubspot' && row.status === 'contacted')).toMatchObject({
    outcome: 'success',
  });
  expect(hubspot.contactByEmail(lead.email)!.properties.hs_lead_status).toBe('ATTEMPTED_TO_CONTACT');
});
