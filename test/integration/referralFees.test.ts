// Referral fees against the real stack: a placed or leased lead owes its attributed partner a fee from the
// partner's terms, once; reconciliation moves pending → reported → invoiced → paid (or disputed).
import { randomUUID } from 'node:crypto';
import ExcelJS from 'exceljs';
import { recordReferralFee } from '../../data/referralFees';
import { withTransaction } from '../../data/pool';
import { call, registerWorkspace, startHarness, type Harness } from '../support/harness';
import { journeyWhere } from '../support/ingest';

let harness: Harness;
let key: string;
let workspaceId: string;

const api = (path: string) => `${harness.apiUrl}/api/v1${path}`;

beforeAll(async () => {
  harness = await startHarness();
  ({ apiKey: key, workspaceId } = await registerWorkspace(harness.apiUrl));
  const property = await call(api('/properties'), 'POST', key, {
    property_id: 'willow',
    name: 'Willow Assisted Living',
    timezone: 'America/Denver',
    vertical: 'senior_living',
  });
  expect(property.status).toBe(201);
});
afterAll(async () => {
  await harness?.stop();
});

/** A lead from `source`, placed through the real journey; answers its id. */
async function placedLead(source: string, options: { apiKey?: string; ws?: string; custom?: object } = {}) {
  const apiKey = options.apiKey ?? key;
  const created = await call(api('/leads'), 'POST', apiKey, {
    source,
    property_id: options.apiKey ? undefined : 'willow',
    email: `${randomUUID()}@example.com`,
    custom_data: options.custom,
  });
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  await journeyWhere(
    harness,
    options.ws ?? workspaceId,
    id,
    (s) => s.counters.events > 0,
    'its inquiry applied',
  );
  const toured = await call(api(`/leads/${id}/status`), 'PUT', apiKey, {
    new_status: 'tour_scheduled',
    tour_at: '2026-12-01T16:00:00Z',
  });
  expect(toured.status).toBe(200);
  const won = options.apiKey ? 'leased' : 'placed';
  const placed = await call(api(`/leads/${id}/status`), 'PUT', apiKey, { new_status: won });
  expect(placed.status).toBe(200);
  return id;
}

async function feesOf(leadId: string, apiKey = key) {
  const answer = await call(api(`/referral-fees?lead_id=${leadId}`), 'GET', apiKey);
  expect(answer.status).toBe(200);
  return answer.body.referral_fees as any[];
}

