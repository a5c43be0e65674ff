// leadrelay's senior-living referral format, shared by A Place for Mom and Caring.com (neither publishes its
// API): referral delivery, status reports and move-in reports, signed with Standard Webhooks. The contract
// is docs/partners/apfm.md; each partner differs only in its status words.
import { z } from 'zod';
import type { PartnerName } from '../../shared/lifecycle';
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
import type { InboundContext, InboundEvent, PartnerAdapter } from './types';

const person = z.object({
  first_name: text(200).optional(),
  last_name: text(200).optional(),
  email: z.email().max(320).optional(),
  phone: text(40).optional(),
});

const Referral = z.object({
  type: z.literal('referral.created'),
  referral_id: id,
  community_id: id.optional(),
  referred_at: isoTime,
  contact: person.extend({ relationship: text(100).optional() }).refine((c) => c.email || c.phone, {
    message: 'a referral contact needs an email or a phone',
    path: ['email|phone'],
  }),
  resident: z
    .object({
      first_name: text(200).optional(),
      last_name: text(200).optional(),
      age: z.number().int().min(0).max(130).optional(),
    })
    .optional(),
  advisor: z
    .object({ name: text(200), email: z.email().max(320).optional(), phone: text(40).optional() })
    .optional(),
  care_type: text(100).optional(),
  budget_monthly: z.number().min(0).max(1_000_000).optional(),
  move_in_timeframe: text(100).optional(),
  notes: text(10_000).optional(),
});

const StatusReport = z.object({
  type: z.literal('referral.status_changed'),
  referral_id: id,
  status: z.string().min(1).max(100),
  reason: text(2000).optional(),
  changed_at: isoTime,
});

const MoveInReport = z.object({
  type: z.literal('referral.move_in'),
  referral_id: id,
  move_in_date: z.iso.date(),
  monthly_rent: z.number().min(0).max(1_000_000).optional(),
  changed_at: isoTime,
});

export const ReferralWebhook = z.discriminatedUnion('type', [Referral, StatusReport, MoveInReport]);

/** The community a referral names, mapped through config.communities, else the integration's property. */
function propertyFor(context: InboundContext, communityId: string | undefined): string | undefined {
  const communities = context.config.communities as Record<string, string> | undefined;
  return (communityId && communities?.[communityId]) || context.propertyId;
}

export function referralAdapter(
  partner: PartnerName & ('apfm' | 'caring'),
  moveInWord: string,
): PartnerAdapter {
  return {
    partner,
    integration: {
      webhookSecret: { kind: 'generate' },
      config: z.object({ communities: z.record(z.string().max(200), z.string().max(64)).optional() }).loose(),
    },
    inbound: {
      verify: (request, secrets) => verifyStandardWebhook(request, secrets.webhookSecret),
      parse(request, context): InboundEvent[] {
        const body = validate(ReferralWebhook, jsonBody(request));
        const partnerEventId = standardWebhookId(request);
        const find = [{ by: 'external_id' as const, partner, externalId: body.referral_id }];
        switch (body.type) {
          case 'referral.created': {
            const resident = body.resident;
            return [
              {
                partnerEventId,
                eventType: body.type,
                occurredAt: body.referred_at,
                actor: body.advisor ? 'advisor' : undefined,
                lead: {
                  create: compact({
                    firstName: body.contact.first_name,
                    lastName: body.contact.last_name,
                    email: body.contact.email,
                    phone: body.contact.phone,
                    message: body.notes,
                    propertyId: propertyFor(context, body.community_id),
                    externalIds: { [partner]: body.referral_id },
                    customData: compact({
                      referral: compact({
                        partner,
                        referral_id: body.referral_id,
                        community_id: body.community_id,
                        contact_relationship: body.contact.relationship,
                        resident_first_name: resident?.first_name,
                        resident_last_name: resident?.last_name,
                        resident_age: resident?.age,
                        advisor_name: body.advisor?.name,
                        advisor_email: body.advisor?.email,
                        advisor_phone: body.advisor?.phone,
                        care_type: body.care_type,
                        budget_monthly: body.budget_monthly,
                        move_in_timeframe: body.move_in_timeframe,
                      }),
                    }),
                  }),
                },
                events: [],
              },
            ];
          }
          case 'referral.status_changed':
            requireKnownStatus(partner, body.status, 'status');
            return [
              {
                partnerEventId,
                eventType: body.type,
                occurredAt: body.changed_at,
                lead: { find },
                events: [
                  {
                    kind: 'partner_status',
                    partner,
                    value: body.status,
                    reason: body.reason,
                    context: { referral_id: body.referral_id },
                  },
                ],
              },
            ];
          case 'referral.move_in':
            return [
              {
                partnerEventId,
                eventType: body.type,
                occurredAt: body.changed_at,
                lead: { find },
                events: [
                  {
                    kind: 'partner_status',
                    partner,
                    value: moveInWord,
                    reason: 'move-in reported',
                    context: compact({
                      referral_id: body.referral_id,
                      move_in_date: body.move_in_date,
                      monthly_rent: body.monthly_rent,
                    }),
                  },
                ],
              },
            ];
        }
      },
    },
  };
}
