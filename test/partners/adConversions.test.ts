// The conversion adapters against their sandbox twins over real HTTP: Meta Conversions API (hashed, normalised
// customer information as Meta's examples show, event_id deduplicating against the browser pixel, Purchase with
// value, Graph errors sorted into final and retryable) and GA4 Measurement Protocol (the form's client_id, GA's
// rules checked before sending, the validation server as connection test, 2xx that still drops).
import { randomUUID } from 'node:crypto';
import { hashedEmail, hashedName, hashedPhone } from '../../activities/partners/adConversions';
import { ga4 } from '../../activities/partners/ga4';
import { metaCapi } from '../../activities/partners/metaCapi';
import type { PartnerConnection, PartnerLead, StatusPush } from '../../activities/partners/types';
import { startGa4Sandbox, type Ga4Sandbox } from '../../infra/sandbox/ga4';
import { startMetaSandbox, type MetaSandbox } from '../../infra/sandbox/metaCapi';
import type { LeadStatus } from '../../shared/lifecycle';
import { partnerError, statusPush } from './support';

let meta: MetaSandbox;
let google: Ga4Sandbox;

beforeAll(async () => {
  [meta, google] = await Promise.all([startMetaSandbox(), startGa4Sandbox()]);
});
afterAll(async () => {
  await Promise.all([meta?.close(), google?.close()]);
});
afterEach(() => {
  for (const sandbox of [meta, google]) {
    sandbox.faults.length = 0;
    sandbox.down = false;
    sandbox.ignoreWrites = false;
  }
});

function lead(overrides: Partial<PartnerLead> = {}): PartnerLead {
  return {
    leadId: randomUUID(),
    firstName: 'Mary',
    lastName: "O'Neil",
    email: ' Mary.ONeil@Example.com ',
    phone: '(650) 555-1212',
    source: 'webform',
    createdAt: new Date().toISOString(),
    createdByUs: false,
    customData: {
      attribution: {
        ga_client_id: '1234567890.1712345678',
        fbp: 'fb.1.1712345678901.1234567890',
        fb_event_id: `pixel-${randomUUID()}`,
      },
    },
    ...overrides,
  };
}

const push = (l: PartnerLead, status: LeadStatus, occurredAt = new Date().toISOString()): StatusPush =>
  statusPush(l, status, status, occurredAt);

const metaConnection = (
  config: Record<string, unknown> = {},
  credentials?: Record<string, string>,
): PartnerConnection => ({
  integrationId: randomUUID(),
  workspaceId: 'ws_ads',
  config: { pixel_id: meta.pixelId, base_url: meta.url, ...config },
  credentials: credentials ?? { access_token: meta.accessToken },
  timeoutMs: 5_000,
});

const ga4Connection = (
  config: Record<string, unknown> = {},
  credentials?: Record<string, string>,
): PartnerConnection => ({
  integrationId: randomUUID(),
  workspaceId: 'ws_ads',
  config: { measurement_id: google.measurementId, base_url: google.url, ...config },
  credentials: credentials ?? { api_secret: google.apiSecret },
  timeoutMs: 5_000,
});

test("customer information is normalised and hashed as Meta's documented examples", () => {
  expect(hashedEmail('  John_Smith@gmail.com ')).toBe(
    '62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f',
  );
  expect(hashedPhone('(650)555-1212')).toBe(
    'e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176',
  );
  expect(hashedName('Mary')).toBe('6915771be1c5aa0c886870b6951b03d7eafc121fea0e80a5ea83beb7c449f4ec');
  expect(hashedName('Valéry')).toBe('08e1996b5dd49e62a4b4c010d44e4345592a863bb9f8e3976219bac29417149c');
  expect(hashedEmail('')).toBeUndefined();
  expect(hashedPhone('not a phone')).toBeUndefined();
});