describe('fee records', () => {
  test('a placed lead attributed to a partner owes it a fee from the workspace terms, once', async () => {
    const terms = await call(api('/referral-fee-terms/apfm'), 'PUT', key, {
      fee_type: 'percent_of_monthly_rent',
      amount: 100,
    });
    expect(terms.status).toBe(200);
    expect(terms.body).toMatchObject({
      partner: 'apfm',
      fee_type: 'percent_of_monthly_rent',
      currency: 'USD',
    });
    const leadId = await placedLead('apfm', { custom: { monthly_rent: 5200 } });
    const fees = await feesOf(leadId);
    expect(fees).toHaveLength(1);
    expect(fees[0]).toMatchObject({
      partner: 'apfm',
      property_id: 'willow',
      won_status: 'placed',
      terms_source: 'terms',
      fee_type: 'percent_of_monthly_rent',
      rate: 100,
      monthly_rent: 5200,
      amount: 5200,
      status: 'pending',
      allowed_next: ['reported', 'disputed'],
    });
    // A retried activity writing the same won row again records nothing new.
    await withTransaction(harness.pool, (client) =>
      recordReferralFee(client, {
        workspaceId,
        leadId,
        journey: 1,
        wonStatus: 'placed',
        wonAt: new Date().toISOString(),
      }),
    );
    expect(await feesOf(leadId)).toHaveLength(1);
    const outbox = await harness.pool.query(
      `SELECT count(*)::int AS n FROM outbox_events WHERE lead_id = $1 AND event_type = 'referral_fee.created'`,
      [leadId],
    );
    expect(outbox.rows[0].n).toBe(1);
  });

  test('the partner integration’s config.referral_fee comes before the workspace terms', async () => {
    expect(
      (await call(api('/referral-fee-terms/caring'), 'PUT', key, { fee_type: 'flat', amount: 1 })).status,
    ).toBe(200);
    const integration = await call(api('/integrations'), 'POST', key, {
      partner: 'caring',
      name: 'Caring.com',
      property_id: 'willow',
      config: { referral_fee: { fee_type: 'flat', amount: 3000 } },
    });
    expect(integration.status).toBe(201);
    const leadId = await placedLead('caring');
    expect((await feesOf(leadId))[0]).toMatchObject({
      terms_source: 'integration',
      amount: 3000,
      partner: 'caring',
    });
  });

  test('a lead from a source that is not a partner owes nothing', async () => {
    const leadId = await placedLead('website');
    expect(await feesOf(leadId)).toEqual([]);
  });

  test('a referral partner without terms gets a fee of unknown amount, set later by hand', async () => {
    const ws = await registerWorkspace(harness.apiUrl);
    const leadId = await placedLead('apfm', { apiKey: ws.apiKey, ws: ws.workspaceId });
    const [fee] = await feesOf(leadId, ws.apiKey);
    expect(fee).toMatchObject({ won_status: 'leased', terms_source: 'none', amount: null, partner: 'apfm' });
    const list = await call(api('/referral-fees'), 'GET', ws.apiKey);
    expect(list.body.summary).toEqual([
      { partner: 'apfm', fees: 1, total_amount: 0, owed: 0, unknown_amounts: 1, by_status: { pending: 1 } },
    ]);
    const set = await call(api(`/referral-fees/${fee.id}`), 'PATCH', ws.apiKey, { amount: 2500 });
    expect(set.body.amount).toBe(2500);
  });

  test('a percentage fee whose rent is unknown is computed once the rent is given', async () => {
    const leadId = await placedLead('apfm');
    const [fee] = await feesOf(leadId);
    expect(fee).toMatchObject({ amount: null, monthly_rent: null, fee_type: 'percent_of_monthly_rent' });
    const set = await call(api(`/referral-fees/${fee.id}`), 'PATCH', key, { monthly_rent: 4100 });
    expect(set.body).toMatchObject({ monthly_rent: 4100, amount: 4100 });
  });
});

