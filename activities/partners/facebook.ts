// Facebook Lead Ads: leadgen change notifications, verified by X-Hub-Signature-256 (`sha256=<hex HMAC-SHA256
// of the raw body>` with the app secret); the subscription GET echoes hub.challenge when hub.verify_token
// matches. The notification carries ids only: the lead is created under its leadgen id, and its answers
// (GET /{leadgen_id}) are fetched by the outbound side of this adapter.
import { z } from 'zod';
import { AppError } from '../../shared/errors';
import { compact, jsonBody, text, validate } from './parsing';
import { hmac, requireSecret, safeEqual, unauthorized } from './signatures';
import type { InboundEvent, InboundRequest, InboundSecrets, PartnerAdapter } from './types';

const fbId = z.union([z.string().regex(/^\d{1,30}$/), z.number().int().min(0)]).transform(String);

const LeadgenValue = z
  .object({
    leadgen_id: fbId,
    form_id: fbId.optional(),
    page_id: fbId.optional(),
    ad_id: fbId.optional(),
    adgroup_id: fbId.optional(),
    created_time: z.number().int().min(0).max(1e11).optional(),
  })
  .loose();

export const FacebookWebhook = z.object({
  object: z.literal('page'),
  entry: z
    .array(
      z
        .object({
          id: fbId.optional(),
          time: z.number().optional(),
          changes: z
            .array(z.object({ field: text(100), value: z.unknown() }))
            .max(1000)
            .default([]),
        })
        .loose(),
    )
    .min(1)
    .max(1000),
});

function verify(request: InboundRequest, secrets: InboundSecrets): void {
  const secret = requireSecret(
    secrets.webhookSecret ?? secrets.credentials.app_secret,
    'Facebook app secret',
  );
  const header = request.headers['x-hub-signature-256'];
  if (!header) throw unauthorized('missing X-Hub-Signature-256', 'missing_headers');
  if (!safeEqual(header, `sha256=${hmac('sha256', secret, request.rawBody, 'hex')}`)) {
    throw unauthorized('X-Hub-Signature-256 does not match the body', 'bad_signature');
  }
}

function handshake(request: InboundRequest, secrets: InboundSecrets): string {
  const expected = secrets.credentials.verify_token;
  const { 'hub.mode': mode, 'hub.verify_token': token, 'hub.challenge': challenge } = request.query;
  if (mode !== 'subscribe' || !challenge || !/^[A-Za-z0-9_-]{1,200}$/.test(challenge)) {
    throw new AppError('validation_failed', 'expected hub.mode=subscribe with a hub.challenge', {
      fields: [{ field: 'hub.challenge', message: 'required with hub.mode=subscribe' }],
    });
  }
  if (!expected || !token || !safeEqual(token, expected)) {
    throw new AppError('forbidden', 'hub.verify_token does not match this integration');
  }
  return challenge;
}

function parse(request: InboundRequest): InboundEvent[] {
  const body = validate(FacebookWebhook, jsonBody(request));
  const events: InboundEvent[] = [];
  body.entry.forEach((entry, e) => {
    entry.changes.forEach((change, c) => {
      if (change.field !== 'leadgen') return;
      const parsed = LeadgenValue.safeParse(change.value);
      if (!parsed.success) {
        const fields = parsed.error.issues.map((issue) => ({
          field: ['entry', e, 'changes', c, 'value', ...issue.path].join('.'),
          message: issue.message,
        }));
        throw new AppError('validation_failed', `invalid body: ${fields.map((f) => f.field).join(', ')}`, {
          fields,
        });
      }
      const value = parsed.data;
      events.push({
        partnerEventId: value.leadgen_id,
        eventType: 'leadgen',
        occurredAt: value.created_time
          ? new Date(value.created_time * 1000).toISOString()
          : request.now.toISOString(),
        lead: {
          create: {
            externalIds: { facebook: value.leadgen_id },
            customData: {
              facebook: compact({
                leadgen_id: value.leadgen_id,
                form_id: value.form_id,
                page_id: value.page_id ?? entry.id,
                ad_id: value.ad_id,
                adgroup_id: value.adgroup_id,
              }),
            },
          },
        },
        events: [],
      });
    });
  });
  return events;
}

export const facebook: PartnerAdapter = {
  partner: 'facebook',
  integration: {
    webhookSecret: { kind: 'credential', field: 'app_secret' },
    credentials: z
      .object({
        app_secret: z.string().min(8, "the Facebook app's secret"),
        verify_token: z.string().min(8, 'the token Facebook echoes on subscription'),
        page_access_token: z.string().optional(),
      })
      .loose(),
  },
  inbound: { verify, parse, handshake },
};
