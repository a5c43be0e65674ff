// A workspace never sees another's data: a key of workspace B (with every permission) gets 404 for every
// resource of workspace A, one test per route with a resource in its path, driven by /openapi.json so a
// new route without a case here fails; lists and analytics of B leave A's rows out.
import { randomUUID } from 'node:crypto';
import { call, registerWorkspace, startHarness, type Harness } from '../support/harness';

let harness: Harness;
const A: Record<string, string> = {};
let aKey: string;
let bKey: string;
let routes: [string, string][];

beforeAll(async () => {
  harness = await startHarness();
  const a = await registerWorkspace(harness.apiUrl);
  aKey = a.apiKey;
  A.workspace = a.workspaceId;
  bKey = (await registerWorkspace(harness.apiUrl)).apiKey;
  const api = (path: string) => `${harness.apiUrl}/api/v1${path}`;
  const property = await call(api('/properties'), 'POST', aKey, {
    property_id: 'shared-name',
    name: 'A property',
    timezone: 'America/Chicago',
    vertical: 'multifamily',
  });
  A.property = property.body.property_id;
  const lead = await call(api('/leads'), 'POST', aKey, {
    source: 'website',
    email: `${randomUUID()}@example.com`,
  });
  A.lead = lead.body.id;
  const conversion = await call(api('/conversions'), 'POST', aKey, {
    contact_id: A.lead,
    conversion_type: 'sale',
  });
  expect(conversion.status).toBe(201);
  A.conversion = conversion.body.id;
  const integration = await call(api('/integrations'), 'POST', aKey, {
    partner: 'webform',
    name: 'Site form',
  });
  expect(integration.status).toBe(201);
  A.integration = integration.body.id;
  const inbox = await harness.pool.query(
    `INSERT INTO inbox_events (workspace_id, integration_id, partner, partner_event_id, event_type, status, raw_body, normalized)
     VALUES ($1, $2, 'webform', $3, 'test', 'ignored', '\\x7b7d', '{"events": []}') RETURNING id`,
    [A.workspace, A.integration, randomUUID()],
  );
  A.inbox = inbox.rows[0].id;
  expect(
    (await call(api('/referral-fee-terms/apfm'), 'PUT', aKey, { fee_type: 'flat', amount: 900 })).status,
  ).toBe(200);
  const fee = await harness.pool.query(
    `INSERT INTO referral_fees (workspace_id, lead_id, journey, partner, won_status, won_at, terms_source, amount)
     VALUES ($1, $2, 1, 'apfm', 'leased', now(), 'terms', 900) RETURNING id`,
    [A.workspace, A.lead],
  );
  A.fee = fee.rows[0].id;
  const notification = await harness.pool.query(
    `INSERT INTO notification_deliveries (idempotency_key, notification_key, workspace_id, lead_id, channel, audience,
                                          recipient, template, subject, body, priority, status, error)
     VALUES ($1, $1, $2, $3, 'slack', 'staff', 'default', 'status_changed', 'Lead contacted', 'Lead contacted',
             'normal', 'failed', 'channel_is_archived') RETURNING id`,
    [randomUUID(), A.workspace, A.lead],
  );
  A.notification = notification.rows[0].id;
  const endpoint = await call(api('/webhook-endpoints'), 'POST', aKey, {
    name: 'A receiver',
    url: 'http://127.0.0.1:9/hook',
    events: ['lead.created'],
  });
  expect(endpoint.status).toBe(201);
  A.endpoint = endpoint.body.id;
  const preference = await call(api('/notification-preferences'), 'POST', aKey, {
    property_id: null,
    status_type: 'contacted',
    notification_method: 'email',
    recipients: ['manager@example.com'],
  });
  expect(preference.status).toBe(201);
  A.preference = preference.body.id;
  const rule = await call(api('/workflow-rules'), 'POST', aKey, {
    property_id: null,
    trigger_status: 'contacted',
    actions: [{ type: 'update_lead_score', config: { delta: 5 } }],
  });
  expect(rule.status).toBe(201);
  A.rule = rule.body.id;
  const template = await call(api('/message-templates'), 'POST', aKey, {
    id: 'a-welcome',
    name: 'Welcome',
    channel: 'email',
    subject: 'Welcome',
    body: 'Hello {first_name}',
  });
  expect(template.status).toBe(201);
  A.template = template.body.id;
  const sequence = await call(api('/sequences'), 'POST', aKey, {
    name: 'A nurture',
    trigger: { event: 'no_show' },
    steps: [{ wait: '1d', channel: 'email', template_id: 'a-welcome' }],
  });
  expect(sequence.status).toBe(201);
  A.sequence = sequence.body.id;

  const spec = (await call(`${harness.apiUrl}/openapi.json`, 'GET', undefined)).body;
  routes = Object.entries(spec.paths).flatMap(([path, methods]: [string, any]) =>
    Object.entries(methods)
      .filter(([, op]: [string, any]) => path.includes('{') && op.security.length > 0)
      .map(([method]) => [method, path] as [string, string]),
  );
});
afterAll(async () => {
  // A's endpoint would otherwise take events fanned out by a later file's dispatcher.
  await harness?.pool.query('UPDATE webhook_endpoints SET deleted_at = now() WHERE id = $1', [A.endpoint]);
  await harness?.stop();
});