describe('Meta Conversions API', () => {
  const outbound = metaCapi.outbound!;

  test("an inquiry is one Lead with hashed contact, deduplicated against the page's pixel Lead", async () => {
    const l = lead();
    const eventId = (l.customData!.attribution as { fb_event_id: string }).fb_event_id;
    meta.pixelEvent('Lead', eventId);
    const before = meta.conversions.length;
    const result = await outbound.pushStatus(metaConnection(), push(l, 'new'));
    expect(result).toMatchObject({ outcome: 'success', code: 200, readBack: 'confirmed' });
    const sent = meta.received.at(-1)!;
    expect(sent).toMatchObject({
      event_name: 'Lead',
      event_id: eventId,
      action_source: 'system_generated',
      user_data: {
        em: [hashedEmail('mary.oneil@example.com')],
        ph: [hashedPhone('+16505551212')],
        fn: [hashedName('mary')],
        ln: [hashedName('oneil')],
        fbp: 'fb.1.1712345678901.1234567890',
      },
      custom_data: { lead_event_source: 'leadrelay', event_source: 'crm' },
    });
    expect(JSON.stringify(sent)).not.toContain('Example.com');
    // The browser's Lead came first: Meta counts one conversion.
    expect(meta.conversions.length).toBe(before);
    expect(result.outcome === 'success' && result.response).toMatchObject({
      sent: { event_name: 'Lead', event_id: eventId },
      events_received: 1,
    });
  });

  test('a tour is one Schedule; the same stage sent again is one conversion by its event_id', async () => {
    const l = lead({ customData: {} });
    const before = meta.conversions.length;
    await outbound.pushStatus(metaConnection(), push(l, 'tour_scheduled'));
    await outbound.pushStatus(metaConnection(), push(l, 'tour_scheduled'));
    const added = meta.conversions.slice(before);
    expect(added.map((e) => [e.event_name, e.event_id])).toEqual([
      ['Schedule', `leadrelay.${l.leadId}.tour_scheduled`],
    ]);
  });

  test('a lease is a Purchase with the value logged for the lead, else the default value, else refused', async () => {
    const valued = lead({ conversionValue: 18_500 });
    await outbound.pushStatus(metaConnection(), push(valued, 'leased'));
    expect(meta.received.at(-1)).toMatchObject({
      event_name: 'Purchase',
      event_id: `leadrelay.${valued.leadId}.won`,
      custom_data: { value: 18_500, currency: 'USD' },
    });
    await outbound.pushStatus(
      metaConnection({ default_value: 1200, currency: 'CAD' }),
      push(lead(), 'placed'),
    );
    expect(meta.received.at(-1)!.custom_data).toMatchObject({ value: 1200, currency: 'CAD' });
    const refused = await partnerError(outbound.pushStatus(metaConnection(), push(lead(), 'leased')));
    expect(refused).toMatchObject({ kind: 'final', details: { partnerCode: 'value_missing' } });
  });

  test('a stage the workspace does not map sends nothing', async () => {
    const before = meta.requests.items.length;
    const result = await outbound.pushStatus(
      metaConnection({ events: { new: 'Lead' } }),
      push(lead(), 'tour_scheduled'),
    );
    expect(result).toEqual({ outcome: 'skipped', detail: 'no Meta event is mapped to tour_scheduled' });
    expect(meta.requests.items.length).toBe(before);
  });

  test('Graph errors: a bad token is final, throttling and outages retry with Retry-After, old events are refused', async () => {
    const badToken = await partnerError(
      outbound.pushStatus(
        metaConnection({}, { access_token: 'EAAB-not-the-token-000000' }),
        push(lead(), 'new'),
      ),
    );
    expect(badToken).toMatchObject({ kind: 'final', status: 400, details: { partnerCode: '190' } });
    expect(badToken.message).toContain('OAuthException 190');

    meta.faults.push({ status: 429, retryAfterSeconds: 30 });
    const throttled = await partnerError(outbound.pushStatus(metaConnection(), push(lead(), 'new')));
    expect(throttled).toMatchObject({ kind: 'retryable', status: 429, details: { retryAfterMs: 30_000 } });

    // Throttling inside a 400 (Graph code 4) retries too.
    meta.faults.push({
      status: 400,
      body: JSON.stringify({
        error: { message: 'Application request limit reached', type: 'OAuthException', code: 4 },
      }),
    });
    expect(await partnerError(outbound.pushStatus(metaConnection(), push(lead(), 'new')))).toMatchObject({
      kind: 'retryable',
    });

    meta.faults.push({ status: 503 });
    expect(await partnerError(outbound.pushStatus(metaConnection(), push(lead(), 'new')))).toMatchObject({
      kind: 'retryable',
      status: 503,
    });

    const eightDaysAgo = new Date(Date.now() - 8 * 86_400_000).toISOString();
    const old = await partnerError(outbound.pushStatus(metaConnection(), push(lead(), 'new', eightDaysAgo)));
    expect(old).toMatchObject({ kind: 'final', details: { partnerCode: 'event_too_old' } });
  });

  test('a dataset that received nothing is not a success', async () => {
    meta.ignoreWrites = true;
    const result = await outbound.pushStatus(metaConnection(), push(lead(), 'new'));
    expect(result).toMatchObject({ outcome: 'not_applied', code: 200 });
  });

  test('test connection reads the dataset with the token', async () => {
    await expect(outbound.testConnection(metaConnection())).resolves.toEqual({
      detail: `dataset ${meta.pixelId} (Sandbox dataset) is reachable with this token`,
    });
    const refused = await partnerError(
      outbound.testConnection(metaConnection({}, { access_token: 'EAAB-not-the-token-000000' })),
    );
    expect(refused).toMatchObject({ kind: 'final', details: { partnerCode: '190' } });
    const wrongPixel = await partnerError(outbound.testConnection(metaConnection({ pixel_id: '99999' })));
    expect(wrongPixel.message).toContain('does not exist');
  });
});

