// Conversions (seed 004) over HTTP against the real stack: logging exactly once, the journey event, the
// contact's conversion state, queries and analytics.
import { randomUUID } from 'node:crypto';
import ExcelJS from 'exceljs';
import { leadWorkflowId } from '../../shared/ids';
import { leadStateQuery } from '../../shared/journey/messages';
import { call, registerWorkspace, startHarness, type Harness } from '../support/harness';
import { waitFor } from '../support/wait';

let harness: Harness;
let key: string;
let workspaceId: string;

beforeAll(async () => {
  harness = await startHarness();
  ({ apiKey: key, workspaceId } = await registerWorkspace(harness.apiUrl, { timezone: 'UTC' }));
});
afterAll(async () => {
  await harness?.stop();
});

const api = (path: string) => `${harness.apiUrl}/api/v1${path}`;

async function createLead(body: Record<string, unknown> = {}, apiKey = key): Promise<string> {
  const answer = await call(api('/leads'), 'POST', apiKey, {
    source: 'website',
    email: `${randomUUID()}@example.com`,
    ...body,
  });
  expect(answer.status).toBe(201);
  return answer.body.id;
}

/** Waits until the lead's journey has counted this many conversions (bounded by the test timeout). */
async function journeyConversions(leadId: string, count: number): Promise<number> {
  const handle = harness.client.workflow.getHandle(leadWorkflowId(workspaceId, leadId));
  const state = await waitFor(`journey of ${leadId} to count ${count} conversions`, async () => {
    const state = await handle.query(leadStateQuery);
    return state.pendingEvents === 0 && state.counters.conversions >= count ? state : undefined;
  });
  return state.counters.conversions;
}

const sale = (contactId: string, extra: Record<string, unknown> = {}) => ({
  contact_id: contactId,
  converted_by: 'agent_john_doe',
  conversion_type: 'sale',
  conversion_value: 25000,
  custom_data: { product: 'two_bedroom', contract_id: 'CTR-2024-001' },
  ...extra,
});