/** For each route with a resource in its path: workspace A's resource and a body that would be valid. */
const CASES: Record<string, { id: () => string; body?: () => unknown }> = {
  'get /api/v1/workspaces/{id}': { id: () => A.workspace! },
  'get /api/v1/workspaces/{id}/activity': { id: () => A.workspace! },
  'get /api/v1/properties/{id}': { id: () => A.property! },
  'get /api/v1/leads/{id}': { id: () => A.lead! },
  'put /api/v1/leads/{id}/status': { id: () => A.lead!, body: () => ({ new_status: 'contacted' }) },
  'get /api/v1/leads/{id}/status-history': { id: () => A.lead! },
  'get /api/v1/leads/{id}/syncs': { id: () => A.lead! },
  // {syncId} stays unfilled: the lead is refused first.
  'post /api/v1/leads/{id}/syncs/{syncId}/repush': { id: () => A.lead! },
  'get /api/v1/integrations/{id}': { id: () => A.integration! },
  'delete /api/v1/integrations/{id}': { id: () => A.integration! },
  'patch /api/v1/integrations/{id}': { id: () => A.integration!, body: () => ({ status: 'paused' }) },
  'post /api/v1/integrations/{id}/test': { id: () => A.integration! },
  'post /api/v1/integrations/{id}/sync': { id: () => A.integration! },
  'get /api/v1/inbox/{id}': { id: () => A.inbox! },
  'post /api/v1/inbox/{id}/replay': { id: () => A.inbox! },
  'get /api/v1/conversions/{id}': { id: () => A.conversion! },
  'get /api/v1/contacts/{id}/conversion': { id: () => A.lead! },
  'patch /api/v1/contacts/{id}/conversion': {
    id: () => A.lead!,
    body: () => ({ conversion_status: 'lost' }),
  },
  'get /api/v1/referral-fees/{id}': { id: () => A.fee! },
  'patch /api/v1/referral-fees/{id}': { id: () => A.fee!, body: () => ({ status: 'reported' }) },
  'delete /api/v1/referral-fee-terms/{partner}': { id: () => 'apfm' },
  'patch /api/v1/notification-preferences/{id}': {
    id: () => A.preference!,
    body: () => ({ is_active: false }),
  },
  'delete /api/v1/notification-preferences/{id}': { id: () => A.preference! },
  'get /api/v1/properties/{id}/workflow-rules': { id: () => A.property! },
  'patch /api/v1/workflow-rules/{id}': { id: () => A.rule!, body: () => ({ is_active: false }) },
  'delete /api/v1/workflow-rules/{id}': { id: () => A.rule! },
  'get /api/v1/webhook-endpoints/{id}': { id: () => A.endpoint! },
  'patch /api/v1/webhook-endpoints/{id}': { id: () => A.endpoint!, body: () => ({ enabled: false }) },
  'delete /api/v1/webhook-endpoints/{id}': { id: () => A.endpoint! },
  'post /api/v1/webhook-endpoints/{id}/rotate-secret': { id: () => A.endpoint!, body: () => ({}) },
  'post /api/v1/webhook-endpoints/{id}/test': { id: () => A.endpoint! },
  'get /api/v1/webhook-endpoints/{id}/deliveries': { id: () => A.endpoint! },
  'post /api/v1/notifications/{id}/resend': { id: () => A.notification! },
  'get /api/v1/workspaces/{id}/settings': { id: () => A.workspace! },
  'patch /api/v1/workspaces/{id}/settings': {
    id: () => A.workspace!,
    body: () => ({ email_tracking: false }),
  },
  'get /api/v1/sequences/{id}': { id: () => A.sequence! },
  'patch /api/v1/sequences/{id}': { id: () => A.sequence!, body: () => ({ is_active: false }) },
  'delete /api/v1/sequences/{id}': { id: () => A.sequence! },
  'get /api/v1/sequences/{id}/analytics': { id: () => A.sequence! },
  'get /api/v1/leads/{id}/sequences': { id: () => A.lead! },
  // {enrolmentId} is any UUID: the lead is refused first.
  'post /api/v1/leads/{id}/sequences/{enrolmentId}/stop': { id: () => A.lead! },
  'get /api/v1/message-templates/{id}': { id: () => A.template! },
  'patch /api/v1/message-templates/{id}': { id: () => A.template!, body: () => ({ name: 'B was here' }) },
  'delete /api/v1/message-templates/{id}': { id: () => A.template! },
  'get /api/v1/properties/{id}/tour-slots': { id: () => A.property! },
  'get /api/v1/properties/{id}/tour-settings': { id: () => A.property! },
  'patch /api/v1/properties/{id}/tour-settings': {
    id: () => A.property!,
    body: () => ({ tour_capacity: 9 }),
  },
  'get /api/v1/properties/{id}/tours': { id: () => A.property! },
  'get /api/v1/leads/{id}/tour': { id: () => A.lead! },
  'post /api/v1/leads/{id}/tour': { id: () => A.lead!, body: () => ({ start: '2030-05-06T14:00:00Z' }) },
  'delete /api/v1/leads/{id}/tour': { id: () => A.lead! },
};

