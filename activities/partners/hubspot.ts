// HubSpot CRM: webhook batches (contact.creation, contact.propertyChange of hs_lead_status), verified by
// signature v3: base64 HMAC-SHA256 of method + URI + body + timestamp with the app's client secret, the
// timestamp (ms) within 5 minutes.
import { z } from 'zod';
import { epochMillis, jsonBody, requireKnownStatus, text, validate } from './parsing';
import { hmac, requireFresh, requireSecret, safeEqual, unauthorized } from './signatures';
import type { InboundEvent, InboundRequest, InboundSecrets, PartnerAdapter } from './types';

export const HUBSPOT_TOLERANCE_MS = 300_000;

/** HubSpot signs the URI with these escapes decoded (its v3 documentation's list). */
const DECODED: Record<string, string> = {
  '%3A': ':',
  '%2F': '/',
  '%3F': '?',
  '%40': '@',
  '%21': '!',
  '%24': '$',
  '%27': "'",
  '%28': '(',
  '%29': ')',
  '%2A': '*',
  '%2C': ',',
  '%3B': ';',
};

export function hubspotUri(url: string): string {
  return url.replace(/%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi, (escape) => DECODED[escape.toUpperCase()]!);
}

const objectId = z.union([z.number().int().min(0), z.string().regex(/^\d{1,20}$/)]).transform(String);

const HubSpotEvent = z
  .object({
    eventId: objectId,
    subscriptionId: objectId.optional(),
    portalId: objectId.optional(),
    appId: objectId.optional(),
    occurredAt: epochMillis,
    subscriptionType: text(100),
    attemptNumber: z.number().int().min(0).optional(),
    objectId,
    changeSource: text(100).optional(),
    propertyName: text(200).optional(),
    propertyValue: text(10_000).optional(),
  })
  .loose();

export const HubSpotWebhook = z.array(HubSpotEvent).min(1).max(1000);

function verify(request: InboundRequest, secrets: InboundSecrets): void {
  const secret = requireSecret(
    secrets.webhookSecret ?? secrets.credentials.client_secret,
    'HubSpot client secret',
  );
  const signature = request.headers['x-hubspot-signature-v3'];
  const timestamp = request.headers['x-hubspot-request-timestamp'];
  if (!signature || !timestamp) {
    throw unauthorized('missing X-HubSpot-Signature-v3 or X-HubSpot-Request-Timestamp', 'missing_headers');
  }
  if (!/^\d{1,16}$/.test(timestamp))
    throw unauthorized('X-HubSpot-Request-Timestamp is not a timestamp', 'bad_timestamp');
  const body = request.rawBody.toString('utf8');
  const matches = request.urls.some((url) =>
    safeEqual(
      signature,
      hmac('sha256', secret, `${request.method}${hubspotUri(url)}${body}${timestamp}`, 'base64'),
    ),
  );
  if (!matches)
    throw unauthorized('X-HubSpot-Signature-v3 does not match this URL and body', 'bad_signature');
  requireFresh(request, Number(timestamp), HUBSPOT_TOLERANCE_MS, 'X-HubSpot-Request-Timestamp');
}

function parse(request: InboundRequest): InboundEvent[] {
  const batch = validate(HubSpotWebhook, jsonBody(request));
  return batch.map((event, index) => {
    const base = {
      partnerEventId: event.eventId,
      eventType: event.subscriptionType,
      occurredAt: event.occurredAt,
    };
    const contact = { by: 'external_id' as const, partner: 'hubspot' as const, externalId: event.objectId };
    if (event.subscriptionType === 'contact.creation') {
      return { ...base, lead: { create: { externalIds: { hubspot: event.objectId } } }, events: [] };
    }
    if (event.subscriptionType === 'contact.propertyChange' && event.propertyName === 'hs_lead_status') {
      const value = event.propertyValue ?? '';
      requireKnownStatus('hubspot', value, `${index}.propertyValue`);
      return {
        ...base,
        actor: event.changeSource,
        lead: { find: [contact] },
        events: [
          {
            kind: 'partner_status' as const,
            partner: 'hubspot' as const,
            value,
            context: { hubspot_object_id: event.objectId, property: 'hs_lead_status' },
          },
        ],
      };
    }
    return {
      ...base,
      events: [],
      note: `${event.subscriptionType} ${event.propertyName ?? ''} is not mapped`.trim(),
    };
  });
}

export const hubspot: PartnerAdapter = {
  partner: 'hubspot',
  integration: {
    webhookSecret: { kind: 'credential', field: 'client_secret' },
    credentials: z
      .object({
        client_secret: z.string().min(8, "the HubSpot app's client secret"),
        access_token: z.string().optional(),
      })
      .loose(),
    config: z.object({ portal_id: z.union([z.string(), z.number()]).optional() }).loose(),
  },
  inbound: { verify, parse },
};
