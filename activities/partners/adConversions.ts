// What the ad-platform conversion adapters (Meta Conversions API, GA4 Measurement Protocol) share: the workspace's
// map of journey stages to conversion events, the value a conversion carries, a stable event id per lead and stage,
// and the normalised, SHA-256-hashed contact fields ad platforms match people by.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { normalizeEmail, toE164 } from '../../shared/contact';
import type { LeadStatus } from '../../shared/lifecycle';
import { perStatus } from './configFields';
import type { PartnerLead, StatusPush } from './types';

/** The config fields of a conversion integration: which stage sends which event, and its value. */
export function conversionConfig(
  platform: string,
  defaults: Partial<Record<LeadStatus, string>>,
  valueEvents: string[],
) {
  return {
    events: perStatus(40, (status) => `${platform} event sent when a lead reaches ${status}`)
      .default(defaults)
      .describe(`Per journey stage, the ${platform} event to send (a stage left out sends nothing)`),
    value_events: z
      .array(z.string().min(1).max(40))
      .max(20)
      .default(valueEvents)
      .describe(
        'Events that carry a value: the conversion value logged for the lead, else the default value',
      ),
    default_value: z
      .number()
      .min(0)
      .max(1e9)
      .optional()
      .describe('Value of a conversion when none was logged'),
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as USD')
      .default('USD')
      .describe('Currency of conversion values'),
  };
}

export interface ConversionSettings {
  events: Partial<Record<LeadStatus, string>>;
  value_events: string[];
  default_value?: number;
  currency: string;
}

export interface Conversion {
  eventName: string;
  /** Stable per lead and stage: a repeated send is recognisably the same conversion. */
  eventId: string;
  /** Unix seconds of the moment the lead reached the stage. */
  eventTime: number;
  value?: number;
  currency: string;
}

const isWon = (status: LeadStatus) => status === 'leased' || status === 'placed';

/** The stage a status belongs to: a lease and a move-in are the same conversion. */
export function conversionStage(status: LeadStatus): string {
  return isWon(status) ? 'won' : status;
}

/** The statuses that count as the same stage as `status` (sent once per lead among them). */
export function sameStage(status: LeadStatus): LeadStatus[] {
  return isWon(status) ? ['leased', 'placed'] : [status];
}

/** The conversion a push makes, or undefined when the workspace maps no event to its stage. */
export function conversionOf(settings: ConversionSettings, push: StatusPush): Conversion | undefined {
  const eventName = settings.events[push.status];
  if (!eventName) return undefined;
  const value = settings.value_events.includes(eventName)
    ? (push.lead.conversionValue ?? settings.default_value)
    : undefined;
  return {
    eventName,
    eventId: `leadrelay.${push.lead.leadId}.${conversionStage(push.status)}`,
    eventTime: Math.floor(Date.parse(push.occurredAt) / 1000),
    ...(value !== undefined ? { value } : {}),
    currency: settings.currency,
  };
}

/** What a form passed in about the visitor (cookies and ids of the ad platforms), kept in custom_data.attribution. */
export interface Attribution {
  ga_client_id?: string;
  ga_session_id?: string;
  fbp?: string;
  fbc?: string;
  /** The event id the page's Meta Pixel used for its Lead event: the server event reuses it (deduplication). */
  fb_event_id?: string;
  user_agent?: string;
  ip_address?: string;
  page_url?: string;
}

export function attributionOf(lead: PartnerLead): Attribution {
  const raw = lead.customData?.attribution;
  if (!raw || typeof raw !== 'object') return {};
  return Object.fromEntries(
    Object.entries(raw as Record<string, unknown>).filter(([, v]) => typeof v === 'string' && v.length > 0),
  ) as Attribution;
}

export const sha256Hex = (value: string) => createHash('sha256').update(value, 'utf8').digest('hex');

/** Email as ad platforms match it: trimmed, lower-cased, hashed. */
export function hashedEmail(email: string | undefined): string | undefined {
  const normalized = normalizeEmail(email);
  return normalized ? sha256Hex(normalized) : undefined;
}

/** Phone as ad platforms match it: digits with the country code, no +, no leading zeros, hashed. */
export function hashedPhone(phone: string | undefined): string | undefined {
  const e164 = toE164(phone);
  const digits = (e164 ?? '').replace(/\D/g, '').replace(/^0+/, '');
  return digits ? sha256Hex(digits) : undefined;
}

/** A name part as ad platforms match it: lower case, no punctuation or spaces, hashed (UTF-8 letters kept). */
export function hashedName(name: string | undefined): string | undefined {
  const normalized = name
    ?.trim()
    .toLowerCase()
    .replace(/[\s\p{P}\p{S}]/gu, '');
  return normalized ? sha256Hex(normalized) : undefined;
}