// Routes whose path names a workspace only through the admin token are not workspace-key routes, and
// routes that name the caller's own settings (B's PUT writes B's terms) are checked below.
const ADMIN_TOKEN_ONLY = new Set([
  'patch /api/v1/workspaces/{id}',
  'put /api/v1/referral-fee-terms/{partner}',
  // A template is every workspace's; only its setup status is the caller's (checked below).
  'get /api/v1/integration-templates/{partner}',
]);

test('every route with a resource in its path has an isolation case', () => {
  const missing = routes.map(([m, p]) => `${m} ${p}`).filter((r) => !CASES[r] && !ADMIN_TOKEN_ONLY.has(r));
  expect(missing).toEqual([]);
});

describe.each(Object.entries(CASES))('%s', (route, resource) => {
  test("workspace B's key gets 404 for workspace A's resource, which stays as it was", async () => {
    const [method, path] = route.split(' ') as [string, string];
    const url = `${harness.apiUrl}${path.replace('{id}', encodeURIComponent(resource.id())).replace('{enrolmentId}', randomUUID())}`;
    const answer = await call(url, method.toUpperCase(), bKey, resource.body?.());
    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe('not_found');
    // A still sees it (a DELETE, PUT or PATCH by B changed nothing).
    if (method !== 'get' && !path.startsWith('/api/v1/inbox')) {
      const readBack = path.startsWith('/api/v1/referral-fee-terms')
        ? `${harness.apiUrl}/api/v1/referral-fee-terms`
        : path.startsWith('/api/v1/notification-preferences')
          ? `${harness.apiUrl}/api/v1/notification-preferences`
          : path.startsWith('/api/v1/workflow-rules')
            ? `${harness.apiUrl}/api/v1/properties/${A.property}/workflow-rules`
            : path.includes('/syncs/')
              ? `${harness.apiUrl}/api/v1/leads/${A.lead}/syncs`
              : path.includes('/sequences/{enrolmentId}')
                ? `${harness.apiUrl}/api/v1/leads/${A.lead}/sequences`
                : path.startsWith('/api/v1/notifications')
                  ? `${harness.apiUrl}/api/v1/notifications?status=failed`
                  : url.replace(/\/(status|rotate-secret|test|sync)$/, '');
      const own = await call(readBack, 'GET', aKey);
      expect(own.status).toBe(200);
      if (path.startsWith('/api/v1/referral-fee-terms')) expect(own.body.terms).toHaveLength(1);
      if (path.startsWith('/api/v1/referral-fees')) expect(own.body.status).toBe('pending');
      if (path.startsWith('/api/v1/webhook-endpoints')) expect(own.body.status).toBe('active');
      if (path.startsWith('/api/v1/integrations')) expect(own.body.status).toBe('active');
      if (path.startsWith('/api/v1/sequences')) expect(own.body.is_active).toBe(true);
      if (path.startsWith('/api/v1/message-templates')) expect(own.body.name).toBe('Welcome');
      if (path.endsWith('/settings')) expect(own.body.email_tracking).toBe(true);
      if (path.endsWith('/tour-settings')) expect(own.body.tour_capacity).toBe(1);
      if (path.startsWith('/api/v1/notifications')) {
        expect(own.body.notifications).toEqual([
          expect.objectContaining({ id: A.notification, status: 'failed' }),
        ]);
      }
      if (path.startsWith('/api/v1/workflow-rules')) {
        expect(own.body.workflows).toEqual([expect.objectContaining({ id: A.rule, is_active: true })]);
      }
      if (path.startsWith('/api/v1/notification-preferences')) {
        expect(own.body.preferences).toEqual([
          expect.objectContaining({ id: A.preference, is_active: true }),
        ]);
      }
    }
  });
});

