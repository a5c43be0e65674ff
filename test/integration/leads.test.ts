// The lead endpoints over HTTP against the real stack (dev server, Postgres, worker).
import { randomUUID } from 'node:crypto';
import ExcelJS from 'exceljs';
import { recordJourneyChange } from '../../activities/db/journey';
import { startResManSandbox, type ResManSandbox } from '../../infra/sandbox/resman';
import { call, registerWorkspace, startHarness, type Harness } from '../support/harness';
import { journeyStart } from '../support/history';
import { createIntegration, journeyWhere, postStandard, waitFor } from '../support/ingest';

let harness: Harness;
let key: string;
let workspaceId: string;
let otherKey: string;

beforeAll(async () => {
  harness = await startHarness();
  ({ apiKey: key, workspaceId } = await registerWorkspace(harness.apiUrl));
  ({ apiKey: otherKey } = await registerWorkspace(harness.apiUrl));
  const property = await call(`${harness.apiUrl}/api/v1/properties`, 'POST', key, {
    property_id: 'maple',
    name: 'Maple Senior Living',
    timezone: 'America/Denver',
    vertical: 'senior_living',
  });
  expect(property.status).toBe(201);
});
afterAll(async () => {
  await harness?.stop();
});

const api = (path: string) => `${harness.apiUrl}/api/v1${path}`;
const email = () => `${randomUUID()}@example.com`;

async function createLead(body: Record<string, unknown> = {}) {
  const answer = await call(api('/leads'), 'POST', key, { source: 'website', email: email(), ...body });
  expect([200, 201]).toContain(answer.status);
  return answer.body as { id: string; workflow_id: string; matched: boolean };
}

/** Waits until the journey has applied its first inquiry (the projection row exists from the start). */
function journeyReady(leadId: string) {
  return journeyWhere(
    harness,
    workspaceId,
    leadId,
    (s) => s.counters.events > 0,
    'its first inquiry applied',
  );
}

describe('POST /api/v1/leads', () => {
  test('answers 400 naming every bad field', async () => {
    const answer = await call(api('/leads'), 'POST', key, {
      email: 'not-an-email',
      phone: '12',
      nickname: 'x',
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('validation_failed');
    const fields = answer.body.error.details.fields.map((f: { field: string }) => f.field);
    expect(fields).toEqual(expect.arrayContaining(['source', 'email', 'phone']));
  });

  test('refuses a lead with no way to reach or recognise the person', async () => {
    const answer = await call(api('/leads'), 'POST', key, { source: 'website', first_name: 'Nobody' });
    expect(answer.status).toBe(400);
    expect(answer.body.error.details.fields[0].field).toBe('email|phone|external_ids');
  });

  test('401 without a key, 401 with a wrong one', async () => {
    expect((await call(api('/leads'), 'GET', undefined)).status).toBe(401);
    expect((await call(api('/leads'), 'GET', 'lr_wrong')).status).toBe(401);
  });

  test('matches by partner external id, then normalized email, then E.164 phone', async () => {
    const address = email();
    const first = await createLead({
      email: address,
      phone: '(303) 555-0101',
      external_ids: { apfm: `R-${randomUUID()}` },
    });
    expect(first.matched).toBe(false);
    const byEmail = await call(api('/leads'), 'POST', key, {
      source: 'caring',
      email: address.toUpperCase(),
    });
    expect(byEmail).toMatchObject({ status: 200, body: { id: first.id, matched: true } });
    const byPhone = await call(api('/leads'), 'POST', key, { source: 'callrail', phone: '+1 303 555 0101' });
    expect(byPhone).toMatchObject({ status: 200, body: { id: first.id, matched: true } });
    const lead = await call(api(`/leads/${first.id}`), 'GET', key);
    expect(lead.body.source).toBe('website');
    expect(lead.body.external_ids).toHaveProperty('apfm');
  });

  test('a new lead’s journey decides its inquiry with the partners, rules and zone read with the lead: one activity', async () => {
    const lead = await createLead({ property_id: 'maple' });
    await journeyReady(lead.id);
    const start = await journeyStart(harness.client, lead.workflow_id);
    expect(start).toMatchObject({
      eventId: expect.any(String),
      readFor: start.eventId,
      policy: { timeZone: 'America/Denver', connectedPartners: [], rules: [] },
      scheduled: ['recordJourneyChange'],
    });
  });

  test('20 concurrent creates of one person give one lead', async () => {
    const address = email();
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        call(api('/leads'), 'POST', key, {
          source: i % 2 ? 'website' : 'chatbot',
          email: address,
          phone: '+13035550199',
        }),
      ),
    );
    const ids = new Set(answers.map((a) => a.body.id));
    expect(ids.size).toBe(1);
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 200)).toHaveLength(19);
    const rows = await harness.pool.query(
      'SELECT count(*)::int AS n FROM leads WHERE workspace_id = $1 AND email_normalized = $2',
      [workspaceId, address],
    );
    expect(rows.rows[0].n).toBe(1);
  });

  test('an unknown property is named', async () => {
    const answer = await call(api('/leads'), 'POST', key, {
      source: 'website',
      email: email(),
      property_id: 'nowhere',
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error.details.fields[0].field).toBe('property_id');
  });
});

