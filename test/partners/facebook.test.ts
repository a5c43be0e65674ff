// The Facebook adapter against its Graph API twin: a leadgen notification completed with the lead's answers
// (contact fields normalized, custom questions kept), and Graph's errors sorted: an expired token is final
// (`token_invalid`, for staff), throttling is retryable, an unknown lead is final.
import { facebook } from '../../activities/partners/facebook';
import type { InboundEvent, PartnerConnection } from '../../activities/partners/types';
import { startFacebookSandbox, type FacebookSandbox } from '../../infra/sandbox/facebook';
import { partnerError } from './support';

let graph: FacebookSandbox;
beforeAll(async () => {
  graph = await startFacebookSandbox();
});
afterAll(async () => {
  await graph?.close();
});

const connection = (): PartnerConnection => ({
  integrationId: 'fb-1',
  workspaceId: 'ws',
  config: { base_url: graph.url },
  credentials: {
    app_secret: graph.appSecret,
    verify_token: graph.verifyToken,
    page_access_token: graph.pageAccessToken,
  },
});

/** The notification for `lead` as the webhook pipeline parses it. */
function notified(leadId: string): InboundEvent {
  const request = graph.notificationRequest(graph.leads.get(leadId)!);
  facebook.inbound!.verify(request, { webhookSecret: graph.appSecret, credentials: {}, config: {} });
  const [event] = facebook.inbound!.parse(request, { integrationId: 'fb-1', workspaceId: 'ws', config: {} });
  return event!;
}

test('a notification is completed with the lead: contact fields trimmed and normalized, custom answers kept', async () => {
  const lead = graph.addLead({
    full_name: 'Dana  Okafor',
    email: ' dana.okafor@example.com ',
    phone_number: '(303) 555-0190',
    'when_would_you_like_to_move_in?': 'Within 30 days',
    city: 'Denver',
  });
  const event = notified(lead.id);
  expect(event.fetch).toEqual({ ref: lead.id });
  const completed = await facebook.inbound!.complete!(event, connection());
  expect(completed.fetch).toEqual({ ref: lead.id, done: true });
  expect(completed.lead?.create).toMatchObject({
    firstName: 'Dana',
    lastName: 'Okafor',
    email: 'dana.okafor@example.com',
    phone: '+13035550190',
    externalIds: { facebook: lead.id },
    customData: {
      facebook: {
        leadgen_id: lead.id,
        form_id: lead.form_id,
        page_id: graph.pageId,
        platform: 'fb',
        answers: { 'when_would_you_like_to_move_in?': 'Within 30 days', city: 'Denver' },
      },
    },
  });
  // The page token travels in the Authorization header, never in the URL.
  const request = graph.requests.items.at(-1)!;
  expect(request.url).not.toContain('access_token');
  expect(request.headers.authorization).toBe(`Bearer ${graph.pageAccessToken}`);
});

test('first and last name questions win over full name; a malformed email is kept as an answer only', async () => {
  const lead = graph.addLead({ first_name: 'Ada', last_name: 'Lovelace', email: 'not an email' });
  const completed = await facebook.inbound!.complete!(notified(lead.id), connection());
  expect(completed.lead?.create).toMatchObject({ firstName: 'Ada', lastName: 'Lovelace' });
  expect(completed.lead?.create?.email).toBeUndefined();
  expect(completed.lead?.create?.customData?.facebook).toMatchObject({ answers: { email: 'not an email' } });
});

test('an expired page token is a final token_invalid error (a staff task), not a retry', async () => {
  const lead = graph.addLead({ email: 'late@example.com' });
  graph.expireToken();
  try {
    const error = await partnerError(facebook.inbound!.complete!(notified(lead.id), connection()));
    expect(error.kind).toBe('final');
    expect(error.details.partnerCode).toBe('token_invalid');
    expect(error.message).toMatch(/Session has expired.*\(code 190\/463\)/);
  } finally {
    graph.renewToken();
  }
});

test('throttling and outages are retryable; an unknown lead and a missing token are final', async () => {
  const lead = graph.addLead({ email: 'busy@example.com' });
  graph.faults.push({
    status: 400,
    body: JSON.stringify({ error: { message: 'Application request limit reached', code: 4 } }),
  });
  expect((await partnerError(facebook.inbound!.complete!(notified(lead.id), connection()))).kind).toBe(
    'retryable',
  );
  graph.faults.push({ status: 503, retryAfterSeconds: 7 });
  const outage = await partnerError(facebook.inbound!.complete!(notified(lead.id), connection()));
  expect([outage.kind, outage.details.retryAfterMs]).toEqual(['retryable', 7000]);

  const unknown = { ...notified(lead.id), fetch: { ref: '1234567890' } };
  const missing = await partnerError(facebook.inbound!.complete!(unknown, connection()));
  expect([missing.kind, missing.details.partnerCode]).toEqual(['final', '100']);

  const { page_access_token: _token, ...withoutToken } = connection().credentials;
  const noToken = await partnerError(
    facebook.inbound!.complete!(notified(lead.id), { ...connection(), credentials: withoutToken }),
  );
  expect([noToken.kind, noToken.details.partnerCode]).toEqual(['final', 'credentials_missing']);
});