describe('collections', () => {
  const api = (path: string) => `${harness.apiUrl}/api/v1${path}`;

  test('lists of B leave out A’s leads, properties, integrations, conversions and inbox events', async () => {
    const ids = async (path: string, field: string, key = 'id') =>
      ((await call(api(path), 'GET', bKey)).body[field] as any[]).map((row) => row[key]);
    expect(await ids('/leads', 'leads')).not.toContain(A.lead);
    expect(await ids('/properties', 'properties', 'property_id')).not.toContain(A.property);
    expect(await ids('/integrations', 'integrations')).not.toContain(A.integration);
    expect(await ids('/conversions', 'conversions')).not.toContain(A.conversion);
    expect(await ids(`/conversions?contact_id=${A.lead}`, 'conversions')).toEqual([]);
    expect(await ids('/inbox', 'events')).not.toContain(A.inbox);
  });

  test('B’s integration templates show B’s setup, not A’s', async () => {
    const theirs = await call(api('/integration-templates/webform'), 'GET', aKey);
    expect(theirs.body).toMatchObject({ setup_status: 'active', integrations_count: 1 });
    const mine = await call(api('/integration-templates/webform'), 'GET', bKey);
    expect(mine.body).toMatchObject({ setup_status: 'not_configured', integrations_count: 0 });
  });

  test('B may not name A’s workspace in a query or body', async () => {
    expect((await call(api(`/conversions?workspace_id=${A.workspace}`), 'GET', bKey)).status).toBe(404);
    expect((await call(api(`/conversions/analytics?workspace_id=${A.workspace}`), 'GET', bKey)).status).toBe(
      404,
    );
    const post = await call(api('/conversions'), 'POST', bKey, {
      contact_id: A.lead,
      conversion_type: 'sale',
      workspace_id: A.workspace,
    });
    expect(post.status).toBe(404);
  });

  test('B setting its own fee terms leaves A’s terms and fees alone', async () => {
    expect(
      (await call(api('/referral-fee-terms/apfm'), 'PUT', bKey, { fee_type: 'flat', amount: 1 })).status,
    ).toBe(200);
    const theirs = await call(api('/referral-fee-terms'), 'GET', aKey);
    expect(theirs.body.terms).toMatchObject([{ partner: 'apfm', amount: 900 }]);
    const fees = await call(api('/referral-fees'), 'GET', bKey);
    expect(fees.body.referral_fees).toEqual([]);
  });

  test('B cannot log a conversion on A’s contact, and A’s analytics stay A’s', async () => {
    const post = await call(api('/conversions'), 'POST', bKey, {
      contact_id: A.lead,
      conversion_type: 'sale',
    });
    expect(post.status).toBe(404);
    const mine = await call(api('/conversions/analytics'), 'GET', bKey);
    expect(mine.body.summary.total_conversions).toBe(0);
    const theirs = await call(api('/conversions/analytics'), 'GET', aKey);
    expect(theirs.body.summary.total_conversions).toBe(1);
  });
});
