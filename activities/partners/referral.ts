// leadrelay's senior-living referral format, shared by A Place for Mom and Caring.com (neither publishes its
// API). Inbound: referral delivery, status and move-in reports, signed with Standard Webhooks. Outbound: our
// status and move-in reports POSTed to the partner (Bearer API key + Standard Webhooks signature), read back
// with GET /referrals/{id}, and, for communities that poll, new referrals and status changes fetched page by
// page. The contract is docs/partners/apfm.md; each partner differs only in its status words.
import { Webhook } from 'standardwebhooks';
import { z } from 'zod';
import { emailField } from '../../shared/contact';
import { toCanonical, type PartnerName } from '../../shared/lifecycle';
import { PartnerError, joinUrl, jsonOf, partnerRequest, type PartnerResponse } from './http';
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
import type {
  FetchResult,
  InboundEvent,
  InquiryContact,
  OutboundAdapter,
  PartnerAdapter,
  PartnerConnection,
  PushResult,
  StatusPush,
  Upserted,
} from './types';
import { configOf, pollIntervalMinutes, pollLookbackHours, requireFields } from './configFields';

export type ReferralPartner = PartnerName & ('apfm' | 'caring');

const person = z.object({
  first_name: text(200).optional(),
  last_name: text(200).optional(),
  email: emailField.optional(),
  phone: text(40).optional(),
});

/** A referral's fields: the body of `referral.created`, and each item of GET /referrals. */
const referralFields = {
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
  advisor: z.object({ name: text(200), email: emailField.optional(), phone: text(40).optional() }).optional(),
  care_type: text(100).optional(),
  budget_monthly: z.number().min(0).max(1_000_000).optional(),
  move_in_timeframe: text(100).optional(),
  notes: text(10_000).optional(),
};

const Referral = z.object({ type: z.literal('referral.created'), ...referralFields });

