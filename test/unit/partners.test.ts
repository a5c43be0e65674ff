// Partner adapters without a server: the registry, SMS keywords, HubSpot's URI rule, and the parse step's
// answers for bodies a partner may send.
import { Webhook } from 'standardwebhooks';
import { inboundAdapter, partnerAdapters } from '../../activities/partners';
import { hubspotUri } from '../../activities/partners/hubspot';
import { OPT_IN_KEYWORDS, OPT_OUT_KEYWORDS, smsKeyword } from '../../activities/partners/twilio';
import type { InboundRequest } from '../../activities/partners/types';
import { AppError } from '../../shared/errors';
import { PARTNERS } from '../../shared/lifecycle';

function request(body: string, headers: Record<string, string> = {}): InboundRequest {
  return { method: 'POST', rawBody: Buffer.from(body), headers, query: {}, urls: [], now: new Date() };
}

const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

function signed(body: string, at = new Date()): InboundRequest {
  const id = 'msg_unit_1';
  return request(body, {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(SECRET).sign(id, at, body),
  });
}

function failure(fn: () => unknown): AppError {
  try {
    fn();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected an AppError');
}

test('every partner but the outbound-only ones takes webhooks through one registered inbound adapter', () => {
  const inbound = PARTNERS.filter((partner) => inboundAdapter(partner));
  const outboundOnly = ['salesforce', 'google_calendar', 'meta_capi', 'ga4'];
  expect(inbound).toEqual(PARTNERS.filter((partner) => !outboundOnly.includes(partner)));
  for (const [name, adapter] of Object.entries(partnerAdapters)) expect(adapter!.partner).toBe(name);
  expect(inboundAdapter('__proto__')).toBeUndefined();
});

test.each(OPT_OUT_KEYWORDS)('"%s" in any case and with a trailing full stop is an opt-out', (word) => {
  expect(smsKeyword(word)).toBe('opt_out');
  expect(smsKeyword(` ${word.toLowerCase()}. `)).toBe('opt_out');
});

test.each(OPT_IN_KEYWORDS)('"%s" is an opt-in', (word) => {
  expect(smsKeyword(word.toLowerCase())).toBe('opt_in');
});

test("a sentence containing a keyword is not a keyword; Twilio's OptOutType wins when present", () => {
  expect(smsKeyword('please stop calling me at work')).toBeUndefined();
  expect(smsKeyword('HELP')).toBeUndefined();
  expect(smsKeyword('arrêtez', 'STOP')).toBe('opt_out');
});

test('HubSpot v3 signs the URI with its listed escapes decoded and others kept', () => {
  expect(hubspotUri('https://x.example/webhooks/hubspot/1?a=b%3Ac%2Fd%20e%40f')).toBe(
    'https://x.example/webhooks/hubspot/1?a=b:c/d%20e@f',
  );
});

describe('Standard Webhooks verification', () => {
  const resman = inboundAdapter('resman')!;
  const body = JSON.stringify({
    lead_id: 'RM-1',
    new_status: 'contacted',
    updated_by: 'x',
    updated_at: '2025-03-04T15:22:10Z',
  });

  test('accepts a body signed by the standardwebhooks library with the secret', () => {
    expect(() =>
      resman.verify(signed(body), { webhookSecret: SECRET, credentials: {}, config: {} }),
    ).not.toThrow();
  });

  test('names why a request is refused: missing headers, bad signature, stale timestamp, no secret', () => {
    const secrets = { webhookSecret: SECRET, credentials: {}, config: {} };
    expect(failure(() => resman.verify(request(body), secrets)).details.reason).toBe('missing_headers');
    const tampered = { ...signed(body), rawBody: Buffer.from(body.replace('RM-1', 'RM-2')) };
    expect(failure(() => resman.verify(tampered, secrets)).details.reason).toBe('bad_signature');
    expect(
      failure(() => resman.verify(signed(body, new Date(Date.now() - 301_000)), secrets)).details.reason,
    ).toBe('stale_timestamp');
    expect(failure(() => resman.verify(signed(body), { credentials: {}, config: {} })).status).toBe(401);
  });
});

describe('parse', () => {
  const context = { integrationId: 'i', workspaceId: 'w', config: {} };

  test('a ResMan status maps to a partner_status found by ResMan id, with the Standard Webhooks id as event id', () => {
    const body = JSON.stringify({
      lead_id: 'RM-1',
      new_status: 'applicant',
      updated_by: 'resman_user',
      updated_at: '2025-03-04T15:22:10-07:00',
    });
    expect(inboundAdapter('resman')!.parse(signed(body), context)).toEqual([
      {
        partnerEventId: 'msg_unit_1',
        eventType: 'status.updated',
        occurredAt: '2025-03-04T22:22:10.000Z',
        actor: 'resman_user',
        lead: { find: [{ by: 'external_id', partner: 'resman', externalId: 'RM-1' }] },
        events: [
          {
            kind: 'partner_status',
            partner: 'resman',
            value: 'applicant',
            context: { updated_by: 'resman_user' },
          },
        ],
      },
    ]);
  });

  test('an impossible date is one 400 issue, not two', () => {
    const body = JSON.stringify({
      lead_id: 'RM-1',
      new_status: 'new',
      updated_by: 'x',
      updated_at: '2025-02-30T25:00:00Z',
    });
    const error = failure(() => inboundAdapter('resman')!.parse(signed(body), context));
    expect(error.code).toBe('validation_failed');
    expect(error.details.fields).toEqual([{ field: 'updated_at', message: expect.any(String) }]);
  });

  test('a web inquiry needs an email or a phone', () => {
    const body = JSON.stringify({ submitted_at: '2025-03-04T15:22:10Z', first_name: 'Nobody' });
    const error = failure(() => inboundAdapter('webform')!.parse(signed(body), context));
    expect(error.details.fields).toEqual([
      { field: 'email|phone', message: 'an inquiry needs an email or a phone' },
    ]);
  });

  test('a referral names its community through config.communities, else the integration property', () => {
    const body = JSON.stringify({
      type: 'referral.created',
      referral_id: 'R-1',
      community_id: 'apfm-42',
      referred_at: '2025-03-04T15:22:10Z',
      contact: { phone: '+13035550190' },
    });
    const apfm = inboundAdapter('apfm')!;
    const mapped = apfm.parse(signed(body), {
      ...context,
      propertyId: 'oak',
      config: { communities: { 'apfm-42': 'elm' } },
    });
    expect(mapped[0]!.lead!.create).toMatchObject({ propertyId: 'elm', externalIds: { apfm: 'R-1' } });
    const fallback = apfm.parse(signed(body), { ...context, propertyId: 'oak' });
    expect(fallback[0]!.lead!.create!.propertyId).toBe('oak');
  });
});