describe('GET /api/v1/leads', () => {
  test('filters by status, source, property, created range and text, and pages with a cursor', async () => {
    const tag = randomUUID().slice(0, 8);
    const made = [];
    for (let i = 0; i < 5; i++) {
      made.push(
        await createLead({
          source: `fair-${tag}`,
          first_name: `Zed${tag}`,
          property_id: i < 3 ? 'maple' : undefined,
        }),
      );
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: any } = await call(
        api(`/leads?source=fair-${tag}&limit=2${cursor ? `&cursor=${cursor}` : ''}`),
        'GET',
        key,
      );
      expect(page.status).toBe(200);
      expect(page.body.leads.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.leads.map((l: { id: string }) => l.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen.sort()).toEqual(made.map((m) => m.id).sort());

    const byProperty = await call(api(`/leads?source=fair-${tag}&property_id=maple`), 'GET', key);
    expect(byProperty.body.leads).toHaveLength(3);
    const byText = await call(api(`/leads?q=zed${tag}&status=new`), 'GET', key);
    expect(byText.body.leads).toHaveLength(5);
    const future = await call(api(`/leads?source=fair-${tag}&created_from=2999-01-01`), 'GET', key);
    expect(future.body.leads).toHaveLength(0);
    const bad = await call(api('/leads?status=sleeping&cursor=zzz'), 'GET', key);
    expect(bad.status).toBe(400);
  });

  test('a key of another workspace sees none of these leads and gets 404 for one', async () => {
    const lead = await createLead();
    expect((await call(api(`/leads/${lead.id}`), 'GET', otherKey)).status).toBe(404);
    expect((await call(api(`/leads/${lead.id}/status-history`), 'GET', otherKey)).status).toBe(404);
    expect(
      (await call(api(`/leads/${lead.id}/status`), 'PUT', otherKey, { new_status: 'contacted' })).status,
    ).toBe(404);
    const list = await call(api('/leads'), 'GET', otherKey);
    expect(list.body.leads.map((l: { id: string }) => l.id)).not.toContain(lead.id);
  });
});

describe('contact normalisation at the API', () => {
  test('an email with spaces around it is trimmed and matches the existing lead', async () => {
    const address = `dana.okafor.${randomUUID().slice(0, 8)}@example.com`;
    const first = await createLead({ email: address });
    const again = await call(api('/leads'), 'POST', key, {
      source: 'website',
      email: ` ${address.toUpperCase()} `,
    });
    expect(again).toMatchObject({ status: 200, body: { id: first.id, matched: true } });
    const spaced = await call(api('/leads'), 'POST', key, {
      source: 'website',
      email: `\u00a0new.${address}\t`,
    });
    expect(spaced.status).toBe(201);
    const stored = await call(api(`/leads/${spaced.body.id}`), 'GET', key);
    expect(stored.body.email).toBe(`new.${address}`);
  });
});

describe('GET /api/v1/leads: names by ids, and exports', () => {
  let tag: string;
  let made: { id: string }[];
  beforeAll(async () => {
    tag = randomUUID().slice(0, 8);
    made = [];
    for (let i = 0; i < 3; i++) {
      made.push(
        await createLead({
          source: `export-${tag}`,
          first_name: i === 0 ? '=HYPERLINK("http://evil.example")' : `Ana${i}`,
          last_name: `Row${i}`,
        }),
      );
    }
  });

  test('ids answers those leads only; a bad id is named', async () => {
    const ids = [made[0]!.id, made[2]!.id];
    const answer = await call(api(`/leads?ids=${ids.join(',')}`), 'GET', key);
    expect(answer.status).toBe(200);
    expect(answer.body.leads.map((l: { id: string }) => l.id).sort()).toEqual([...ids].sort());
    expect(answer.body.leads.map((l: { last_name: string }) => l.last_name).sort()).toEqual(['Row0', 'Row2']);
    // Another workspace's key names none of them.
    const other = await call(api(`/leads?ids=${ids.join(',')}`), 'GET', otherKey);
    expect(other.body.leads).toEqual([]);
    const bad = await call(api('/leads?ids=not-a-uuid'), 'GET', key);
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.fields.map((f: { field: string }) => f.field)).toContain('ids.0');
  });

  test('Accept: text/csv exports every lead the filters select, past the page limit, formulas escaped', async () => {
    const response = await fetch(api(`/leads?source=export-${tag}&limit=1`), {
      headers: { authorization: `Bearer ${key}`, accept: 'text/csv' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="leads.csv"');
    const lines = (await response.text()).trimEnd().split('\r\n');
    expect(lines[0]!.split(',').slice(0, 3)).toEqual(['id', 'status', 'source']);
    expect(lines).toHaveLength(4);
    expect(
      lines
        .slice(1)
        .map((line) => line.split(',')[0])
        .sort(),
    ).toEqual(made.map((m) => m.id).sort());
    expect(lines.join('\n')).toContain(`"'=HYPERLINK(""http://evil.example"")"`);
  });

  test('format=xlsx streams a workbook with the same rows', async () => {
    const response = await fetch(api(`/leads?source=export-${tag}&limit=1&format=xlsx`), {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    );
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(await response.arrayBuffer());
    const sheet = workbook.getWorksheet('leads')!;
    const rows = sheet.getSheetValues().filter(Boolean) as unknown[][];
    expect(rows[0]!.slice(1, 4)).toEqual(['id', 'status', 'source']);
    expect(
      rows
        .slice(1)
        .map((row) => row[1])
        .sort(),
    ).toEqual(made.map((m) => m.id).sort());
    // Text stays text in a workbook: the formula-looking name is a string cell, not a formula.
    const names = rows.slice(1).map((row) => row[6]);
    expect(names).toContain('=HYPERLINK("http://evil.example")');
  });
});

describe('PUT /api/v1/leads/:id/status', () => {
  test('applies a change and answers seed 001 UpdateStatusResponse', async () => {
    const lead = await createLead();
    await journeyReady(lead.id);
    const answer = await call(api(`/leads/${lead.id}/status`), 'PUT', key, {
      new_status: 'contacted',
      status_reason: 'returned the call',
      context_data: { urgency_level: 'high' },
      updated_by: 'chatbot',
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      success: true,
      new_status: 'contacted',
      updated_at: expect.any(String),
      notifications_sent: 0,
      workflow_actions_triggered: [],
    });
    const history = await call(api(`/leads/${lead.id}/status-history`), 'GET', key);
    expect(history.body.total_count).toBe(2);
    expect(history.body.status_changes[1]).toMatchObject({
      old_status: 'new',
      new_status: 'contacted',
      status_reason: 'returned the call',
      updated_by: 'chatbot',
      // No actor in the request: the API key's label is recorded.
      actor: 'workspace key',
      context_data: { urgency_level: 'high' },
    });
    // The live answer lists the follow-ups still ahead: contacted leads get the stale nudge and auto-lost.
    const live = await call(api(`/leads/${lead.id}`), 'GET', key);
    expect(live.body.live).toBe(true);
    const names = live.body.follow_ups.map((f: { name: string }) => f.name);
    expect(names.length).toBeGreaterThan(0);
    expect(live.body.follow_ups[0].fire_at).toBe(live.body.next_follow_up_at);
    expect(names).not.toContain('speed_to_lead');
  });

  describe('who a change came from: updated_by is recorded, only a signature proves a partner origin', () => {
    let resman: ResManSandbox;
    let resmanKey: string;
    let resmanWorkspace: string;
    let integration: Awaited<ReturnType<typeof createIntegration>>;
    beforeAll(async () => {
      resman = await startResManSandbox();
      // A workspace of its own: every lead of it is pushed to this ResMan property.
      ({ apiKey: resmanKey, workspaceId: resmanWorkspace } = await registerWorkspace(harness.apiUrl));
      integration = await createIntegration(harness, resmanKey, {
        partner: 'resman',
        config: {
          base_url: resman.url,
          property_id: resman.propertyId,
          default_source_id: resman.sources[0]!.ID,
          poll_interval_minutes: 1440,
        },
        credentials: resman.credentials,
      });
    });
    afterAll(async () => {
      await resman?.close();
    });

    const resmanSyncs = async (leadId: string) =>
      (
        await harness.pool.query<{ status: string }>(
          `SELECT status FROM partner_syncs WHERE lead_id = $1 AND partner = 'resman' ORDER BY created_at`,
          [leadId],
        )
      ).rows.map((row) => row.status);

    test('a lead labelled resman and a change whose updated_by names ResMan are recorded so and still pushed to ResMan; ResMan’s signed webhook is not echoed back', async () => {
      const prospect = resman.seedProspect({ type: 'prospect', email: email() });
      // The caller labels the lead as ResMan's: recorded as its source, but ResMan still gets the new lead.
      const created = await call(api('/leads'), 'POST', resmanKey, {
        source: 'resman',
        email: prospect.email,
        external_ids: { resman: prospect.prospectId },
      });
      expect(created.status).toBe(201);
      const leadId = created.body.id;
      await journeyWhere(
        harness,
        resmanWorkspace,
        leadId,
        (s) => s.counters.events > 0,
        'its inquiry applied',
      );
      expect((await call(api(`/leads/${leadId}`), 'GET', resmanKey)).body.source).toBe('resman');
      await waitFor('the new lead pushed to ResMan', async () =>
        (await resmanSyncs(leadId)).includes('new') ? true : undefined,
      );

      const changed = await call(api(`/leads/${leadId}/status`), 'PUT', resmanKey, {
        new_status: 'contacted',
        updated_by: 'resman_user',
      });
      expect(changed.status).toBe(200);
      const history = await call(api(`/leads/${leadId}/status-history`), 'GET', resmanKey);
      expect(history.body.status_changes.at(-1)).toMatchObject({
        new_status: 'contacted',
        updated_by: 'partner:resman',
      });
      // The request's word proves nothing: ResMan gets the change like any other.
      await waitFor('the contacted push to ResMan', async () =>
        (await resmanSyncs(leadId)).includes('contacted') ? true : undefined,
      );

      // ResMan itself (its signature verified) reports qualified: applied, and not pushed back to ResMan.
      const reported = await postStandard(integration, {
        lead_id: prospect.prospectId,
        new_status: 'qualified',
        updated_by: 'leasing agent',
        updated_at: new Date().toISOString(),
      });
      expect(reported.status).toBeLessThan(300);
      await journeyWhere(harness, resmanWorkspace, leadId, (s) => s.status === 'qualified', 'qualified');
      expect(await resmanSyncs(leadId)).not.toContain('qualified');
      const after = await call(api(`/leads/${leadId}/status-history`), 'GET', resmanKey);
      expect(after.body.status_changes.at(-1)).toMatchObject({
        new_status: 'qualified',
        updated_by: 'partner:resman',
      });
    });
  });

  test('409 invalid_transition lists the allowed statuses and leaves only a refused record', async () => {
    const lead = await createLead();
    await journeyReady(lead.id);
    const answer = await call(api(`/leads/${lead.id}/status`), 'PUT', key, { new_status: 'toured' });
    expect(answer.status).toBe(409);
    expect(answer.body.error).toMatchObject({
      code: 'invalid_transition',
      details: { from: 'new', to: 'toured', allowed: ['contacted', 'qualified', 'tour_scheduled', 'lost'] },
    });
    const applied = await call(api(`/leads/${lead.id}/status-history`), 'GET', key);
    expect(applied.body.status_changes.map((c: { new_status: string }) => c.new_status)).toEqual(['new']);
    const all = await call(api(`/leads/${lead.id}/status-history?types=applied,refused`), 'GET', key);
    expect(all.body.status_changes.map((c: { entry_type: string }) => c.entry_type)).toEqual([
      'applied',
      'refused',
    ]);
  });

  test('422 missing_fields names what the status needs; the vertical decides the won status', async () => {
    const lead = await createLead({ property_id: 'maple' });
    await journeyReady(lead.id);
    const missing = await call(api(`/leads/${lead.id}/status`), 'PUT', key, { new_status: 'tour_scheduled' });
    expect(missing.status).toBe(422);
    expect(missing.body.error).toMatchObject({ code: 'missing_fields', details: { missing: ['tour_at'] } });
    const booked = await call(api(`/leads/${lead.id}/status`), 'PUT', key, {
      new_status: 'tour_scheduled',
      tour_at: '2026-12-01T16:00:00Z',
    });
    expect(booked.status).toBe(200);
    const leased = await call(api(`/leads/${lead.id}/status`), 'PUT', key, { new_status: 'leased' });
    expect(leased.status).toBe(409);
    expect(leased.body.error.code).toBe('status_not_available');
    const placed = await call(api(`/leads/${lead.id}/status`), 'PUT', key, { new_status: 'placed' });
    expect(placed.body.new_status).toBe('placed');
    const after = await call(api(`/leads/${lead.id}/status`), 'PUT', key, { new_status: 'contacted' });
    expect(after.status).toBe(409);
    expect(after.body.error.details.allowed).toEqual([]);
  });

  test('the same Idempotency-Key applies a change once', async () => {
    const lead = await createLead();
    await journeyReady(lead.id);
    const headers = { 'Idempotency-Key': randomUUID() };
    const first = await call(
      api(`/leads/${lead.id}/status`),
      'PUT',
      key,
      { new_status: 'contacted' },
      headers,
    );
    const again = await call(
      api(`/leads/${lead.id}/status`),
      'PUT',
      key,
      { new_status: 'contacted' },
      headers,
    );
    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    const history = await call(api(`/leads/${lead.id}/status-history`), 'GET', key);
    expect(history.body.total_count).toBe(2);
  });

  test('50 concurrent status changes on one lead end in a history that matches the final state', async () => {
    const lead = await createLead({ phone: '+13035550123' });
    await journeyReady(lead.id);
    const targets = ['contacted', 'qualified', 'tour_scheduled', 'lost', 'application', 'toured'];
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        call(api(`/leads/${lead.id}/status`), 'PUT', key, {
          new_status: targets[i % targets.length],
          tour_at: '2026-12-02T16:00:00Z',
          status_reason: `change ${i}`,
        }),
      ),
    );
    for (const answer of answers) expect([200, 409]).toContain(answer.status);
    const final = await call(api(`/leads/${lead.id}`), 'GET', key);
    const history = await call(api(`/leads/${lead.id}/status-history?limit=1000`), 'GET', key);
    const applied = history.body.status_changes as { old_status: string | null; new_status: string }[];
    // Every applied row starts where the previous one ended, and the last one is the lead's status.
    for (let i = 1; i < applied.length; i++) expect(applied[i]!.old_status).toBe(applied[i - 1]!.new_status);
    expect(applied[applied.length - 1]!.new_status).toBe(final.body.status);
    const projection = await harness.pool.query('SELECT status FROM leads WHERE id = $1', [lead.id]);
    expect(projection.rows[0].status).toBe(final.body.status);
    // Every applied row was answered 200 with its status; no refused change left an applied row.
    const reasons = new Map(
      (history.body.status_changes as { status_reason?: string; new_status: string }[]).map((row) => [
        row.status_reason,
        row.new_status,
      ]),
    );
    answers.forEach((answer, i) => {
      if (answer.status === 409) expect(reasons.has(`change ${i}`)).toBe(false);
    });
    for (const [reason, status] of reasons) {
      if (reason === 'inquiry') continue;
      const answer = answers[Number(reason?.replace('change ', ''))]!;
      expect(answer.status).toBe(200);
      expect(answer.body.new_status).toBe(status);
    }
    expect(applied.length).toBeGreaterThan(1);
  });

  test('status history honours date range and limit and reports total_count', async () => {
    const lead = await createLead({ phone: '+13035550124' });
    await journeyReady(lead.id);
    for (const status of ['contacted', 'qualified']) {
      expect((await call(api(`/leads/${lead.id}/status`), 'PUT', key, { new_status: status })).status).toBe(
        200,
      );
    }
    const limited = await call(api(`/leads/${lead.id}/status-history?limit=2`), 'GET', key);
    expect(limited.body.status_changes).toHaveLength(2);
    expect(limited.body.total_count).toBe(3);
    const none = await call(api(`/leads/${lead.id}/status-history?date_to=2000-01-01`), 'GET', key);
    expect(none.body).toEqual({ status_changes: [], total_count: 0 });
    const bad = await call(api(`/leads/${lead.id}/status-history?limit=0&date_from=yesterday`), 'GET', key);
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.fields.map((f: { field: string }) => f.field).sort()).toEqual([
      'date_from',
      'limit',
    ]);
  });
});

test('recording a decision twice (a retried activity) writes each row once', async () => {
  const lead = await createLead();
  await journeyReady(lead.id);
  const input = {
    workspaceId,
    leadId: lead.id,
    journey: 1,
    effects: [
      {
        kind: 'record_history' as const,
        key: `test:${randomUUID()}`,
        entry: {
          type: 'applied' as const,
          seq: 2,
          eventId: 'retry-1',
          oldStatus: 'new' as const,
          newStatus: 'contacted' as const,
          source: 'staff' as const,
          direction: 'inbound' as const,
          at: new Date().toISOString(),
        },
      },
      { kind: 'alert_staff' as const, key: `test:${randomUUID()}`, reason: 'retry_check', details: {} },
    ],
    projection: {
      status: 'contacted' as const,
      statusChangedAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
      source: 'website',
      sources: ['website'],
      seq: 2,
    },
  };
  await recordJourneyChange(harness.pool, input);
  await recordJourneyChange(harness.pool, input);
  const rows = await harness.pool.query(
    'SELECT count(*)::int AS n FROM status_history WHERE event_id = $1 AND lead_id = $2',
    ['retry-1', lead.id],
  );
  expect(rows.rows[0].n).toBe(1);
  const tasks = await harness.pool.query(
    "SELECT count(*)::int AS n FROM staff_tasks WHERE lead_id = $1 AND kind = 'retry_check'",
    [lead.id],
  );
  expect(tasks.rows[0].n).toBe(1);
});

test('a partner id matching one lead while the email belongs to another keeps both leads intact', async () => {
  const partnerId = `R-${randomUUID()}`;
  const byPartner = await createLead({
    email: undefined,
    phone: '+13035550140',
    external_ids: { apfm: partnerId },
  });
  const address = email();
  const byEmail = await createLead({ email: address });
  const again = await call(api('/leads'), 'POST', key, {
    source: 'apfm',
    email: address,
    external_ids: { apfm: partnerId },
  });
  expect(again).toMatchObject({ status: 200, body: { id: byPartner.id, matched: true } });
  const rows = await harness.pool.query(
    'SELECT id, email_normalized FROM leads WHERE id = ANY($1) ORDER BY created_at',
    [[byPartner.id, byEmail.id]],
  );
  expect(rows.rows).toEqual([
    { id: byPartner.id, email_normalized: null },
    { id: byEmail.id, email_normalized: address },
  ]);
});
