// Notification preferences and the notifications inbox over HTTP.
import { call, registerWorkspace, startHarness, type Harness } from '../support/harness';

let harness: Harness;
let key: string;
let otherKey: string;
beforeAll(async () => {
  harness = await startHarness();
  ({ apiKey: key } = await registerWorkspace(harness.apiUrl));
  ({ apiKey: otherKey } = await registerWorkspace(harness.apiUrl));
  await call(`${harness.apiUrl}/api/v1/properties`, 'POST', key, {
    property_id: 'elm',
    name: 'Elm Court',
    timezone: 'America/New_York',
    vertical: 'multifamily',
  });
});
afterAll(async () => {
  await harness?.stop();
});

const url = (path = '') => `${harness.apiUrl}/api/v1/notification-preferences${path}`;

test('creates a preference with the seed 001 columns and lists it', async () => {
  const created = await call(url(), 'POST', key, {
    property_id: 'elm',
    status_type: 'tour_scheduled',
    notification_method: 'email',
    recipients: ['leasing@elm.example', 'prospect'],
    template_id: 'qualified_to_tour_scheduled',
  });
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({
    id: expect.any(String),
    property_id: 'elm',
    status_type: 'tour_scheduled',
    notification_method: 'email',
    recipients: ['leasing@elm.example', 'prospect'],
    is_active: true,
  });
  const list = await call(url(), 'GET', key);
  expect(list.body.preferences.map((p: { id: string }) => p.id)).toContain(created.body.id);
  const other = await call(url(), 'GET', otherKey);
  expect(other.body.preferences).toEqual([]);
});

test('names every bad field: method, recipients that do not fit the method, unknown template and property', async () => {
  const bad = await call(url(), 'POST', key, {
    property_id: 'elm',
    status_type: 'sleeping',
    notification_method: 'sms',
    recipients: ['not-a-phone', '+13035550100'],
    template_id: 'nope',
  });
  expect(bad.status).toBe(400);
  const fields = bad.body.error.details.fields.map((f: { field: string }) => f.field);
  expect(fields).toEqual(expect.arrayContaining(['status_type', 'recipients.0', 'template_id']));
  const unknown = await call(url(), 'POST', key, {
    property_id: 'nowhere',
    status_type: 'lost',
    notification_method: 'slack',
    recipients: ['default'],
  });
  expect(unknown.status).toBe(400);
  expect(unknown.body.error.details.fields[0].field).toBe('property_id');
});

test('deactivates and deletes a preference; another workspace gets 404', async () => {
  const created = await call(url(), 'POST', key, {
    property_id: null,
    status_type: 'speed_to_lead_escalation',
    notification_method: 'slack',
    recipients: ['default'],
  });
  expect(created.status).toBe(201);
  expect((await call(url(`/${created.body.id}`), 'PATCH', otherKey, { is_active: false })).status).toBe(404);
  const off = await call(url(`/${created.body.id}`), 'PATCH', key, { is_active: false });
  expect(off.body.is_active).toBe(false);
  expect((await call(url(`/${created.body.id}`), 'DELETE', otherKey)).status).toBe(404);
  expect((await call(url(`/${created.body.id}`), 'DELETE', key)).status).toBe(204);
  expect((await call(url(`/${created.body.id}`), 'DELETE', key)).status).toBe(404);
});

test('a change of recipients is validated as on create: against the preference method', async () => {
  const created = await call(url(), 'POST', key, {
    property_id: null,
    status_type: 'toured',
    notification_method: 'email',
    recipients: ['leasing@example.com'],
  });
  expect(created.status).toBe(201);
  const bad = await call(url(`/${created.body.id}`), 'PATCH', key, {
    recipients: ['leasing@example.com', '+13035550100'],
  });
  expect(bad.status).toBe(400);
  expect(bad.body.error.details.fields).toEqual([
    { field: 'recipients.1', message: 'must be an email address or "prospect"' },
  ]);
  const good = await call(url(`/${created.body.id}`), 'PATCH', key, { recipients: ['prospect'] });
  expect(good.body.recipients).toEqual(['prospect']);
});

test('the notifications inbox lists deliveries with the delivery rate', async () => {
  const inbox = await call(`${harness.apiUrl}/api/v1/notifications?status=sent`, 'GET', key);
  expect(inbox.status).toBe(200);
  expect(inbox.body).toEqual({ notifications: [], delivery_rate: null });
  const bad = await call(`${harness.apiUrl}/api/v1/notifications?status=lost`, 'GET', key);
  expect(bad.status).toBe(400);
});