describe('GA4 Measurement Protocol', () => {
  const outbound = ga4.outbound!;

  test("an inquiry is one generate_lead with the form's client_id and the event's time", async () => {
    const l = lead({ conversionValue: 250 });
    const occurredAt = new Date(Date.now() - 3_600_000).toISOString();
    const before = google.events.length;
    const result = await outbound.pushStatus(ga4Connection(), push(l, 'new', occurredAt));
    expect(result).toMatchObject({ outcome: 'success', code: 204, readBack: 'not_supported' });
    expect(google.events.slice(before)).toEqual([
      {
        measurementId: google.measurementId,
        clientId: '1234567890.1712345678',
        timestampMicros: Math.floor(Date.parse(occurredAt) / 1000) * 1_000_000,
        name: 'generate_lead',
        params: { value: 250, currency: 'USD', lead_source: 'webform', engagement_time_msec: 1 },
      },
    ]);
    const request = google.requests.items.at(-1)!;
    expect(request.url).toMatch(/^\/mp\/collect\?measurement_id=G-[A-Z0-9]+&api_secret=/);
  });

  test('a lead without a GA client_id is skipped, not sent as a stranger', async () => {
    const before = google.requests.items.length;
    const result = await outbound.pushStatus(ga4Connection(), push(lead({ customData: {} }), 'new'));
    expect(result).toMatchObject({ outcome: 'skipped', detail: expect.stringContaining('no GA client_id') });
    expect(google.requests.items.length).toBe(before);
  });

  test("an event GA would drop silently is refused before sending, with GA's reason", async () => {
    const before = google.requests.items.length;
    const refused = await partnerError(
      outbound.pushStatus(ga4Connection({ events: { new: 'session_start' } }), push(lead(), 'new')),
    );
    expect(refused).toMatchObject({ kind: 'final', details: { partnerCode: 'invalid_event' } });
    expect(refused.message).toContain('reserved');
    expect(google.requests.items.length).toBe(before);
  });

  test('a wrong api_secret is answered 2xx and dropped by GA, as documented: only the realtime report tells', async () => {
    const dropped = google.dropped.length;
    const result = await outbound.pushStatus(
      ga4Connection({}, { api_secret: 'not-the-secret-1234' }),
      push(lead(), 'new'),
    );
    expect(result).toMatchObject({ outcome: 'success', code: 204 });
    expect(google.dropped.slice(dropped).map((d) => d.reason)).toEqual([
      'api_secret does not belong to the stream',
    ]);
  });

  test('outages retry, honouring Retry-After', async () => {
    google.faults.push({ status: 503, retryAfterSeconds: 12 });
    expect(await partnerError(outbound.pushStatus(ga4Connection(), push(lead(), 'new')))).toMatchObject({
      kind: 'retryable',
      status: 503,
      details: { retryAfterMs: 12_000 },
    });
  });

  test("test connection asks GA's validation server", async () => {
    await expect(outbound.testConnection(ga4Connection())).resolves.toMatchObject({
      detail: expect.stringContaining(`stream ${google.measurementId} takes events`),
    });
    expect(google.requests.items.at(-1)!.url).toMatch(/^\/debug\/mp\/collect\?/);
    const missing = await partnerError(outbound.testConnection(ga4Connection({}, {})));
    expect(missing).toMatchObject({ kind: 'final', details: { partnerCode: 'credentials_missing' } });
  });
});