describe('POST /api/v1/conversions', () => {
  test('logs a conversion, updates the contact, records activity and an outbox event, and tells the journey', async () => {
    const leadId = await createLead();
    const answer = await call(api('/conversions'), 'POST', key, sale(leadId, { workspace_id: workspaceId }));
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({
      id: expect.any(String),
      contact_id: leadId,
      workspace_id: workspaceId,
      conversion_type: 'sale',
      conversion_value: 25000,
      currency: 'USD',
      converted_by: 'agent_john_doe',
      custom_data: { product: 'two_bedroom', contract_id: 'CTR-2024-001' },
      duplicate: false,
    });
    const contact = await call(api(`/contacts/${leadId}/conversion`), 'GET', key);
    expect(contact.body).toMatchObject({
      conversion_status: 'converted',
      lifetime_value: 25000,
      conversion_count: 1,
      converted_by: 'agent_john_doe',
      converted_timestamp: expect.any(String),
    });
    const outbox = await harness.pool.query(
      `SELECT data FROM outbox_events WHERE lead_id = $1 AND event_type = 'conversion.logged'`,
      [leadId],
    );
    expect(outbox.rows).toHaveLength(1);
    expect(outbox.rows[0].data).toMatchObject({ id: answer.body.id, conversion_value: 25000 });
    const activity = await harness.pool.query(`SELECT action FROM workspace_activity WHERE lead_id = $1`, [
      leadId,
    ]);
    expect(activity.rows.map((r) => r.action)).toEqual(['converted']);
    expect(await journeyConversions(leadId, 1)).toBe(1);
  });

  test('the same Idempotency-Key logs once and answers the first conversion again', async () => {
    const leadId = await createLead();
    const headers = { 'Idempotency-Key': randomUUID() };
    const first = await call(api('/conversions'), 'POST', key, sale(leadId), headers);
    const again = await call(api('/conversions'), 'POST', key, sale(leadId), headers);
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: first.body.id, duplicate: true });
    const contact = await call(api(`/contacts/${leadId}/conversion`), 'GET', key);
    expect(contact.body).toMatchObject({ lifetime_value: 25000, conversion_count: 1 });
    expect(await journeyConversions(leadId, 1)).toBe(1);
  });

  test('a client conversion_id is idempotent too; reused with another body it is a 409', async () => {
    const leadId = await createLead();
    const conversionId = `CRM-${randomUUID()}`;
    const first = await call(api('/conversions'), 'POST', key, sale(leadId, { conversion_id: conversionId }));
    const again = await call(api('/conversions'), 'POST', key, sale(leadId, { conversion_id: conversionId }));
    expect([first.status, again.status]).toEqual([201, 200]);
    expect(again.body.id).toBe(first.body.id);
    const changed = await call(
      api('/conversions'),
      'POST',
      key,
      sale(leadId, { conversion_id: conversionId, conversion_value: 1 }),
    );
    expect(changed.status).toBe(409);
    expect(changed.body.error.code).toBe('conflict');
  });

  test('100 conversions posted twice each, all at once: none lost, none duplicated', async () => {
    const leadIds = await Promise.all(Array.from({ length: 5 }, () => createLead()));
    const posts = Array.from({ length: 100 }, (_, i) => ({
      body: sale(leadIds[i % 5]!, { conversion_value: i + 1, conversion_type: 'lease' }),
      headers: { 'Idempotency-Key': `burst-${randomUUID()}` },
    }));
    const answers = await Promise.all(
      [...posts, ...posts].map((p) => call(api('/conversions'), 'POST', key, p.body, p.headers)),
    );
    expect(answers.filter((a) => a.status === 201)).toHaveLength(100);
    expect(answers.filter((a) => a.status === 200)).toHaveLength(100);
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(100);
    const stored = await harness.pool.query(
      `SELECT count(*)::int AS n, sum(conversion_value)::float8 AS total FROM conversions WHERE lead_id = ANY($1)`,
      [leadIds],
    );
    expect(stored.rows[0]).toEqual({ n: 100, total: 5050 });
    const leads = await harness.pool.query(
      'SELECT sum(lifetime_value)::float8 AS total, sum(conversion_count)::int AS n FROM leads WHERE id = ANY($1)',
      [leadIds],
    );
    expect(leads.rows[0]).toEqual({ total: 5050, n: 100 });
  });

  test('answers 400 naming bad fields, 404 for an unknown contact or another workspace', async () => {
    const leadId = await createLead();
    const bad = await call(api('/conversions'), 'POST', key, {
      contact_id: leadId,
      lead_id: randomUUID(),
      conversion_type: 'handshake',
      conversion_value: -5,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.fields.map((f: { field: string }) => f.field).sort()).toEqual([
      'conversion_type',
      'conversion_value',
    ]);
    const mismatch = await call(api('/conversions'), 'POST', key, sale(leadId, { lead_id: randomUUID() }));
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.error.details.fields[0].field).toBe('lead_id');
    expect((await call(api('/conversions'), 'POST', key, sale(randomUUID()))).status).toBe(404);
    const other = await call(
      api('/conversions'),
      'POST',
      key,
      sale(leadId, { workspace_id: 'someone_else' }),
    );
    expect(other.status).toBe(404);
  });

  test('needs the convert permission', async () => {
    const readOnly = await registerWorkspace(harness.apiUrl, { permissions: ['read'] });
    const answer = await call(api('/conversions'), 'POST', readOnly.apiKey, sale(randomUUID()));
    expect(answer.status).toBe(403);
    expect(answer.body.error.details).toEqual({ required: 'convert' });
  });
});