/** A referral as the partner's GET /referrals answers it: the referral plus where it stands now. */
export const PolledReferral = z.object({
  ...referralFields,
  status: z.string().min(1).max(100).optional(),
  status_changed_at: isoTime.optional(),
  /** `community` for our own reports (never news to us), `partner` for the partner's. */
  status_reported_by: z.enum(['partner', 'community']).optional(),
  updated_at: isoTime,
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

type ReferralBody = Omit<z.output<typeof Referral>, 'type'>;

/** The integration's config (loose: `referral_fee` terms live there too, read by referral fees). */
export const ReferralConfig = z
  .object({
    communities: z
      .record(z.string().max(200), z.string().max(64))
      .optional()
      .describe("The partner's community id → our property id"),
    base_url: z
      .url({ protocol: /^https?$/ })
      .max(500)
      .optional()
      .describe("The partner's referral API base URL (given with the contract): required for reports"),
    polling: z
      .boolean()
      .default(false)
      .describe('Fetch new referrals and status changes from the partner instead of receiving webhooks'),
    poll_interval_minutes: pollIntervalMinutes('How often the partner is polled, when polling'),
    poll_lookback_hours: pollLookbackHours,
  })
  .loose();

/** All optional: an integration without them only receives webhooks. */
export const ReferralCredentials = z.object({
  api_key: z
    .string()
    .min(1)
    .max(500)
    .optional()
    .describe("The partner's API key for this community (Bearer): required for reports and polling"),
  api_secret: z
    .string()
    .regex(/^whsec_[A-Za-z0-9+/=]+$/)
    .max(500)
    .optional()
    .describe('The Standard Webhooks secret (whsec_…) our reports are signed with: required for reports'),
});

/** Each poll re-reads this much before its cursor (clock skew, late indexing); event ids make repeats no-ops. */
export const REFERRAL_OVERLAP_MS = 5 * 60 * 1000;
const PAGE_SIZE = 100;

/** The community a referral names, mapped through config.communities, else the integration's property. */
function propertyFor(
  where: { config: Record<string, unknown>; propertyId?: string },
  communityId: string | undefined,
): string | undefined {
  const communities = where.config.communities as Record<string, string> | undefined;
  return (communityId && communities?.[communityId]) || where.propertyId;
}

/** The lead a referral creates (or matches): the family contact, with the referral's facts in custom data. */
export function referralInquiry(
  partner: ReferralPartner,
  body: ReferralBody,
  where: { config: Record<string, unknown>; propertyId?: string },
): InquiryContact {
  const resident = body.resident;
  return compact({
    firstName: body.contact.first_name,
    lastName: body.contact.last_name,
    email: body.contact.email,
    phone: body.contact.phone,
    message: body.notes,
    propertyId: propertyFor(where, body.community_id),
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
  });
}

interface ReferralSettings {
  config: z.output<typeof ReferralConfig>;
  base: string;
  apiKey: string;
}

function settingsOf(
  partner: ReferralPartner,
  connection: PartnerConnection,
  needs: { secret: boolean },
): ReferralSettings {
  const config = configOf(partner, ReferralConfig, connection);
  requireFields(partner, 'credentials', [
    ...(connection.credentials.api_key ? [] : ['api_key']),
    ...(needs.secret && !connection.credentials.api_secret ? ['api_secret'] : []),
  ]);
  requireFields(partner, 'config', config.base_url ? [] : ['base_url']);
  return { config, base: config.base_url!, apiKey: connection.credentials.api_key! };
}

/** Our error shape `{ error: { code, message, details } }` as the partner answers it. */
function describeReferralError(response: PartnerResponse): { message: string; code?: string } {
  try {
    const body = JSON.parse(response.text) as {
      error?: {
        code?: string;
        message?: string;
        details?: { fields?: { field: string; message: string }[] };
      };
    };
    const fields = body.error?.details?.fields?.map((f) => `${f.field}: ${f.message}`).join('; ');
    if (body.error?.message) {
      return {
        message: fields ? `${body.error.message} (${fields})` : body.error.message,
        code: body.error.code,
      };
    }
  } catch {
    // not JSON: the raw text below
  }
  return { message: response.text.slice(0, 200) };
}

interface PartnerReferral {
  referral_id: string;
  status?: string;
  status_changed_at?: string;
}

/** One referral as the partner holds it, or undefined when it has none by that id. */
async function readReferral(
  partner: ReferralPartner,
  settings: ReferralSettings,
  connection: PartnerConnection,
  referralId: string,
): Promise<PartnerReferral | undefined> {
  const response = await partnerRequest(partner, connection, {
    method: 'GET',
    url: joinUrl(settings.base, `referrals/${encodeURIComponent(referralId)}`),
    headers: { authorization: `Bearer ${settings.apiKey}` },
    describeError: describeReferralError,
    accept: [404],
  });
  if (response.status === 404) return undefined;
  return jsonOf<PartnerReferral>(partner, response);
}

/** The report body in our format: a move-in for the partner's move-in word, else a status change. */
function reportBody(push: StatusPush, referralId: string, moveInWord: string): Record<string, unknown> {
  const trail = { origin: push.origin, causation_id: push.causationId };
  if (push.value === moveInWord) {
    return {
      type: 'referral.move_in',
      referral_id: referralId,
      move_in_date: push.occurredAt.slice(0, 10),
      changed_at: push.occurredAt,
      ...trail,
    };
  }
  return compact({
    type: 'referral.status_changed',
    referral_id: referralId,
    status: push.value,
    reason: push.reason,
    changed_at: push.occurredAt,
    ...trail,
  });
}

function referralOutbound(partner: ReferralPartner, moveInWord: string): OutboundAdapter {
  async function pushStatus(connection: PartnerConnection, push: StatusPush): Promise<PushResult> {
    const referralId = push.lead.externalId;
    if (!push.value) return { outcome: 'skipped', detail: `${partner} has no stage for ${push.status}` };
    // Referral partners take reports only on their own referrals, which carry their id.
    if (!referralId) {
      return {
        outcome: 'skipped',
        detail: `${partner} takes reports only on its own referrals; this lead has no ${partner} referral id`,
      };
    }
    const settings = settingsOf(partner, connection, { secret: true });
    const body = JSON.stringify(reportBody(push, referralId, moveInWord));
    const at = new Date();
    // The push's idempotency key is the message id: the partner drops a repeat (Standard Webhooks).
    const messageId = push.idempotencyKey;
    const response = await partnerRequest(partner, connection, {
      method: 'POST',
      url: joinUrl(settings.base, `referrals/${encodeURIComponent(referralId)}/status`),
      headers: {
        authorization: `Bearer ${settings.apiKey}`,
        'content-type': 'application/json',
        'webhook-id': messageId,
        'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
        'webhook-signature': new Webhook(connection.credentials.api_secret!).sign(messageId, at, body),
      },
      body,
      describeError: describeReferralError,
    });
    const readBack = await readReferral(partner, settings, connection, referralId);
    if (!readBack || readBack.status !== push.value) {
      return {
        outcome: 'not_applied',
        code: response.status,
        externalId: referralId,
        detail: readBack
          ? `${partner} still shows referral ${referralId} as ${readBack.status ?? '(no status)'}, not ${push.value}`
          : `${partner} accepted the report but has no referral ${referralId}`,
      };
    }
    return { outcome: 'success', code: response.status, externalId: referralId, readBack: 'confirmed' };
  }

  /** Referrals are the partner's records: we never create one; a lead is linked only by its referral id. */
  async function upsertLead(connection: PartnerConnection, lead: StatusPush['lead']): Promise<Upserted> {
    if (!lead.externalId) {
      throw new PartnerError(
        partner,
        'final',
        `${partner} referrals are created by ${partner} only; this lead has no ${partner} referral id`,
        { partnerCode: 'not_a_referral' },
      );
    }
    const settings = settingsOf(partner, connection, { secret: false });
    const found = await readReferral(partner, settings, connection, lead.externalId);
    if (!found) {
      throw new PartnerError(partner, 'final', `${partner} has no referral ${lead.externalId}`, {
        status: 404,
        partnerCode: 'not_found',
      });
    }
    return { externalId: lead.externalId, created: false, code: 200 };
  }

  /** Inbox events of one polled referral: its arrival (when new in this poll) and the partner's status. */
  function referralEvents(
    connection: PartnerConnection,
    item: unknown,
    windowStart: number,
    now: Date,
  ): InboundEvent[] {
    const parsed = PolledReferral.safeParse(item);
    const referralId = (item as { referral_id?: unknown } | null)?.referral_id;
    if (!parsed.success) {
      const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || 'body'))].join(', ');
      return [
        {
          partnerEventId: `${String(referralId)}/invalid@${String((item as { updated_at?: unknown }).updated_at)}`,
          eventType: 'referral.invalid',
          occurredAt: now.toISOString(),
          events: [],
          note: `the partner sent a referral we cannot read: ${fields}`,
        },
      ];
    }
    const referral = parsed.data;
    const events: InboundEvent[] = [];
    const find = [{ by: 'external_id' as const, partner, externalId: referral.referral_id }];
    // Referred since the last poll: an inquiry, once (a stable id, so a re-read of the overlap is a duplicate).
    if (Date.parse(referral.referred_at) >= windowStart) {
      events.push({
        partnerEventId: `${referral.referral_id}/created`,
        eventType: 'referral.created',
        occurredAt: referral.referred_at,
        actor: referral.advisor ? 'advisor' : undefined,
        lead: { create: referralInquiry(partner, referral, connection), find },
        events: [],
      });
    }
    const { status } = referral;
    // Our own reports come back with status_reported_by "community": acknowledgements, not news.
    if (status && referral.status_reported_by !== 'community') {
      const changedAt = referral.status_changed_at ?? referral.updated_at;
      const base = {
        partnerEventId: `${referral.referral_id}/status/${status}@${changedAt}`,
        eventType: 'referral.status_changed',
        occurredAt: changedAt,
      };
      const canonical = toCanonical(partner, status);
      if (canonical === undefined) {
        events.push({
          ...base,
          events: [],
          note: `${partner} status "${status}" is not one of its statuses`,
        });
      } else if (canonical !== 'new') {
        events.push({
          ...base,
          lead: { find },
          events: [
            {
              kind: 'partner_status',
              partner,
              value: status,
              reason: status === moveInWord ? 'move-in reported' : undefined,
              context: { referral_id: referral.referral_id },
            },
          ],
        });
      }
    }
    return events;
  }

  /**
   * Referrals changed since the cursor, one page per call. The cursor is a query string: `since` (where the
   * next poll starts), and while paging `until` (when this poll began) and the partner's `page_token`.
   */
  async function fetchNew(
    connection: PartnerConnection,
    cursor: string | undefined,
    now: Date,
  ): Promise<FetchResult> {
    const config = ReferralConfig.safeParse(connection.config);
    // Communities that receive webhooks are not polled: nothing to fetch, no request.
    if (config.success && !config.data.polling) {
      return { events: [], cursor: cursor ?? now.toISOString(), more: false };
    }
    const settings = settingsOf(partner, connection, { secret: false });
    const state = new URLSearchParams(cursor ?? '');
    const parsedSince = Date.parse(state.get('since') ?? '');
    const since = Number.isNaN(parsedSince)
      ? now.getTime() - settings.config.poll_lookback_hours * 60 * 60 * 1000
      : parsedSince;
    const until = state.get('until') ?? now.toISOString();
    const from = since - REFERRAL_OVERLAP_MS;
    const query = new URLSearchParams({ since: new Date(from).toISOString(), limit: String(PAGE_SIZE) });
    const pageToken = state.get('page_token');
    if (pageToken) query.set('page_token', pageToken);
    const response = await partnerRequest(partner, connection, {
      method: 'GET',
      url: `${joinUrl(settings.base, 'referrals')}?${query.toString()}`,
      headers: { authorization: `Bearer ${settings.apiKey}` },
      describeError: describeReferralError,
    });
    const page = jsonOf<{ referrals?: unknown[]; next_page_token?: string | null }>(partner, response);
    if (!Array.isArray(page.referrals)) {
      throw new PartnerError(partner, 'retryable', `${partner} answered GET /referrals without referrals`, {
        status: response.status,
      });
    }
    const events = page.referrals.flatMap((item) => referralEvents(connection, item, from, now));
    if (page.next_page_token) {
      const next = new URLSearchParams({
        since: new Date(since).toISOString(),
        until,
        page_token: page.next_page_token,
      });
      return { events, cursor: next.toString(), more: true };
    }
    return { events, cursor: new URLSearchParams({ since: until }).toString(), more: false };
  }

  /** An authenticated read of the newest referral: proves base URL and API key. */
  async function testConnection(connection: PartnerConnection): Promise<{ detail: string }> {
    const settings = settingsOf(partner, connection, { secret: false });
    const query = new URLSearchParams({ since: new Date().toISOString(), limit: '1' });
    const response = await partnerRequest(partner, connection, {
      method: 'GET',
      url: `${joinUrl(settings.base, 'referrals')}?${query.toString()}`,
      headers: { authorization: `Bearer ${settings.apiKey}` },
      describeError: describeReferralError,
    });
    jsonOf(partner, response);
    const signing = connection.credentials.api_secret
      ? 'reports will be signed'
      : 'no api_secret: reports off';
    return { detail: `${partner} referral API reachable (${signing})` };
  }

  return { pushStatus, upsertLead, fetchNew, testConnection };
}

export function referralAdapter(partner: ReferralPartner, moveInWord: string): PartnerAdapter {
  return {
    partner,
    integration: {
      webhookSecret: { kind: 'generate' },
      config: ReferralConfig,
      credentials: ReferralCredentials,
    },
    inbound: {
      verify: (request, secrets) => verifyStandardWebhook(request, secrets.webhookSecret),
      parse(request, context): InboundEvent[] {
        const body = validate(ReferralWebhook, jsonBody(request));
        const partnerEventId = standardWebhookId(request);
        const find = [{ by: 'external_id' as const, partner, externalId: body.referral_id }];
        switch (body.type) {
          case 'referral.created':
            return [
              {
                partnerEventId,
                eventType: body.type,
                occurredAt: body.referred_at,
                actor: body.advisor ? 'advisor' : undefined,
                lead: { create: referralInquiry(partner, body, context) },
                events: [],
              },
            ];
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
    outbound: referralOutbound(partner, moveInWord),
  };
}
