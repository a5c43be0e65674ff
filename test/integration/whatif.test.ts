// What-if replay on the real stack: leads built through the real doors (API, a Calendly webhook, a conversion,
// a speed-to-lead deadline firing on its own timer) with HubSpot connected; the replay of their record with
// today's reducer reproduces it, a candidate's differences are exactly the ones expected, and nothing is sent
// or written.
import { createHmac } from 'node:crypto';
import { startHubSpotSandbox, type HubSpotSandbox } from '../../infra/sandbox/hubspot';
import type { WhatIfBodyInput } from '../../services/api/routes/whatif';
import { runWhatIfCli } from '../../scripts/whatif';
import type { WhatIfDeps, WhatIfReport } from '../../usecases/whatif';
import { ADMIN_TOKEN, call, registerWorkspace, startHarness, type Harness } from '../support/harness';
import {
  createIntegration,
  fixture,
  journeyWhere,
  post,
  uniqueEmail,
  waitFor,
  type CreatedIntegration,
} from '../support/ingest';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let harness: Harness;
let hubspot: HubSpotSandbox;
let deps: WhatIfDeps;
/** The main workspace (HubSpot and Calendly connected) and one with a speed-to-lead of 1.2 seconds. */
const main = { id: '', key: '' };
const fast = { id: '', key: '' };
let calendly: CreatedIntegration;
/** Leads with known histories, by name. */
const leads = { toured: '', returned: '', escalated: '' };
let startedAt: string;

const api = (path: string) => `${harness.apiUrl}/api/v1${path}`;

async function ok(status: number, answer: Promise<{ status: number; body: any }>) {
  const { status: got, body } = await answer;
  if (got !== status) throw new Error(`expected ${status}, got ${got}: ${JSON.stringify(body)}`);
  return body;
}

async function createLead(workspace: { key: string }, email: string): Promise<string> {
  const body = await ok(
    201,
    call(api('/leads'), 'POST', workspace.key, { source: 'website', property_id: 'maple', email }),
  );
  return body.id as string;
}

function changeStatus(workspace: { key: string }, leadId: string, to: string, requestId: string) {
  return ok(
    200,
    call(
      api(`/leads/${leadId}/status`),
      'PUT',
      workspace.key,
      { new_status: to },
      { 'Idempotency-Key': requestId },
    ),
  );
}

/** Waits until the journey decided `lastEventId` and has nothing recording, sending or pushing. */
function settled(workspaceId: string, leadId: string, what: (s: any) => boolean) {
  return journeyWhere(
    harness,
    workspaceId,
    leadId,
    (s) => what(s) && (s.pendingDeliveries ?? 0) === 0 && (s.pendingPushes ?? 0) === 0,
  );
}

async function postCalendly(payload: unknown) {
  const body = JSON.stringify(payload);
  const t = Math.floor(Date.now() / 1000);
  const v1 = createHmac('sha256', calendly.webhook_secret!).update(`${t}.${body}`).digest('hex');
  return post(calendly.webhook_url, body, {
    'content-type': 'application/json',
    'calendly-webhook-signature': `t=${t},v1=${v1}`,
  });
}

const TABLES = [
  'leads',
  'status_history',
  'notifications',
  'notification_deliveries',
  'partner_syncs',
  'staff_tasks',
  'outbox_events',
  'referral_fees',
  'inbox_events',
  'conversions',
];

/** Row counts and the newest write of every table the journey writes: a what-if must move none. */
async function footprint(): Promise<Record<string, string>> {
  const counts: Record<string, string> = {};
  for (const table of TABLES) {
    const { rows } = await harness.pool.query(`SELECT count(*)::text AS n FROM ${table}`);
    counts[table] = rows[0].n;
  }
  return counts;
}

