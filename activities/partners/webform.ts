// Web forms: direct inquiries posted by the property's website backend, in leadrelay's web inquiry format
// (docs/partners/webform.md), signed with Standard Webhooks.
import { z } from 'zod';
import { emailField, phoneField } from '../../shared/contact';
import { compact, id, isoTime, jsonBody, standardWebhookId, text, validate } from './parsing';
import { verifyStandardWebhook } from './signatures';
import type { InboundEvent, PartnerAdapter } from './types';

// Ids the page's tags hold (GA's client id from the _ga cookie, Meta's _fbp/_fbc cookies and the pixel's event id).
const tagId = z.string().regex(/^[A-Za-z0-9._:-]{1,200}$/, 'letters, digits and . _ : - only');

const Attribution = z
  .object({
    ga_client_id: tagId.optional(),
    ga_session_id: tagId.optional(),
    fbp: tagId.optional(),
    fbc: tagId.optional(),
    fb_event_id: tagId.optional(),
    user_agent: text(1000).optional(),
    ip_address: z.union([z.ipv4(), z.ipv6()]).optional(),
    page_url: z.url().max(2000).optional(),
  })
  .strict();

export const WebInquiry = z
  .object({
    form_id: text(200).optional(),
    submission_id: id.optional(),
    submitted_at: isoTime,
    property_id: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/)
      .optional(),
    first_name: text(200).optional(),
    last_name: text(200).optional(),
    email: emailField.optional(),
    phone: phoneField.optional(),
    message: text(10_000).optional(),
    page_url: z.url().max(2000).optional(),
    utm: z.record(z.string().max(50), z.string().max(500)).optional(),
    fields: z.record(z.string().max(100), z.unknown()).optional(),
    /** The visitor as the ad platforms know them: kept on the lead, sent back with its conversions. */
    attribution: Attribution.optional(),
  })
  .refine((body) => body.email || body.phone, {
    message: 'an inquiry needs an email or a phone',
    path: ['email|phone'],
  });

export const webform: PartnerAdapter = {
  partner: 'webform',
  integration: { webhookSecret: { kind: 'generate' } },
  inbound: {
    verify: (request, secrets) => verifyStandardWebhook(request, secrets.webhookSecret),
    parse(request): InboundEvent[] {
      const body = validate(WebInquiry, jsonBody(request));
      return [
        {
          partnerEventId: standardWebhookId(request),
          eventType: 'inquiry.submitted',
          occurredAt: body.submitted_at,
          lead: {
            create: compact({
              firstName: body.first_name,
              lastName: body.last_name,
              email: body.email,
              phone: body.phone,
              message: body.message,
              propertyId: body.property_id,
              customData: compact({
                form_id: body.form_id,
                submission_id: body.submission_id,
                page_url: body.page_url,
                utm: body.utm,
                fields: body.fields,
                attribution: body.attribution
                  ? compact({ ...body.attribution, page_url: body.attribution.page_url ?? body.page_url })
                  : undefined,
              }),
            }),
          },
          events: [],
        },
      ];
    },
  },
};
