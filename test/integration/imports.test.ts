// Onboarding imports against the real stack: a CSV of leads at every stage (terminal ones recorded, not run),
// duplicates inside the file and against existing leads, malformed rows; the file refused whole when it is not
// the documented CSV; the same file again a no-op; a backfill from a connected partner. All through the HTTP API.
import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { createIntegration } from '../../data/integrations';
import { KeyRing } from '../../shared/crypto';
import { leadWorkflowId } from '../../shared/ids';
import { startGoHighLevelSandbox, type GhlSandbox } from '../../infra/sandbox/gohighlevel';
import { startHubSpotSandbox, type HubSpotSandbox } from '../../infra/sandbox/hubspot';
import { startResManSandbox } from '../../infra/sandbox/resman';
import { startSalesforceSandbox } from '../../infra/sandbox/salesforce';
import type { PartnerName } from '../../shared/lifecycle';
import type { ImportReport, RowView } from '../../usecases/imports';
import {
  ENCRYPTION_KEYS,
  POLLING_RATE_LIMIT,
  call,
  registerWorkspace,
  startHarness,
  type Harness,
} from '../support/harness';
import { historyRows, journeyWhere } from '../support/ingest';
import { fixture } from '../support/fixtures';
import { waitFor } from '../support/wait';

let harness: Harness;
let workspaceId: string;
let apiKey: string;

const DAY = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * DAY).toISOString();
const ahead = (days: number) => new Date(Date.now() + days * DAY).toISOString();
const tag = randomUUID().slice(0, 8);
const email = (name: string) => `${name}.${tag}@example.com`;

/** The api's file limit here: small, so a file past it is cheap to send. */
const MAX_BYTES = 64 * 1024;

beforeAll(async () => {
  harness = await startHarness({ imports: { rowsPerSecond: 1000, batchSize: 5, maxBytes: MAX_BYTES } });
  // Progress is polled over the API: the hourly budget must not decide a test.
  ({ workspaceId, apiKey } = await registerWorkspace(harness.apiUrl, {
    rate_limit_per_hour: POLLING_RATE_LIMIT,
  }));
  for (const [property_id, vertical] of [
    ['oak', 'multifamily'],
    ['maple', 'senior_living'],
  ]) {
    const answer = await call(`${harness.apiUrl}/api/v1/properties`, 'POST', apiKey, {
      property_id,
      name: property_id,
      timezone: 'America/Chicago',
      vertical,
    });
    expect(answer.status).toBe(201);
  }
  // A connected CRM with credentials: a live change would be pushed to it; an imported past must not be.
  await createIntegration(harness.pool, KeyRing.parse(ENCRYPTION_KEYS), {
    workspaceId,
    partner: 'hubspot',
    name: 'HubSpot',
    config: { base_url: 'http://127.0.0.1:9' },
    credentials: { access_token: 'pat-test' },
  });
});
afterAll(async () => {
  await harness?.stop();
});

const imports = () => `${harness.apiUrl}/api/v1/imports`;

