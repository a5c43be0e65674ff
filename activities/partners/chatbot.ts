// The on-site chatbot: conversation status changes in seed 001's chatbot vocabulary (tour_booked,
// application_started, …), signed with Standard Webhooks. The chatbot names the lead by our lead id when it
// has one, else by its conversation id; a first message with contact details creates or matches the lead.
import { z } from 'zod';
import { emailField, phoneField } from '../../shared/contact';
import {
  compact,
  id,
  isoTime,
  jsonBody,
  requireKnownStatus,
  standardWebhookId,
  text,
  validate,
} from './parsing';
import { verifyStandardWebhook } from './signatures';
import type { InboundEvent, InboundLeadEvent, LeadLookup, PartnerAdapter } from './types';

export const ChatbotStatusWebhook = z.object({
  conversation_id: id,
  lead_id: z.uuid().optional(),
  property_id: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .optional(),
  old_status: text(100).optional(),
  new_status: z.string().min(1).max(100),
  status_reason: text(2000).optional(),
  updated_at: isoTime,
  tour_at: isoTime.optional(),
  context_data: z.record(z.string(), z.unknown()).optional(),
  contact: z
    .object({
      first_name: text(200).optional(),
      last_name: text(200).optional(),
      email: emailField.optional(),
      phone: phoneField.optional(),
    })
    .optional(),
});

export const chatbot: PartnerAdapter = {
  partner: 'chatbot',
  integration: { webhookSecret: { kind: 'generate' } },
  inbound: {
    verify: (request, secrets) => verifyStandardWebhook(request, secrets.webhookSecret),
    parse(request): InboundEvent[] {
      const body = validate(ChatbotStatusWebhook, jsonBody(request));
      requireKnownStatus('chatbot', body.new_status, 'new_status');
      const find: LeadLookup[] = [
        ...(body.lead_id ? [{ by: 'lead_id' as const, leadId: body.lead_id }] : []),
        { by: 'external_id', partner: 'chatbot', externalId: body.conversation_id },
      ];
      const contact = body.contact;
      const events: InboundLeadEvent[] = [];
      // The tour time first, so a tour_booked status meets its required field.
      if (body.tour_at) events.push({ kind: 'facts_changed', facts: { tourAt: body.tour_at } });
      events.push({
        kind: 'partner_status',
        partner: 'chatbot',
        value: body.new_status,
        reason: body.status_reason,
        context: compact({
          ...body.context_data,
          conversation_id: body.conversation_id,
          tour_at: body.tour_at,
        }),
      });
      return [
        {
          partnerEventId: standardWebhookId(request),
          eventType: 'status.changed',
          occurredAt: body.updated_at,
          actor: 'chatbot',
          lead:
            contact && (contact.email || contact.phone)
              ? {
                  create: compact({
                    firstName: contact.first_name,
                    lastName: contact.last_name,
                    email: contact.email,
                    phone: contact.phone,
                    propertyId: body.property_id,
                    externalIds: { chatbot: body.conversation_id },
                  }),
                }
              : { find },
          events,
        },
      ];
    },
  },
};
