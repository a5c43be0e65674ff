// GoHighLevel (LeadConnector): contact and opportunity webhooks, verified by public key: `x-ghl-signature`
// (Ed25519) or the legacy `x-wh-signature` (RSA-SHA256), base64 over the raw body, against the keys in the
// integration's config (GoHighLevel publishes them). The signed `timestamp` must be within 5 minutes.
import { createPublicKey, verify as verifySignature, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { compact, id, isoTime, jsonBody, requireKnownStatus, text, validate } from './parsing';
import { requireFresh, unauthorized } from './signatures';
import type { InboundEvent, InboundRequest, InboundSecrets, PartnerAdapter } from './types';

export const GHL_TOLERANCE_MS = 5 * 60 * 1000;

const pem = z
  .string()
  .max(5000)
  .refine((value) => {
    try {
      createPublicKey(value);
      return true;
    } catch {
      return false;
    }
  }, 'a PEM public key');

export const GoHighLevelConfig = z
  .object({ public_key: pem.optional(), rsa_public_key: pem.optional(), location_id: text(100).optional() })
  .loose()
  .refine((config) => config.public_key || config.rsa_public_key, {
    message: "GoHighLevel's webhook public key (Ed25519 PEM), or rsa_public_key for the legacy signature",
    path: ['public_key'],
  });

export const GoHighLevelWebhook = z
  .object({
    type: text(100),
    locationId: text(100).optional(),
    webhookId: id,
    timestamp: isoTime,
    id: text(100).optional(),
    contactId: text(100).optional(),
    email: z.email().max(320).nullish(),
    phone: text(40).nullish(),
    firstName: text(200).nullish(),
    lastName: text(200).nullish(),
    source: text(200).nullish(),
    status: text(50).optional(),
    pipelineId: text(100).optional(),
    pipelineStageId: text(100).optional(),
    messageId: text(100).optional(),
    messageType: text(50).optional(),
  })
  .loose();

function key(config: Record<string, unknown>, name: 'public_key' | 'rsa_public_key'): KeyObject | undefined {
  const value = config[name];
  if (typeof value !== 'string' || !value) return undefined;
  try {
    return createPublicKey(value);
  } catch {
    return undefined;
  }
}

function verify(request: InboundRequest, secrets: InboundSecrets): void {
  const ed25519 = request.headers['x-ghl-signature'];
  const legacy = request.headers['x-wh-signature'];
  let valid = false;
  if (ed25519) {
    const publicKey = key(secrets.config, 'public_key');
    if (!publicKey) throw unauthorized('this integration has no GoHighLevel public key', 'no_secret');
    valid = verifySignature(null, request.rawBody, publicKey, Buffer.from(ed25519, 'base64'));
  } else if (legacy) {
    const publicKey = key(secrets.config, 'rsa_public_key');
    if (!publicKey) throw unauthorized('this integration has no GoHighLevel RSA public key', 'no_secret');
    valid = verifySignature('sha256', request.rawBody, publicKey, Buffer.from(legacy, 'base64'));
  } else {
    throw unauthorized('missing x-ghl-signature', 'missing_headers');
  }
  if (!valid) throw unauthorized('the GoHighLevel signature does not match the body', 'bad_signature');
  // The time is inside the signed body: read it only once the signature holds.
  let timestamp: unknown;
  try {
    timestamp = (JSON.parse(request.rawBody.toString('utf8')) as { timestamp?: unknown }).timestamp;
  } catch {
    return; // not JSON: parse answers 400
  }
  if (typeof timestamp === 'string')
    requireFresh(request, Date.parse(timestamp), GHL_TOLERANCE_MS, 'timestamp');
}

function parse(request: InboundRequest): InboundEvent[] {
  const body = validate(GoHighLevelWebhook, jsonBody(request));
  const base = { partnerEventId: body.webhookId, eventType: body.type, occurredAt: body.timestamp };
  const contactId = body.type === 'ContactCreate' ? body.id : body.contactId;
  const byContact = contactId
    ? { find: [{ by: 'external_id' as const, partner: 'gohighlevel' as const, externalId: contactId }] }
    : undefined;
  switch (body.type) {
    case 'ContactCreate':
      if (!body.id) break;
      return [
        {
          ...base,
          lead: {
            create: compact({
              firstName: body.firstName ?? undefined,
              lastName: body.lastName ?? undefined,
              email: body.email ?? undefined,
              phone: body.phone ?? undefined,
              externalIds: { gohighlevel: body.id },
              customData: compact({
                gohighlevel: compact({ location_id: body.locationId, source: body.source ?? undefined }),
              }),
            }),
          },
          events: [],
        },
      ];
    case 'OpportunityStatusUpdate':
    case 'OpportunityStageUpdate':
    case 'OpportunityCreate':
      if (!byContact || !body.status) break;
      requireKnownStatus('gohighlevel', body.status, 'status');
      return [
        {
          ...base,
          lead: byContact,
          events: [
            {
              kind: 'partner_status',
              partner: 'gohighlevel',
              value: body.status,
              context: compact({
                opportunity_id: body.id,
                pipeline_id: body.pipelineId,
                pipeline_stage_id: body.pipelineStageId,
              }),
            },
          ],
        },
      ];
    case 'InboundMessage':
      if (!byContact) break;
      return [
        {
          ...base,
          lead: byContact,
          events: [{ kind: 'sms_received', messageId: body.messageId ?? body.webhookId }],
        },
      ];
  }
  return [{ ...base, events: [], note: `${body.type} is not mapped` }];
}

export const gohighlevel: PartnerAdapter = {
  partner: 'gohighlevel',
  integration: { webhookSecret: { kind: 'none' }, config: GoHighLevelConfig },
  inbound: { verify, parse },
};
