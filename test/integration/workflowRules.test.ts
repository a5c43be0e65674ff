// Workflow rules over HTTP: created with seed 001's CreateWorkflowRequest, listed with
// GetWorkflowsResponse, and run by the journey on the status change that triggers them.
import { randomUUID } from 'node:crypto';
import { call, registerWorkspace, startHarness, type Harness } from '../support/harness';
import { settledJourney } from '../support/ingest';

let harness: Harness;
let key: string;
let otherKey: string;
beforeAll(async () => {
  harness = await startHarness();
  ({ apiKey: key } = await registerWorkspace(harness.apiUrl));
  ({ apiKey: otherKey } = await registerWorkspace(harness.apiUrl));
  await call(`${harness.apiUrl}/api/v1/properties`, 'POST', key, {
    property_id: 'pine',
    name: 'Pine Terrace',
    timezone: 'UTC',
    vertical: 'multifamily',
  });
});
afterAll(async () => {
  await harness?.stop();
});

const api = (path: string) => `${harness.apiUrl}/api/v1${path}`;

test('a rule fires on its trigger status: actions reported, task opened, lead moved to the target status', async () => {
  const created = await call(api('/workflow-rules'), 'POST', key, {
    property_id: 'pine',
    trigger_status: 'contacted',
    target_status: 'qualified',
    conditions: { message_count: 3 },
    actions: [
      { type: 'create_task', config: { kind: 'send_floor_plans' } },
      { type: 'update_lead_score', config: { delta: 20 } },
    ],
  });
  expect(created.status).toBe(201);
  const listed = await call(api('/properties/pine/workflow-rules'), 'GET', key);
  expect(listed.body.workflows).toEqual([
    {
      id: created.body.id,
      property_id: 'pine',
      trigger_status: 'contacted',
      target_status: 'qualified',
      conditions: { message_count: 3 },
      actions: [
        { type: 'create_task', config: { kind: 'send_floor_plans' } },
        { type: 'update_lead_score', config: { delta: 20 } },
      ],
      is_active: true,
    },
  ]);

  const lead = await call(api('/leads'), 'POST', key, {
    source: 'chatbot',
    email: `${randomUUID()}@example.com`,
    property_id: 'pine',
  });
  await settledJourney(
    harness.client,
    lead.body.workflow_id,
    (s) => s.counters.events > 0,
    'its inquiry applied',
  );
  const changed = await call(api(`/leads/${lead.body.id}/status`), 'PUT', key, {
    new_status: 'contacted',
    updated_by: 'chatbot',
    context_data: { message_count: 4, conversation_summary: 'asked about 2-bedroom units' },
  });
  expect(changed.status).toBe(200);
  expect(changed.body).toMatchObject({
    new_status: 'qualified',
    workflow_actions_triggered: ['create_task', 'update_lead_score'],
  });
  const tasks = await harness.pool.query('SELECT kind FROM staff_tasks WHERE lead_id = $1', [lead.body.id]);
  expect(tasks.rows).toEqual([{ kind: 'task:send_floor_plans' }]);
  const history = await call(api(`/leads/${lead.body.id}/status-history`), 'GET', key);
  expect(history.body.status_changes.map((c: { new_status: string }) => c.new_status)).toEqual([
    'new',
    'contacted',
    'qualified',
  ]);
});

test("a send_notification action's channel and recipients are validated as a preference's", async () => {
  const rule = (config: Record<string, unknown>) =>
    call(api('/workflow-rules'), 'POST', key, {
      property_id: 'pine',
      trigger_status: 'toured',
      actions: [
        { type: 'create_task', config: {} },
        { type: 'send_notification', config },
      ],
    });
  const channel = await rule({ channel: 'fax' });
  expect(channel.status).toBe(400);
  expect(channel.body.error.details.fields).toEqual([
    expect.objectContaining({ field: 'actions.1.config.channel' }),
  ]);
  const recipient = await rule({ channel: 'sms', recipients: ['prospect', 'leasing@example.com'] });
  expect(recipient.body.error.details.fields).toEqual([
    { field: 'actions.1.config.recipients.1', message: 'must be an E.164 phone number or "prospect"' },
  ]);
  expect((await rule({ channel: 'email', recipients: ['leasing@example.com'] })).status).toBe(201);
});

test('names bad rule fields; another workspace cannot see or change the rules', async () => {
  const bad = await call(api('/workflow-rules'), 'POST', key, {
    property_id: 'pine',
    trigger_status: 'contacted',
    conditions: { time_of_day: '9am-5pm' },
    actions: [{ type: 'make_coffee', config: {} }],
  });
  expect(bad.status).toBe(400);
  expect(bad.body.error.details.fields.map((f: { field: string }) => f.field).sort()).toEqual([
    'actions.0.type',
    'conditions.time_of_day',
  ]);
  const created = await call(api('/workflow-rules'), 'POST', key, {
    property_id: null,
    trigger_status: 'lost',
    actions: [{ type: 'create_task', config: {} }],
  });
  expect((await call(api('/properties/pine/workflow-rules'), 'GET', otherKey)).status).toBe(404);
  expect(
    (await call(api(`/workflow-rules/${created.body.id}`), 'PATCH', otherKey, { is_active: false })).status,
  ).toBe(404);
  const off = await call(api(`/workflow-rules/${created.body.id}`), 'PATCH', key, { is_active: false });
  expect(off.body.is_active).toBe(false);
  expect((await call(api(`/workflow-rules/${created.body.id}`), 'DELETE', key)).status).toBe(204);
});