beforeAll(async () => {
  [harness, hubspot] = await Promise.all([startHarness(), startHubSpotSandbox()]);
  startedAt = new Date(Date.now() - 1000).toISOString();
  deps = { pool: harness.pool, channels: { configured: new Set() } };
  for (const workspace of [main, fast]) {
    ({ workspaceId: workspace.id, apiKey: workspace.key } = await registerWorkspace(harness.apiUrl));
    await ok(
      201,
      call(api('/properties'), 'POST', workspace.key, {
        property_id: 'maple',
        name: 'Maple Commons',
        timezone: 'America/Denver',
        vertical: 'multifamily',
      }),
    );
  }
  // No API sets a workspace's follow-up timings yet: the operator's way is the column itself.
  await harness.pool.query(
    `UPDATE workspaces SET follow_up_policy = '{"speedToLeadMinutes": 0.02}' WHERE id = $1`,
    [fast.id],
  );
  await createIntegration(harness, main.key, {
    partner: 'hubspot',
    config: { base_url: hubspot.url, portal_id: 62515 },
    credentials: { access_token: hubspot.accessToken, client_secret: 'hubspot-app-secret-whatif' },
  });
  calendly = await createIntegration(harness, main.key, { partner: 'calendly', property_id: 'maple' });
  // Staff hear of tours in the app (in-app needs no channel; the harness's worker has none).
  await ok(
    201,
    call(api('/notification-preferences'), 'POST', main.key, {
      property_id: null,
      status_type: 'toured',
      notification_method: 'in_app',
      recipients: ['agent-1'],
    }),
  );

  // Toured: contacted by staff, a tour booked in Calendly for three days on, toured, a conversion logged.
  const touredEmail = uniqueEmail('toured');
  leads.toured = await createLead(main, touredEmail);
  await changeStatus(main, leads.toured, 'contacted', `contact-${leads.toured}`);
  const start = new Date(Date.now() + 3 * DAY);
  const booked = await postCalendly(
    fixture('calendly', 'invitee-created.json', {
      'payload.email': touredEmail,
      'payload.uri': `https://api.calendly.com/scheduled_events/EV${leads.toured}/invitees/IN1`,
      'payload.scheduled_event.start_time': start.toISOString(),
      'payload.scheduled_event.end_time': new Date(start.getTime() + HOUR / 2).toISOString(),
    }),
  );
  expect(booked.status).toBe(200);
  await settled(main.id, leads.toured, (s) => s.status === 'tour_scheduled');
  await changeStatus(main, leads.toured, 'toured', `toured-${leads.toured}`);
  await ok(
    201,
    call(api('/conversions'), 'POST', main.key, { contact_id: leads.toured, conversion_type: 'tour' }),
  );
  await settled(main.id, leads.toured, (s) => s.counters.conversions === 1);

  // Returned: lost, then a new inquiry opens its second journey.
  const returnedEmail = uniqueEmail('returned');
  leads.returned = await createLead(main, returnedEmail);
  await changeStatus(main, leads.returned, 'lost', `lost-${leads.returned}`);
  await ok(
    200,
    call(api('/leads'), 'POST', main.key, { source: 'website', property_id: 'maple', email: returnedEmail }),
  );
  await settled(main.id, leads.returned, (s) => s.journey === 2);

  // Escalated: nobody called within its 1.2-second speed-to-lead; contacted after the escalation.
  leads.escalated = await createLead(fast, uniqueEmail('escalated'));
  await waitFor('the speed-to-lead escalation', async () => {
    const { rows } = await harness.pool.query(
      "SELECT 1 FROM staff_tasks WHERE lead_id = $1 AND kind = 'speed_to_lead_missed'",
      [leads.escalated],
    );
    return rows[0];
  });
  await changeStatus(fast, leads.escalated, 'contacted', `contact-${leads.escalated}`);
  await settled(fast.id, leads.escalated, (s) => s.status === 'contacted');
});
afterAll(async () => {
  await harness?.stop();
  await hubspot?.close();
});

const tourRule = {
  property_id: null,
  trigger_status: 'toured' as const,
  conditions: {},
  actions: [
    { type: 'send_notification' as const, config: { channel: 'in_app', recipients: ['manager-1'] } },
    { type: 'create_task' as const, config: { kind: 'send_brochure' } },
  ],
};

/** POST /api/v1/admin/whatif as `caller`: a workspace's admin key, or the operator's token. */
function askWhatIf(caller: string, body: WhatIfBodyInput) {
  return call(api('/admin/whatif'), 'POST', caller, body);
}

function whatIf(workspace: { key: string }, body: WhatIfBodyInput): Promise<WhatIfReport> {
  return ok(200, askWhatIf(workspace.key, body));
}

