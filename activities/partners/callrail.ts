// CallRail (calls): post-call and call-modified webhooks, verified by `Signature` (base64 HMAC-SHA1 of the raw
// body with the company's signing key). One call is one `calls` row however many webhooks describe it; only
// its first webhook gives the journey a `call` event.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { compact, jsonBody, splitName, text, validate } from './parsing';
import { hmac, requireSecret, safeEqual, unauthorized } from './signatures';
import type { InboundEvent, InboundRequest, InboundSecrets, PartnerAdapter } from './types';

const time = z
  .string()
  .max(100)
  .refine((value) => {
    const year = new Date(value).getUTCFullYear();
    return year >= 1970 && year <= 9999;
  }, 'not a date and time')
  .transform((value) => new Date(value).toISOString());

export const CallRailCall = z
  .object({
    resource_id: text(100).optional(),
    id: z.union([text(100), z.number()]).optional(),
    company_id: z.union([text(100), z.number()]).optional(),
    answered: z.boolean().nullish(),
    direction: z.enum(['inbound', 'outbound']).default('inbound'),
    duration: z.union([z.number().min(0).max(10_000_000), z.string().regex(/^\d{1,7}$/)]).nullish(),
    customer_name: text(400).nullish(),
    customer_phone_number: text(40).nullish(),
    tracking_phone_number: text(40).nullish(),
    source_name: text(400).nullish(),
    source: text(400).nullish(),
    start_time: time.nullish(),
    created_at: time.nullish(),
    recording: text(2000).nullish(),
    lead_status: text(100).nullish(),
    tags: z.array(z.union([text(200), z.object({ name: text(200) }).loose()])).nullish(),
    value: z.union([text(100), z.number()]).nullish(),
    note: text(10_000).nullish(),
  })
  .loose()
  .refine((call) => call.resource_id || call.id !== undefined, {
    message: 'a call needs resource_id or id',
    path: ['resource_id'],
  });

function verify(request: InboundRequest, secrets: InboundSecrets): void {
  const key = requireSecret(secrets.webhookSecret ?? secrets.credentials.signing_key, 'CallRail signing key');
  const signature = request.headers['signature'];
  if (!signature) throw unauthorized('missing Signature', 'missing_headers');
  if (!safeEqual(signature, hmac('sha1', key, request.rawBody, 'base64'))) {
    throw unauthorized('Signature does not match the body', 'bad_signature');
  }
}

function parse(request: InboundRequest): InboundEvent[] {
  const call = validate(CallRailCall, jsonBody(request));
  const callId = String(call.resource_id ?? call.id);
  const duration =
    call.duration === null || call.duration === undefined ? undefined : Math.round(Number(call.duration));
  const startedAt = call.start_time ?? call.created_at ?? undefined;
  // CallRail sends no event id: the same bytes are the same delivery, a changed body is a modification.
  const digest = createHash('sha256').update(request.rawBody).digest('hex').slice(0, 32);
  const phone = call.customer_phone_number ?? undefined;
  return [
    {
      partnerEventId: `${callId}:${digest}`,
      eventType: 'call.completed',
      occurredAt: startedAt ?? request.now.toISOString(),
      lead: phone
        ? {
            create: compact({
              ...splitName(call.customer_name),
              phone,
              customData: compact({
                callrail: compact({ source: call.source_name ?? call.source ?? undefined }),
              }),
            }),
          }
        : undefined,
      events: [
        {
          kind: 'call',
          // One id per call: the journey counts a call once even if a later webhook is also delivered.
          eventId: `callrail:call:${callId}`,
          callId,
          direction: call.direction,
          answered: call.answered ?? false,
          ...(duration !== undefined ? { durationSeconds: duration } : {}),
        },
      ],
      record: {
        kind: 'call',
        callId,
        direction: call.direction,
        ...(call.answered !== null && call.answered !== undefined ? { answered: call.answered } : {}),
        ...(duration !== undefined ? { durationSeconds: duration } : {}),
        ...(startedAt ? { startedAt } : {}),
        data: call as Record<string, unknown>,
      },
      note: phone ? undefined : 'no customer phone number: kept on the call only',
    },
  ];
}

export const callrail: PartnerAdapter = {
  partner: 'callrail',
  integration: {
    webhookSecret: { kind: 'credential', field: 'signing_key' },
    credentials: z.object({ signing_key: z.string().min(8), api_key: z.string().optional() }).loose(),
  },
  inbound: { verify, parse },
};