describe('reconciliation', () => {
  test('moves pending → reported → invoiced → paid, stamping each step; a skipped step is a 409', async () => {
    const leadId = await placedLead('apfm', { custom: { monthly_rent: 3000 } });
    const [fee] = await feesOf(leadId);
    const patch = (body: object) => call(api(`/referral-fees/${fee.id}`), 'PATCH', key, body);
    const skipped = await patch({ status: 'invoiced' });
    expect(skipped.status).toBe(409);
    expect(skipped.body.error.details).toEqual({
      from: 'pending',
      to: 'invoiced',
      allowed: ['reported', 'disputed'],
    });
    expect((await patch({ status: 'reported' })).body.reported_at).toEqual(expect.any(String));
    const invoiced = await patch({ status: 'invoiced', invoice_number: 'APFM-2026-114' });
    expect(invoiced.body).toMatchObject({ status: 'invoiced', invoice_number: 'APFM-2026-114' });
    const paid = await patch({ status: 'paid', notes: 'ACH 12/3' });
    expect(paid.body).toMatchObject({
      status: 'paid',
      paid_at: expect.any(String),
      allowed_next: ['disputed'],
    });
    const disputed = await patch({ status: 'disputed', notes: 'resident moved out in 10 days' });
    expect(disputed.body.disputed_at).toEqual(expect.any(String));
    const events = await harness.pool.query(
      `SELECT data->>'status' AS status FROM outbox_events
        WHERE lead_id = $1 AND event_type = 'referral_fee.status_changed' ORDER BY created_at`,
      [leadId],
    );
    expect(events.rows.map((r) => r.status)).toEqual(['reported', 'invoiced', 'paid', 'disputed']);
    const read = await call(api(`/referral-fees/${fee.id}`), 'GET', key);
    expect(read.body.status).toBe('disputed');
  });

  test('lists by partner and status with what is owed per partner, and as CSV', async () => {
    const owed = await call(api('/referral-fees?partner=apfm&status=pending,reported,invoiced'), 'GET', key);
    expect(owed.body.referral_fees.every((f: any) => f.partner === 'apfm' && f.status !== 'paid')).toBe(true);
    const apfm = owed.body.summary.find((s: any) => s.partner === 'apfm');
    expect(apfm.owed).toBe(apfm.total_amount);
    expect(apfm.fees).toBe(owed.body.total_count);
    const response = await fetch(api('/referral-fees?partner=caring'), {
      headers: { authorization: `Bearer ${key}`, accept: 'text/csv' },
    });
    const lines = (await response.text()).trim().split('\r\n');
    expect(lines[0]).toBe(
      'id,partner,lead_id,property_id,won_status,won_at,fee_type,rate,monthly_rent,amount,currency,status,invoice_number',
    );
    expect(lines.slice(1).every((line) => line.split(',')[1] === 'caring')).toBe(true);
    expect(lines.length).toBeGreaterThan(1);
    // An export holds every fee, whatever the page limit; the workbook holds the same ones.
    const all = await call(api('/referral-fees?limit=500'), 'GET', key);
    expect(all.body.referral_fees.length).toBeGreaterThan(1);
    const everyFee = await fetch(api('/referral-fees?limit=1'), {
      headers: { authorization: `Bearer ${key}`, accept: 'text/csv' },
    });
    const exported = (await everyFee.text()).trim().split('\r\n').slice(1);
    expect(exported.map((line) => line.split(',')[0])).toEqual(all.body.referral_fees.map((f: any) => f.id));
    const xlsx = await fetch(api('/referral-fees?limit=1&format=xlsx'), {
      headers: { authorization: `Bearer ${key}` },
    });
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(await xlsx.arrayBuffer());
    const rows = workbook.getWorksheet('referral-fees')!.getSheetValues().filter(Boolean) as unknown[][];
    expect(rows.slice(1).map((row) => row[1])).toEqual(all.body.referral_fees.map((f: any) => f.id));
  });

  test('bad updates are 400 and unknown fees 404; reconciling needs update', async () => {
    const [fee] = (await call(api('/referral-fees'), 'GET', key)).body.referral_fees;
    expect((await call(api(`/referral-fees/${fee.id}`), 'PATCH', key, { status: 'refunded' })).status).toBe(
      400,
    );
    expect((await call(api(`/referral-fees/${fee.id}`), 'PATCH', key, {})).status).toBe(400);
    expect((await call(api(`/referral-fees/${randomUUID()}`), 'PATCH', key, { notes: 'x' })).status).toBe(
      404,
    );
    const readOnly = await registerWorkspace(harness.apiUrl, { permissions: ['read'] });
    expect(
      (await call(api(`/referral-fees/${fee.id}`), 'PATCH', readOnly.apiKey, { notes: 'x' })).status,
    ).toBe(403);
  });
});

describe('terms', () => {
  test('are validated, listed and removed', async () => {
    const bad = await call(api('/referral-fee-terms/apfm'), 'PUT', key, { fee_type: 'bounty', amount: -1 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.fields.map((f: any) => f.field).sort()).toEqual(['amount', 'fee_type']);
    expect(
      (await call(api('/referral-fee-terms/nobody'), 'PUT', key, { fee_type: 'flat', amount: 1 })).status,
    ).toBe(400);
    const list = await call(api('/referral-fee-terms'), 'GET', key);
    expect(list.body.terms.map((t: any) => t.partner)).toEqual(['apfm', 'caring']);
    expect((await call(api('/referral-fee-terms/caring'), 'DELETE', key)).status).toBe(204);
    expect((await call(api('/referral-fee-terms/caring'), 'DELETE', key)).status).toBe(404);
  });
});
