// Resending a notification over HTTP: a Slack post refused for good (archived channel) is `failed`; once the
// channel is back, POST /api/v1/notifications/:id/resend sends it through the lead's journey exactly once.
import { createSlackChannel } from '../../activities/notify/slack';
import { startSlackSandbox, type SlackSandbox } from '../../infra/sandbox/slack';
import { call, POLLING_RATE_LIMIT, registerWorkspace, startHarness, type Harness } from '../support/harness';
import { waitFor } from '../support/ingest';

let harness: Harness;
let slack: SlackSandbox;
let key: string;
let leadId: string;
let deliveryId: string;

const api = (path: string) => `${harness.apiUrl}/api/v1${path}`;

async function inbox(status?: string): Promise<any[]> {
  const answer = await call(api(`/notifications${status ? `?status=${status}` : ''}`), 'GET', key);
  expect(answer.status).toBe(200);
  return answer.body.notifications.filter((n: any) => n.lead_id === leadId);
}

/** The lead's Slack delivery once it reaches `status` (the journey sends in the background). */
const until = (status: string): Promise<any> =>
  waitFor(`the lead's Slack delivery to be ${status}`, async () =>
    (await inbox()).find((n) => n.channel === 'slack' && n.status === status),
  );

beforeAll(async () => {
  slack = await startSlackSandbox();
  harness = await startHarness({ notify: { channels: { slack: createSlackChannel() } } });
  // Deliveries are awaited by polling the notifications API.
  ({ apiKey: key } = await registerWorkspace(harness.apiUrl, { rate_limit_per_hour: POLLING_RATE_LIMIT }));
  slack.archived.add('sales');
  const preference = await call(api('/notification-preferences'), 'POST', key, {
    property_id: null,
    status_type: 'contacted',
    notification_method: 'slack',
    recipients: [slack.webhookUrl('sales')],
  });
  expect(preference.status).toBe(201);
  const lead = await call(api('/leads'), 'POST', key, { source: 'website', email: 'resend@example.com' });
  expect(lead.status).toBe(201);
  leadId = lead.body.id;
  const changed = await call(api(`/leads/${leadId}/status`), 'PUT', key, { new_status: 'contacted' });
  expect(changed.status).toBe(200);
  const failed = await until('failed');
  expect(failed.error).toMatch(/channel_is_archived/);
  deliveryId = failed.id;
});
afterAll(async () => {
  await harness?.stop();
  await slack?.close();
});

test('a failed notification is refused while its cause stands, then resent once it is fixed', async () => {
  slack.archived.delete('sales');
  const resent = await call(api(`/notifications/${deliveryId}/resend`), 'POST', key);
  expect(resent.status).toBe(202);
  expect(resent.body).toEqual({ resent: true, id: deliveryId, status: 'pending' });
  const sent = await until('sent');
  expect(sent.id).toBe(deliveryId);
  expect(sent.error).toBeNull();
  expect(slack.posts.items.filter((post) => post.path === 'sales')).toHaveLength(1);

  // Sent is final: a second resend is refused with the status, and nothing more is posted.
  const again = await call(api(`/notifications/${deliveryId}/resend`), 'POST', key);
  expect(again.status).toBe(409);
  expect(again.body.error).toMatchObject({ code: 'conflict', details: { status: 'sent' } });
  expect(slack.posts.items.filter((post) => post.path === 'sales')).toHaveLength(1);
});

test('unknown ids and other workspaces get 404', async () => {
  const other = await registerWorkspace(harness.apiUrl);
  for (const [id, token] of [
    [deliveryId, other.apiKey],
    ['00000000-0000-4000-8000-000000000000', key],
    ['not-a-uuid', key],
  ] as const) {
    const answer = await call(api(`/notifications/${id}/resend`), 'POST', token);
    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe('not_found');
  }
});