test('the record of every lead replays to itself: baseline and record agree, and the inputs are all recorded', async () => {
  const report = await whatIf(main, { from_date: startedAt, candidate: { reducer: 'current' } });
  expect(report.leads.map((lead) => lead.lead_id)).toEqual([leads.toured, leads.returned]);
  for (const lead of report.leads) {
    expect(lead).toMatchObject({ changed: false, differences: {}, inputs: { complete: true, gaps: [] } });
  }
  // Baseline against the record, candidate by candidate.
  const checked = await whatIf(main, { from_date: startedAt, candidate: { follow_up_policy: {} } });
  expect(checked.leads.map((lead) => [lead.baseline_matches_recorded, lead.recorded_mismatches])).toEqual([
    [true, undefined],
    [true, undefined],
  ]);
  expect(checked.leads[0]!.inputs.events).toBe(6);
  expect(checked.leads[1]!).toMatchObject({ final_status: { baseline: 'new' }, inputs: { events: 3 } });
});

test('a rule on toured would tell the manager in the app and open a task, for the toured lead only; nothing is sent or written', async () => {
  const before = await footprint();
  const requests = hubspot.requests.items.length;
  const report = await whatIf(main, { from_date: startedAt, candidate: { workflow_rule: tourRule } });
  const cause = `toured-${leads.toured}`;
  expect(report.candidate).toEqual(['workflow_rule']);
  expect(report.leads.find((lead) => lead.lead_id === leads.toured)!.differences).toEqual({
    notifications: {
      added: [
        {
          journey: 1,
          cause,
          audience: 'staff',
          template: 'status_changed',
          channel: 'in_app',
          recipient: 'manager-1',
        },
      ],
      removed: [],
    },
    tasks: { added: [{ journey: 1, cause, kind: 'task:send_brochure' }], removed: [] },
  });
  expect(report.leads.find((lead) => lead.lead_id === leads.returned)!.changed).toBe(false);
  expect(report.totals).toMatchObject({
    leads: 2,
    leads_changed: 1,
    baseline_matches_recorded: 2,
    baseline_differs_from_recorded: 0,
    inputs_incomplete: 0,
    final_status: { changed: 0, baseline: { toured: 1, new: 1 }, candidate: { toured: 1, new: 1 } },
    notifications: {
      added: 1,
      removed: 0,
      by_recipient: [{ channel: 'in_app', recipient: 'manager-1', added: 1, removed: 0 }],
    },
    tasks: { added: 1, removed: 0 },
    pushes: { added: 0, removed: 0 },
  });
  expect(report.next_cursor).toBeNull();
  expect(await footprint()).toEqual(before);
  expect(hubspot.requests.items.length).toBe(requests);
});

test('a preference for contacted would send the staff notice that reached nobody to the agent in the app instead', async () => {
  const report = await whatIf(main, {
    from_date: startedAt,
    candidate: {
      notification_preference: {
        property_id: 'maple',
        status_type: 'contacted',
        notification_method: 'in_app',
        recipients: ['agent-2'],
      },
    },
  });
  expect(report.candidate).toEqual(['notification_preference']);
  const notice = {
    journey: 1,
    cause: `contact-${leads.toured}`,
    audience: 'staff',
    template: 'new_to_contacted',
  };
  expect(report.leads.map((lead) => [lead.lead_id, lead.differences])).toEqual([
    [
      leads.toured,
      {
        notifications: {
          added: [{ ...notice, channel: 'in_app', recipient: 'agent-2' }],
          removed: [{ ...notice, channel: null, recipient: null }],
        },
      },
    ],
    [leads.returned, {}],
  ]);
  expect(report.totals.notifications.by_recipient).toEqual([
    { channel: 'in_app', recipient: 'agent-2', added: 1, removed: 0 },
    { channel: null, recipient: null, added: 0, removed: 1 },
  ]);
});

test('a slower speed-to-lead would never have escalated the lead contacted after 1.2 seconds', async () => {
  const { rows } = await harness.pool.query(
    'SELECT created_at FROM status_history WHERE lead_id = $1 AND old_status IS NULL',
    [leads.escalated],
  );
  const escalatedAt = new Date((rows[0].created_at as Date).getTime() + 1200).toISOString();
  const report = await whatIf(fast, {
    lead_ids: [leads.escalated],
    candidate: { follow_up_policy: { speed_to_lead_minutes: 30 } },
  });
  const [lead] = report.leads;
  expect(lead!.baseline_matches_recorded).toBe(true);
  expect(lead!.differences).toEqual({
    follow_ups: {
      added: [],
      removed: [{ journey: 1, name: 'speed_to_lead', fire_at: escalatedAt, fired: true }],
      moved: [],
    },
    notifications: {
      added: [],
      removed: [
        {
          journey: 1,
          cause: 'deadline:speed_to_lead',
          audience: 'staff',
          template: 'speed_to_lead_escalation',
          channel: null,
          recipient: null,
        },
      ],
    },
    tasks: {
      added: [],
      removed: [{ journey: 1, cause: 'deadline:speed_to_lead', kind: 'speed_to_lead_missed' }],
    },
  });
});