describe('GET /api/v1/conversions', () => {
  let ws: { workspaceId: string; apiKey: string };
  let leads: string[];

  beforeAll(async () => {
    ws = await registerWorkspace(harness.apiUrl, { timezone: 'America/Chicago' });
    leads = [await createLead({}, ws.apiKey), await createLead({}, ws.apiKey)];
    const rows: [number, string, number, string][] = [
      [0, 'sale', 30000, '2025-01-10T15:00:00Z'],
      [0, 'appointment', 0, '2025-01-11T15:00:00Z'],
      [1, 'sale', 12000, '2025-01-12T03:00:00Z'], // 2025-01-11 in Chicago
      [1, 'qualified', 500, '2025-02-03T15:00:00Z'],
      [1, 'lease', 1500, '2025-02-20T15:00:00Z'],
    ];
    for (const [lead, type, value, at] of rows) {
      const answer = await call(api('/conversions'), 'POST', ws.apiKey, {
        contact_id: leads[lead],
        conversion_type: type,
        conversion_value: value,
        converted_at: at,
      });
      expect(answer.status).toBe(201);
    }
  });

  test('filters by contact, type, minimum value and dates (a bare date is a whole local day)', async () => {
    const q = (query: string) => call(api(`/conversions?${query}`), 'GET', ws.apiKey);
    expect((await q(`contact_id=${leads[0]}`)).body.total_count).toBe(2);
    expect((await q('conversion_type=sale')).body.total_count).toBe(2);
    expect((await q('conversion_type=sale,lease&min_value=10000')).body.total_count).toBe(2);
    const january11 = await q('from_date=2025-01-11&to_date=2025-01-11');
    expect(january11.body.conversions.map((c: any) => c.conversion_type).sort()).toEqual([
      'appointment',
      'sale',
    ]);
    const all = await q(`workspace_id=${ws.workspaceId}`);
    expect(all.body.total_count).toBe(5);
    expect(all.body.conversions[0].converted_at).toBe('2025-02-20T15:00:00.000Z');
  });

  test('pages with a cursor and refuses a workspace_id other than the caller’s', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await call(
        api(`/conversions?limit=2${cursor ? `&cursor=${cursor}` : ''}`),
        'GET',
        ws.apiKey,
      );
      expect(page.body.total_count).toBe(5);
      seen.push(...page.body.conversions.map((c: { id: string }) => c.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(5);
    expect((await call(api(`/conversions?workspace_id=${workspaceId}`), 'GET', ws.apiKey)).status).toBe(404);
    expect((await call(api('/conversions?cursor=nope'), 'GET', ws.apiKey)).status).toBe(400);
  });

  test('exports every conversion the filters select as CSV and as a workbook, ignoring the page limit', async () => {
    const csv = await fetch(api('/conversions?conversion_type=sale,lease&limit=1'), {
      headers: { authorization: `Bearer ${ws.apiKey}`, accept: 'text/csv' },
    });
    expect(csv.headers.get('content-disposition')).toBe('attachment; filename="conversions.csv"');
    const lines = (await csv.text()).trimEnd().split('\r\n');
    const header = lines[0]!.split(',');
    expect(header.slice(0, 3)).toEqual(['id', 'conversion_id', 'contact_id']);
    const type = header.indexOf('conversion_type');
    const value = header.indexOf('conversion_value');
    expect(lines.slice(1).map((line) => `${line.split(',')[type]}:${line.split(',')[value]}`)).toEqual([
      'lease:1500',
      'sale:12000',
      'sale:30000',
    ]);
    const xlsx = await fetch(api('/conversions?format=xlsx&limit=1'), {
      headers: { authorization: `Bearer ${ws.apiKey}` },
    });
    expect(xlsx.headers.get('content-disposition')).toBe('attachment; filename="conversions.xlsx"');
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(await xlsx.arrayBuffer());
    const rows = workbook.getWorksheet('conversions')!.getSheetValues().filter(Boolean) as unknown[][];
    expect(rows).toHaveLength(6);
    // Numbers stay numbers in the workbook.
    expect(rows.slice(1).map((row) => row[value + 1])).toEqual([1500, 500, 12000, 0, 30000]);
  });

  test('analytics: summary, by workspace, by type and daily/weekly/monthly trends in the workspace zone', async () => {
    const answer = await call(
      api('/conversions/analytics?from_date=2025-01-01&to_date=2025-03-31'),
      'GET',
      ws.apiKey,
    );
    expect(answer.status).toBe(200);
    expect(answer.body.summary).toEqual({
      total_conversions: 5,
      total_value: 44000,
      average_value: 8800,
      // Both contacts were received now, outside this range.
      conversion_rate: 0,
      contacts_received: 0,
      converted_contacts: 0,
    });
    expect(answer.body.by_workspace).toEqual([
      { workspace_id: ws.workspaceId, conversions: 5, total_value: 44000, conversion_rate: 0 },
    ]);
    expect(answer.body.by_type).toEqual({ sale: 2, appointment: 1, qualified: 1, lease: 1 });
    expect(answer.body.trends.daily).toEqual([
      { date: '2025-01-10', conversions: 1, total_value: 30000 },
      { date: '2025-01-11', conversions: 2, total_value: 12000 },
      { date: '2025-02-03', conversions: 1, total_value: 500 },
      { date: '2025-02-20', conversions: 1, total_value: 1500 },
    ]);
    expect(answer.body.trends.weekly.map((w: any) => [w.week_start, w.conversions])).toEqual([
      ['2025-01-06', 3],
      ['2025-02-03', 1],
      ['2025-02-17', 1],
    ]);
    expect(answer.body.trends.monthly).toEqual([
      { month: '2025-01', conversions: 3, total_value: 42000 },
      { month: '2025-02', conversions: 2, total_value: 2000 },
    ]);
  });

  test('analytics conversion_rate is the share of contacts received in the range that converted', async () => {
    const answer = await call(api('/conversions/analytics?conversion_type=sale,lease'), 'GET', ws.apiKey);
    expect(answer.body.summary).toMatchObject({
      contacts_received: 2,
      converted_contacts: 2,
      conversion_rate: 100,
    });
    // Default range is the last 90 days: none of the 2025 conversions are in it.
    expect(answer.body.summary.total_conversions).toBe(0);
  });

  test('analytics as CSV with Accept: text/csv', async () => {
    const response = await fetch(api('/conversions/analytics?from_date=2025-01-01&to_date=2025-03-31'), {
      headers: { authorization: `Bearer ${ws.apiKey}`, accept: 'text/csv' },
    });
    expect(response.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await response.text()).trim().split('\r\n');
    expect(lines[0]).toBe('section,key,conversions,total_value,conversion_rate');
    expect(lines).toContain('summary,all,5,44000,0');
    expect(lines).toContain('type,sale,2,42000,');
    expect(lines).toContain('monthly,2025-02,2,2000,');
  });
});

describe('PATCH /api/v1/contacts/:id/conversion', () => {
  test('sets status, attribution and merged metadata, and records the activity', async () => {
    const leadId = await createLead();
    const first = await call(api(`/contacts/${leadId}/conversion`), 'PATCH', key, {
      sent_from_workspace: 'lead_gen_team',
      converted_from_workspace: 'hubspot_marketing',
      conversion_status: 'qualified',
      converted_by: 'agent_jane',
      custom_metadata: { qualification_score: 95, preferred_contact_time: 'morning' },
    });
    expect(first.status).toBe(200);
    const second = await call(api(`/contacts/${leadId}/conversion`), 'PATCH', key, {
      custom_metadata: { preferred_contact_time: null, decision_timeline: '30_days' },
    });
    expect(second.body).toMatchObject({
      contact_id: leadId,
      conversion_status: 'qualified',
      converted_timestamp: null,
      sent_from_workspace: 'lead_gen_team',
      converted_from_workspace: 'hubspot_marketing',
      converted_by: 'agent_jane',
      custom_metadata: { qualification_score: 95, decision_timeline: '30_days' },
      lifetime_value: 0,
      conversion_count: 0,
    });
    const converted = await call(api(`/contacts/${leadId}/conversion`), 'PATCH', key, {
      conversion_status: 'converted',
    });
    expect(converted.body.converted_timestamp).toEqual(expect.any(String));
    const activity = await harness.pool.query(
      'SELECT action, metadata FROM workspace_activity WHERE lead_id = $1 ORDER BY id',
      [leadId],
    );
    expect(activity.rows.map((r) => r.action)).toEqual(['updated', 'sent', 'updated', 'updated']);
    expect(activity.rows[3].metadata).toMatchObject({
      conversion_status: 'converted',
      previous_status: 'qualified',
    });
  });

  test('400 for an empty or unknown body, 404 for an unknown contact, 403 without convert', async () => {
    const leadId = await createLead();
    expect((await call(api(`/contacts/${leadId}/conversion`), 'PATCH', key, {})).status).toBe(400);
    const unknown = await call(api(`/contacts/${leadId}/conversion`), 'PATCH', key, {
      conversion_status: 'won',
    });
    expect(unknown.body.error.details.fields[0].field).toBe('conversion_status');
    const missing = await call(api(`/contacts/${randomUUID()}/conversion`), 'PATCH', key, {
      conversion_status: 'lost',
    });
    expect(missing.status).toBe(404);
    const readOnly = await registerWorkspace(harness.apiUrl, { permissions: ['read'] });
    const denied = await call(api(`/contacts/${leadId}/conversion`), 'PATCH', readOnly.apiKey, {
      conversion_status: 'lost',
    });
    expect(denied.status).toBe(403);
  });
});
