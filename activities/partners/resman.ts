// ResMan: seed 001's StatusUpdateWebhook (sent by systems relaying ResMan changes), signed with Standard
// Webhooks. `lead_id` is ResMan's prospect id; statuses use ResMan's vocabulary in shared/lifecycle.ts.
import { z } from 'zod';
import { id, isoTime, jsonBody, requireKnownStatus, standardWebhookId, text, validate } from './parsing';
import { verifyStandardWebhook } from './signatures';
import type { InboundEvent, PartnerAdapter } from './types';

export const StatusUpdateWebhook = z.object({
  lead_id: id,
  old_status: text(100).optional(),
  new_status: z.string().min(1).max(100),
  status_reason: text(2000).optional(),
  updated_by: text(100),
  updated_at: isoTime,
  context_data: z.record(z.string(), z.unknown()).optional(),
});

export const resman: PartnerAdapter = {
  partner: 'resman',
  integration: { webhookSecret: { kind: 'generate' } },
  inbound: {
    verify: (request, secrets) => verifyStandardWebhook(request, secrets.webhookSecret),
    parse(request): InboundEvent[] {
      const body = validate(StatusUpdateWebhook, jsonBody(request));
      requireKnownStatus('resman', body.new_status, 'new_status');
      return [
        {
          partnerEventId: standardWebhookId(request),
          eventType: 'status.updated',
          occurredAt: body.updated_at,
          actor: body.updated_by,
          lead: { find: [{ by: 'external_id', partner: 'resman', externalId: body.lead_id }] },
          events: [
            {
              kind: 'partner_status',
              partner: 'resman',
              value: body.new_status,
              reason: body.status_reason,
              context: {
                ...body.context_data,
                ...(body.old_status ? { partner_old_status: body.old_status } : {}),
                updated_by: body.updated_by,
              },
            },
          ],
        },
      ];
    },
  },
};