test('a workspace key sees only its own leads, the admin token any workspace, and past the cap the request is refused with a clear 400', async () => {
  const elsewhere = await askWhatIf(main.key, {
    lead_ids: [leads.escalated],
    candidate: { reducer: 'current' },
  });
  expect(elsewhere).toMatchObject({
    status: 404,
    body: { error: { code: 'not_found', details: { missing: [leads.escalated] } } },
  });
  const named = await askWhatIf(main.key, {
    filter: { workspace_id: fast.id },
    candidate: { reducer: 'current' },
  });
  expect(named).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
  const operator: WhatIfReport = await ok(
    200,
    askWhatIf(ADMIN_TOKEN, { filter: { workspace_id: fast.id }, candidate: { reducer: 'current' } }),
  );
  expect(operator.leads.map((lead) => lead.lead_id)).toEqual([leads.escalated]);
  const tooMany = Array.from(
    { length: 1001 },
    (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
  );
  const refused = await askWhatIf(main.key, { lead_ids: tooMany, candidate: { reducer: 'current' } });
  expect(refused).toMatchObject({
    status: 400,
    body: {
      error: {
        code: 'validation_failed',
        details: {
          fields: [
            { field: 'lead_ids', message: 'at most 1000 leads per request; use filter and cursor for more' },
          ],
        },
      },
    },
  });
  const noCandidate = await askWhatIf(main.key, { lead_ids: [leads.toured], candidate: {} });
  expect(noCandidate).toMatchObject({
    status: 400,
    body: { error: { details: { fields: [{ field: 'candidate' }] } } },
  });
});

test('pages of one lead follow each other with the cursor until none is left', async () => {
  const first = await whatIf(main, { from_date: startedAt, limit: 1, candidate: { reducer: 'current' } });
  expect(first.leads.map((lead) => lead.lead_id)).toEqual([leads.toured]);
  const second = await whatIf(main, {
    from_date: startedAt,
    limit: 1,
    cursor: first.next_cursor!,
    candidate: { reducer: 'current' },
  });
  expect(second.leads.map((lead) => lead.lead_id)).toEqual([leads.returned]);
  expect(second.next_cursor).toBeNull();
});

test('npm run whatif pages through every lead and prints what would differ, and the totals', async () => {
  const lines: string[] = [];
  const args = [
    '--workspace',
    main.id,
    '--from',
    startedAt,
    '--rule',
    JSON.stringify(tourRule),
    '--limit',
    '1',
  ];
  const { totals } = await runWhatIfCli([...args, '--all'], deps, (line) => lines.push(line));
  expect(totals).toMatchObject({
    leads: 2,
    leads_changed: 1,
    notifications: { added: 1 },
    tasks: { added: 1 },
  });
  expect(lines).toEqual([
    expect.stringMatching(/^what-if of workflow_rule as of /),
    `lead ${leads.toured} (${main.id}/maple)`,
    `  + notification status_changed to manager-1 by in_app (after toured-${leads.toured})`,
    '  + task task:send_brochure',
    '2 lead(s): 1 would change; the baseline matches the record for 2, differs for 0; 0 with inputs not all recorded',
    'final status changed: 0; follow-ups +0 -0 ~0; notifications +1 -0; pushes +0 -0; tasks +1 -0; fees +0 -0 ~0',
  ]);
  const json: string[] = [];
  await runWhatIfCli([...args, '--json'], deps, (line) => json.push(line));
  expect(json.map((line) => Object.keys(JSON.parse(line)))).toEqual([
    expect.arrayContaining(['lead_id', 'differences']),
    ['totals'],
  ]);
  await expect(
    runWhatIfCli(['--rule', '{"trigger_status":"toured"}'], deps, () => undefined),
  ).rejects.toThrow(/workflow_rule\.property_id/);
});