/** POST /api/v1/imports with the file as the body: the raw answer. */
async function send(file: string | Buffer, query: Record<string, string> = {}) {
  const response = await fetch(`${imports()}?${new URLSearchParams({ file_name: 'leads.csv', ...query })}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'text/csv' },
    body: file,
  });
  return { status: response.status, body: (await response.json()) as any };
}

/** An accepted upload: 202 and its import. */
async function upload(csv: string, query: Record<string, string> = {}) {
  const answer = await send(csv, query);
  expect(answer.status).toBe(202);
  return answer.body as { id: string; duplicate: boolean };
}

/** A started backfill: 202 and its import. */
async function backfill(body: Record<string, unknown>) {
  const answer = await call(imports(), 'POST', apiKey, body);
  expect(answer.status).toBe(202);
  return answer.body as { id: string; duplicate: boolean };
}

const progressOf = async (id: string): Promise<ImportReport> => {
  const answer = await call(`${imports()}/${id}`, 'GET', apiKey);
  expect(answer.status).toBe(200);
  return answer.body;
};

const rowsOf = async (id: string, query: Record<string, string> = {}): Promise<RowView[]> => {
  const answer = await call(`${imports()}/${id}/rows?${new URLSearchParams(query)}`, 'GET', apiKey);
  expect(answer.status).toBe(200);
  return answer.body.rows;
};

const finished = (id: string) =>
  waitFor(`import ${id} to finish`, () => progressOf(id), {
    until: (p: ImportReport) => p.status === 'completed' || p.status === 'failed',
  });

const HEADER =
  'external_id,external_source,first_name,email,phone,property_id,source,status,created_at,status_changed_at,contacted_at,tour_scheduled_at,tour_at,last_activity_at,lost_reason,custom_unit';

function line(cells: Record<string, string>): string {
  return HEADER.split(',')
    .map((name) => cells[name] ?? '')
    .join(',');
}

describe('a CSV of leads at every stage', () => {
  let progress: ImportReport;
  let importId: string;
  let existingLeadId: string;
  let file = '';
  const csv = () =>
    (file ||= [
      HEADER,
      /* 1 */ line({
        email: email('new'),
        property_id: 'oak',
        source: 'apfm',
        status: 'new',
        created_at: ago(3),
      }),
      /* 2 */ line({
        email: email('stale'),
        property_id: 'oak',
        status: 'contacted',
        created_at: ago(90),
        contacted_at: ago(80),
      }),
      /* 3 */ line({
        phone: '(303) 555-0142',
        status: 'qualified',
        created_at: ago(10),
        status_changed_at: ago(5),
      }),
      /* 4 */ line({
        email: email('tour'),
        property_id: 'oak',
        status: 'tour_scheduled',
        created_at: ago(9),
        tour_scheduled_at: ago(2),
        tour_at: ahead(5),
      }),
      /* 5 */ line({
        external_id: `SF-${tag}`,
        external_source: 'salesforce',
        first_name: 'Toured',
        property_id: 'oak',
        status: 'toured',
        created_at: ago(20),
        contacted_at: ago(19),
        tour_scheduled_at: ago(8),
        status_changed_at: ago(6),
        custom_unit: '2BR',
      }),
      /* 6 */ line({
        email: email('app'),
        status: 'application',
        created_at: ago(30),
        status_changed_at: ago(1),
      }),
      /* 7 */ line({
        email: email('leased'),
        property_id: 'oak',
        source: 'apfm',
        status: 'leased',
        created_at: ago(60),
        status_changed_at: ago(10),
      }),
      /* 8 */ line({
        email: email('placed'),
        property_id: 'maple',
        source: 'caring',
        status: 'placed',
        created_at: ago(70),
        status_changed_at: ago(12),
      }),
      /* 9 */ line({
        email: email('lost'),
        status: 'lost',
        created_at: ago(40),
        status_changed_at: ago(20),
        lost_reason: 'chose another community',
      }),
      /* 10 */ line({ email: email('NEW').replace('NEW', 'New'), status: 'contacted', created_at: ago(2) }),
      /* 11 */ line({ email: email('existing'), status: 'toured', created_at: ago(50) }),
      /* 12 */ line({ email: 'not-an-email', status: 'new', created_at: ago(1) }),
      /* 13 */ line({ email: email('wrongwon'), property_id: 'oak', status: 'placed', created_at: ago(30) }),
      /* 14 */ line({ email: email('baddate'), status: 'new', created_at: 'last tuesday' }),
      /* 15 */ `${email('short')},new`,
      /* 16 */ line({ email: email('notour'), status: 'tour_scheduled', created_at: ago(3) }),
      /* 17 */ line({ email: email('nowhere'), property_id: 'atlantis', status: 'new', created_at: ago(3) }),
    ].join('\n'));

  beforeAll(async () => {
    // A lead that already has a live journey: the file's row for the same person matches it.
    const existing = await call(`${harness.apiUrl}/api/v1/leads`, 'POST', apiKey, {
      source: 'website',
      email: email('existing'),
    });
    expect(existing.status).toBe(201);
    existingLeadId = existing.body.id;
    await journeyWhere(harness, workspaceId, existingLeadId, (s) => s.counters.events > 0, 'its inquiry');
    const started = await upload(csv());
    expect(started.duplicate).toBe(false);
    importId = started.id;
    progress = await finished(importId);
  });

  const leadOf = async (row: number): Promise<string> => {
    const rows = await rowsOf(importId, { after: String(row - 1), limit: '1' });
    expect(rows[0]?.row).toBe(row);
    return rows[0]!.lead_id!;
  };

  test('progress counts every row once: created, matched, skipped and failed with reasons', async () => {
    expect(progress).toMatchObject({
      status: 'completed',
      rows: { total: 17, read: 17, pending: 0, created: 9, matched: 1, skipped: 1, failed: 6 },
    });
    const rows = await rowsOf(importId, { limit: '100' });
    const outcome = (row: number) => rows.find((r) => r.row === row);
    // The progress itself names each row not imported, with its reason.
    expect(progress.rows_not_imported).toEqual({
      rows: rows.filter((r) => r.outcome === 'skipped' || r.outcome === 'failed'),
      next_after: null,
    });
    expect(progress.rows_not_imported.rows.map((r) => r.row)).toEqual([10, 12, 13, 14, 15, 16, 17]);
    expect(outcome(10)).toMatchObject({
      outcome: 'skipped',
      reason: expect.stringContaining('row 1 of this file'),
    });
    expect(outcome(11)).toMatchObject({ outcome: 'matched', lead_id: existingLeadId });
    expect(outcome(12)?.reason).toMatch(/^email: "not-an-email" is not an email address/);
    expect(outcome(13)?.reason).toMatch(/^status: placed is not a status of this multifamily pipeline/);
    expect(outcome(14)?.reason).toMatch(/^created_at: "last tuesday" is not a date/);
    expect(outcome(15)?.reason).toBe(`row: has 2 fields, the header has ${HEADER.split(',').length}`);
    expect(outcome(16)?.reason).toBe('tour_at: status tour_scheduled needs tour_at');
    expect(outcome(17)?.reason).toBe('property_id: "atlantis" is not a property of this workspace');
  });

  test('each open lead runs its journey at the stage it reached; won and lost ones are recorded, not run', async () => {
    const stages = ['new', 'contacted', 'qualified', 'tour_scheduled', 'toured', 'application'];
    for (const [i, stage] of stages.entries()) {
      const leadId = await leadOf(i + 1);
      const state = await journeyWhere(harness, workspaceId, leadId, (s) => s.status === stage, stage);
      expect(state.journey).toBe(1);
    }
    for (const [row, stage] of [
      [7, 'leased'],
      [8, 'placed'],
      [9, 'lost'],
    ] as const) {
      const leadId = await leadOf(row);
      const lead = await call(`${harness.apiUrl}/api/v1/leads/${leadId}`, 'GET', apiKey);
      expect(lead.body.status).toBe(stage);
      await expect(
        harness.client.workflow.getHandle(leadWorkflowId(workspaceId, leadId)).describe(),
      ).rejects.toBeInstanceOf(WorkflowNotFoundError);
    }
  });

  test('history keeps the original dates as imported; the lead keeps its first inquiry date and its source', async () => {
    const toured = await leadOf(5);
    const rows = await historyRows(harness, toured);
    expect(rows.map((r) => [r.entry_type, r.new_status, r.reason])).toEqual([
      ['applied', 'new', 'imported'],
      ['applied', 'contacted', 'imported'],
      ['skipped', 'qualified', 'imported'],
      ['applied', 'tour_scheduled', 'imported'],
      ['applied', 'toured', 'imported'],
    ]);
    const days = (at: Date) => Math.round((Date.now() - at.getTime()) / DAY);
    expect(rows.map((r) => days(r.created_at))).toEqual([20, 19, 19, 8, 6]);
    const lead = (await call(`${harness.apiUrl}/api/v1/leads/${toured}`, 'GET', apiKey)).body;
    expect(days(new Date(lead.created_at))).toBe(20);
    expect(lead.external_ids).toEqual({ salesforce: `SF-${tag}` });
    const leased = (await call(`${harness.apiUrl}/api/v1/leads/${await leadOf(7)}`, 'GET', apiKey)).body;
    expect(leased.source).toBe('apfm');
    // The referral partner of a won lead is owed its fee, as for any lead it sent.
    const fees = await harness.pool.query('SELECT partner FROM referral_fees WHERE lead_id = $1', [
      leased.id,
    ]);
    expect(fees.rows.map((r) => r.partner)).toEqual(['apfm']);
  });

  test('imported history is not news: no push, webhook, task or notification but one stale nudge', async () => {
    const created = await Promise.all([1, 2, 3, 4, 5, 6, 7, 8, 9].map(leadOf));
    // Every journey settled first (their follow-ups planned, the stale one fired).
    for (const leadId of created.slice(0, 6)) {
      await journeyWhere(harness, workspaceId, leadId, (s) => (s.pendingDeliveries ?? 0) === 0, 'settled');
    }
    const stale = await leadOf(2);
    await waitFor('the stale lead nudge', async () => {
      const { rows } = await harness.pool.query('SELECT 1 FROM notifications WHERE lead_id = $1', [stale]);
      return rows.length > 0;
    });
    const count = async (table: string) =>
      (
        await harness.pool.query<{ lead_id: string; what: string }>(
          `SELECT lead_id, ${table === 'notifications' ? 'template' : table === 'staff_tasks' ? 'kind' : "'x'"} AS what
             FROM ${table} WHERE lead_id = ANY($1)`,
          [created],
        )
      ).rows;
    expect(await count('partner_syncs')).toEqual([]);
    expect(await count('outbox_events')).toEqual([]);
    expect(await count('staff_tasks')).toEqual([]);
    expect(await count('notifications')).toEqual([{ lead_id: stale, what: 'stale_lead_nudge' }]);
    // Nothing else is due for the stale lead: no backlog behind its nudge.
    const state = await journeyWhere(harness, workspaceId, stale, () => true, 'settled');
    expect(state.followUps).toEqual([]);
  });

  test('a tour next week keeps its reminders; a days-old new lead has no speed-to-lead alarm', async () => {
    const tour = await journeyWhere(harness, workspaceId, await leadOf(4), () => true, 'settled');
    expect(tour.followUps?.map((f) => f.name).sort()).toEqual([
      'auto_lost',
      'no_show',
      'post_tour',
      'stale',
      'tour_reminder_24h',
      'tour_reminder_2h',
    ]);
    const fresh = await journeyWhere(harness, workspaceId, await leadOf(1), () => true, 'settled');
    expect(fresh.followUps?.map((f) => f.name)).toEqual(['stale', 'auto_lost']);
    expect(fresh.nextFollowUpAt).toBe(fresh.followUps?.[0]?.fireAt);
  });

  test('errors.csv holds the rows to fix, as they were, with the reason', async () => {
    const answer = await call(`${imports()}/${importId}/errors.csv`, 'GET', apiKey);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^text\/csv/);
    const text = answer.body as string;
    const lines = text.trim().split('\r\n');
    expect(lines[0]).toBe(`row,error,${HEADER}`);
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(['12', '13', '14', '15', '16', '17']);
    expect(lines[1]).toContain('not-an-email');
  });

  test('the same file again is a no-op that says so', async () => {
    const again = await upload(csv());
    expect(again).toEqual({ id: importId, duplicate: true });
    const progressAgain = await progressOf(importId);
    expect(progressAgain.rows).toEqual(progress.rows);
  });

  test('another file with the same people imports none of them twice', async () => {
    const second = await upload(
      [
        HEADER,
        line({ email: email('new'), status: 'contacted', created_at: ago(3) }),
        line({ email: email('brand-new'), status: 'new', created_at: ago(1) }),
      ].join('\n'),
    );
    const done = await finished(second.id);
    expect(done.rows).toMatchObject({ created: 1, skipped: 1, matched: 0, failed: 0 });
    const rows = await rowsOf(second.id);
    expect(rows[0]?.reason).toBe(`already imported: import ${importId}, row 1`);
  });
});

describe('a file that is not the documented CSV is refused at upload', () => {
  /** The refusal's error body; nothing was stored. */
  const refusal = async (file: string | Buffer, status = 400) => {
    const answer = await send(file);
    expect(answer.status).toBe(status);
    return answer.body.error as { code: string; message: string; details: Record<string, any> };
  };

  test('missing, unknown and repeated columns are named', async () => {
    const error = await refusal('mail,status,status,favourite_colour\nx@example.com,new,new,blue\n');
    expect(error.code).toBe('validation_failed');
    expect(error.details.fields).toEqual([
      { field: 'created_at', message: 'required column missing' },
      { field: 'email|phone|external_id', message: 'required column missing' },
      expect.objectContaining({ field: 'mail' }),
      expect.objectContaining({ field: 'favourite_colour' }),
      { field: 'status', message: 'column given twice' },
    ]);
  });

  test('a workbook, a broken quote, a header alone and an empty file each get their reason', async () => {
    expect((await refusal(Buffer.from([0x50, 0x4b, 0x03, 0x04, 1, 2, 3]))).message).toMatch(/Excel workbook/);
    const quote = await refusal('email,status,created_at\n"x@example.com,new,2026-01-01\n');
    expect(quote.message).toMatch(/^the file is not a valid CSV: Quote Not Closed/);
    expect((await refusal('email,status,created_at\n')).message).toBe('the file has a header but no rows');
    expect((await refusal('')).message).toBe('the file is empty');
  });

  test('a file over the size limit is refused with 413', async () => {
    const template = (await call(`${imports()}/template.csv`, 'GET', apiKey)).body as string;
    const error = await refusal(template.repeat(Math.ceil(MAX_BYTES / template.length) + 1), 413);
    expect(error.details.limit_bytes).toBe(MAX_BYTES);
  });

  test('neither a CSV nor a backfill, or a backfill with bad fields, is refused naming the field', async () => {
    const none = await call(imports(), 'POST', apiKey, undefined, { 'content-type': 'text/plain' });
    expect(none.status).toBe(400);
    expect(none.body.error.details.fields).toEqual([expect.objectContaining({ field: 'body' })]);
    const bad = await call(imports(), 'POST', apiKey, { integration_id: 'hubspot', since: 'last week' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toBe('invalid body: integration_id, since');
  });

  test('the column check of a dry run stores and starts nothing', async () => {
    const before = (await call(imports(), 'GET', apiKey)).body.imports.length;
    const check = await send(
      `email,status,created_at,custom_colour\n${email('dry')},new,${ago(1)},red\nx,new,soon,\n`,
      {
        dry_run: 'true',
      },
    );
    expect(check.status).toBe(200);
    expect(check.body).toEqual({
      columns: [
        { name: 'email', recognized: true },
        { name: 'status', recognized: true },
        { name: 'created_at', recognized: true },
        { name: 'custom_colour', recognized: true },
      ],
      rows: 2,
      readable: 1,
      problems: [{ row: 2, reason: expect.stringContaining('email: "x" is not an email address') }],
    });
    expect((await call(imports(), 'GET', apiKey)).body.imports.length).toBe(before);
  });

  test('the template downloads as CSV and is itself an importable file', async () => {
    const template = await call(`${imports()}/template.csv`, 'GET', apiKey);
    expect(template.status).toBe(200);
    expect(template.headers.get('content-disposition')).toContain('leadrelay-import-template.csv');
    const started = await upload((template.body as string).replace('sunrise-oaks', 'oak'));
    const done = await finished(started.id);
    expect(done.rows).toMatchObject({ total: 1, created: 1, failed: 0 });
  });

  test("another workspace's import is not found", async () => {
    const other = await registerWorkspace(harness.apiUrl);
    const [mine] = (await call(imports(), 'GET', apiKey)).body.imports;
    const answer = await call(`${imports()}/${mine.id}`, 'GET', other.apiKey);
    expect(answer.status).toBe(404);
    expect((await call(`${imports()}/${mine.id}/errors.csv`, 'GET', other.apiKey)).status).toBe(404);
  });
});

describe('a backfill from a connected partner', () => {
  let hub: HubSpotSandbox;
  beforeAll(async () => {
    hub = await startHubSpotSandbox();
  });
  afterAll(() => hub?.close());

  const connect = (accessToken: string) =>
    createIntegration(harness.pool, KeyRing.parse(ENCRYPTION_KEYS), {
      workspaceId,
      partner: 'hubspot',
      name: 'HubSpot portal',
      config: { base_url: hub.url },
      credentials: { access_token: accessToken, client_secret: 'hubspot-app-secret' },
    });

  test('every contact changed since the date becomes a lead at its stage, attributed to HubSpot; again, none twice', async () => {
    const known = await call(`${harness.apiUrl}/api/v1/leads`, 'POST', apiKey, {
      source: 'website',
      email: email('known-to-hubspot'),
    });
    const contacts = [
      hub.addContact({ email: email('hs-qualified'), firstname: 'Quinn', hs_lead_status: 'IN_PROGRESS' }),
      hub.addContact({ email: email('hs-lost'), hs_lead_status: 'UNQUALIFIED' }),
      hub.addContact({ email: email('hs-new') }),
      hub.addContact({ email: email('known-to-hubspot'), hs_lead_status: 'CONNECTED' }),
    ];
    for (const contact of contacts) contact.properties.createdate = ago(12);
    const integration = await connect(hub.accessToken);
    const started = await backfill({ integration_id: integration.id, since: ago(30) });
    const done = await finished(started.id);
    expect(done).toMatchObject({
      status: 'completed',
      kind: 'backfill',
      partner: 'hubspot',
      rows: { total: 4, created: 3, matched: 1, skipped: 0, failed: 0 },
    });
    const rows = await rowsOf(started.id);
    expect(rows[3]).toMatchObject({ outcome: 'matched', lead_id: known.body.id });
    const qualified = (await call(`${harness.apiUrl}/api/v1/leads/${rows[0]!.lead_id}`, 'GET', apiKey)).body;
    expect(qualified).toMatchObject({
      status: 'qualified',
      source: 'hubspot',
      external_ids: { hubspot: contacts[0]!.id },
    });
    expect(Math.round((Date.now() - Date.parse(qualified.created_at)) / DAY)).toBe(12);

    const again = await backfill({ integration_id: integration.id, since: ago(30) });
    const second = await finished(again.id);
    expect(second.rows).toMatchObject({ total: 4, created: 0, matched: 0, skipped: 4 });
  });

  test('a listing the partner refuses ends the import as failed, saying why', async () => {
    const integration = await connect('pat-revoked');
    const started = await backfill({ integration_id: integration.id, since: ago(30) });
    const done = await finished(started.id);
    expect(done.status).toBe('failed');
    expect(done.error).toMatch(/^hubspot refused the listing: hubspot answered 401/);
  });

  test('a partner that cannot list its leads is refused at the start, naming the field', async () => {
    const integration = await createIntegration(harness.pool, KeyRing.parse(ENCRYPTION_KEYS), {
      workspaceId,
      partner: 'callrail',
      name: 'CallRail',
      config: {},
    });
    const answer = await call(imports(), 'POST', apiKey, { integration_id: integration.id, since: ago(30) });
    expect(answer.status).toBe(400);
    expect(answer.body.error.details).toMatchObject({
      fields: [{ field: 'integration_id', message: 'callrail has no lead listing' }],
      partners: ['hubspot', 'salesforce', 'resman', 'gohighlevel'],
    });
  });
});

describe('a backfill from each other partner that lists its leads', () => {
  /** A twin with two leads changed lately (one contacted, one applying), and how to connect to it. */
  interface Twin {
    close(): Promise<void> | void;
    connection: { config: Record<string, unknown>; credentials: Record<string, string>; propertyId?: string };
  }
  const twins: Record<'salesforce' | 'resman' | 'gohighlevel', () => Promise<Twin>> = {
    salesforce: async () => {
      const sf = await startSalesforceSandbox();
      for (const [name, status] of [
        ['contacted', 'Working - Contacted'],
        ['application', 'Application In'],
      ]) {
        sf.statusValues.push(status!);
        const lead = sf.addLead({
          LastName: name!,
          Company: 'x',
          Email: email(`sf-${name}`),
          Status: status!,
        });
        lead.fields.CreatedDate = ago(10).replace('Z', '+0000');
      }
      return {
        close: () => sf.close(),
        connection: {
          config: { base_url: sf.url, status_map: { application: 'Application In' } },
          credentials: { client_id: sf.clientId, client_secret: sf.clientSecret },
        },
      };
    },
    resman: async () => {
      const rm = await startResManSandbox();
      rm.seedProspect({ email: email('rm-contacted'), createdAt: ago(10) });
      rm.seedProspect({ email: email('rm-application'), type: 'applicant', createdAt: ago(10) });
      return {
        close: () => rm.close(),
        connection: {
          config: { base_url: rm.url, property_id: rm.propertyId },
          credentials: { ...rm.credentials },
          propertyId: 'oak',
        },
      };
    },
    gohighlevel: async () => {
      const pipeline = fixture<{ pipelines: GhlSandbox['pipelines'] }>('gohighlevel', 'pipelines.json')
        .pipelines[0]!;
      const stage = (name: string) => pipeline.stages.find((s) => s.name === name)!.id;
      const ghl = await startGoHighLevelSandbox({ pipelines: [pipeline] });
      for (const [name, stageName] of [
        ['contacted', 'Contacted'],
        ['application', 'Application In'],
      ]) {
        const contact = ghl.seedContact({ firstName: name, email: email(`ghl-${name}`) });
        ghl.seedOpportunity({
          contactId: contact.id,
          pipelineId: pipeline.id,
          pipelineStageId: stage(stageName!),
          status: 'open',
          createdAt: ago(10),
          updatedAt: ago(2),
          lastStageChangeAt: ago(3),
        });
      }
      return {
        close: () => ghl.close(),
        connection: {
          config: {
            base_url: ghl.url,
            location_id: ghl.locationId,
            pipeline_id: pipeline.id,
            stage_ids: { contacted: stage('Contacted'), application: stage('Application In') },
          },
          credentials: { access_token: ghl.accessToken },
        },
      };
    },
  };

  test.each(Object.keys(twins))(
    '%s: its leads come in at their stage, attributed to it, through POST /api/v1/imports',
    async (partner) => {
      const twin = await twins[partner as keyof typeof twins]();
      try {
        const integration = await createIntegration(harness.pool, KeyRing.parse(ENCRYPTION_KEYS), {
          workspaceId,
          partner: partner as PartnerName,
          name: partner,
          ...twin.connection,
        });
        const started = await backfill({ integration_id: integration.id, since: ago(30) });
        const done = await finished(started.id);
        expect(done).toMatchObject({
          status: 'completed',
          partner,
          rows: { total: 2, created: 2, failed: 0 },
        });
        const leads = await Promise.all(
          (await rowsOf(started.id)).map(
            async (row) => (await call(`${harness.apiUrl}/api/v1/leads/${row.lead_id}`, 'GET', apiKey)).body,
          ),
        );
        expect(leads.map((lead) => [lead.status, lead.source]).sort()).toEqual([
          ['application', partner],
          ['contacted', partner],
        ]);
        expect(leads.every((lead) => lead.external_ids[partner])).toBe(true);
      } finally {
        await twin.close();
      }
    },
  );
});
