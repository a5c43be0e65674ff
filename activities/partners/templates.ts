// Integration templates: what the setup screen shows for each partner. Display metadata is data here, one entry
// per partner; what a partner can do and the forms (JSON Schema) come from its adapter, so they never drift.
import { z } from 'zod';
import type { PartnerName } from '../../shared/lifecycle';
import { partnerAdapter } from './index';
import type { PartnerAdapter } from './types';

export const TEMPLATE_CATEGORIES = [
  'referral',
  'pms',
  'crm',
  'scheduling',
  'calls',
  'messaging',
  'web',
  'ads',
] as const;
export type TemplateCategory = (typeof TEMPLATE_CATEGORIES)[number];

interface TemplateInfo {
  name: string;
  category: TemplateCategory;
  description: string;
  /** Minutes between polls when neither the config nor the schema's default gives `poll_interval_minutes`. */
  pollIntervalMinutes?: number;
}

/** Minutes between polls of a partner whose entry names none. */
export const DEFAULT_POLL_INTERVAL_MINUTES = 15;

// A Record over every partner: adding one to PARTNERS without a template entry does not compile.
export const TEMPLATES: Record<PartnerName, TemplateInfo> = {
  apfm: {
    name: 'A Place for Mom',
    category: 'referral',
    description:
      'Senior-living referrals in, status and move-in reports back. Answer a referral within 2 hours; report move-ins promptly (fees are owed on move-in).',
  },
  caring: {
    name: 'Caring.com',
    category: 'referral',
    description:
      'Senior-living referrals in, status and move-in reports back. Duplicate leads must be reported within 5 business days.',
  },
  resman: {
    name: 'ResMan',
    category: 'pms',
    description:
      'Multifamily property management: prospects and their status pushed to ResMan, changes made in ResMan polled back (or relayed by webhook).',
  },
  hubspot: {
    name: 'HubSpot',
    category: 'crm',
    description:
      'Contacts and their lead status kept in step with each journey; HubSpot webhooks bring changes back.',
  },
  salesforce: {
    name: 'Salesforce',
    category: 'crm',
    description: 'Leads upserted by our external id and their Status field kept in step with each journey.',
  },
  gohighlevel: {
    name: 'GoHighLevel',
    category: 'crm',
    description:
      'Contacts and opportunity stages in a LeadConnector pipeline; GoHighLevel webhooks bring changes back.',
  },
  calendly: {
    name: 'Calendly',
    category: 'scheduling',
    description:
      'Tours booked, rescheduled and cancelled through Calendly move the journey and its reminders.',
  },
  callrail: {
    name: 'CallRail',
    category: 'calls',
    description: 'Calls from tracked numbers become inquiries and contact events, with source and recording.',
  },
  twilio: {
    name: 'Twilio SMS',
    category: 'messaging',
    description:
      'Inbound SMS replies, STOP/START opt-outs and delivery receipts for the texts leadrelay sends.',
  },
  webform: {
    name: 'Website form',
    category: 'web',
    description: "Inquiries posted by the property website's backend, signed with Standard Webhooks.",
  },
  chatbot: {
    name: 'On-site chatbot',
    category: 'web',
    description:
      'Conversation milestones from the website chatbot (tour booked, qualified…) in its own vocabulary.',
  },
  facebook: {
    name: 'Facebook Lead Ads',
    category: 'web',
    description: 'Leads from Facebook lead forms, fetched by their leadgen id when Facebook notifies us.',
  },
  google_calendar: {
    name: 'Google Calendar',
    category: 'scheduling',
    description:
      "Busy time from the property's tour calendars (free/busy): self-scheduled tours are only offered when staff are free.",
  },
  meta_capi: {
    name: 'Meta Conversions API',
    category: 'ads',
    description:
      'Inquiries, tours and move-ins or leases sent back to Meta as conversions (Lead, Schedule, Purchase with value), once per lead and stage.',
  },
  ga4: {
    name: 'Google Analytics 4',
    category: 'ads',
    description:
      'Conversions sent to GA4 through the Measurement Protocol with the client_id the web form passed in, once per lead and stage.',
  },
};

export type WebhookSecretKind = 'generated' | 'credential' | 'none';

export interface TemplateCapabilities {
  webhooks: boolean;
  push_status: boolean;
  polling: boolean;
  test_connection: boolean;
  /** Busy time for tour self-scheduling (calendars). */
  availability: boolean;
}

/** The workspace-independent part of a template, as the API answers it. */
export interface TemplateDefinition {
  partner: PartnerName;
  name: string;
  category: TemplateCategory;
  description: string;
  docs: string;
  capabilities: TemplateCapabilities;
  config_schema: Record<string, unknown>;
  credentials_schema: Record<string, unknown>;
  webhook_secret: WebhookSecretKind;
  /** Which credential holds the partner's webhook secret, when `webhook_secret` is `credential`. */
  webhook_secret_field: string | null;
  /** Minutes between polls unless the config says otherwise; null for partners that are not polled. */
  default_poll_interval_minutes: number | null;
}

export function capabilitiesOf(adapter: PartnerAdapter | undefined): TemplateCapabilities {
  return {
    webhooks: adapter?.inbound !== undefined,
    push_status: adapter?.outbound !== undefined,
    polling: typeof adapter?.outbound?.fetchNew === 'function',
    test_connection:
      typeof adapter?.outbound?.testConnection === 'function' ||
      typeof adapter?.calendar?.testConnection === 'function',
    availability: adapter?.calendar !== undefined,
  };
}

export function isPollable(partner: string): boolean {
  return capabilitiesOf(partnerAdapter(partner)).polling;
}

/** What POST /api/v1/integrations accepts when an adapter has no schema of its own. */
const ANY_OBJECT: Record<string, unknown> = { type: 'object', additionalProperties: {} };

function jsonSchema(schema: z.ZodType | undefined, writeOnly: boolean): Record<string, unknown> {
  if (!schema) return { ...ANY_OBJECT };
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  if (writeOnly) {
    // Secrets go in and never come out: a form may not prefill them, and no answer carries them.
    const properties = (json.properties ?? {}) as Record<string, Record<string, unknown>>;
    for (const field of Object.values(properties)) field.writeOnly = true;
  }
  return json;
}

const definitions = new Map<PartnerName, TemplateDefinition>();

/** A partner's template; built once per process (schemas do not change while it runs). */
export function templateDefinition(partner: PartnerName): TemplateDefinition {
  const known = definitions.get(partner);
  if (known) return known;
  const info = TEMPLATES[partner];
  const adapter = partnerAdapter(partner);
  const capabilities = capabilitiesOf(adapter);
  const policy = adapter?.integration.webhookSecret ?? { kind: 'none' as const };
  const definition: TemplateDefinition = {
    partner,
    name: info.name,
    category: info.category,
    description: info.description,
    docs: `docs/partners/${partner}.md`,
    capabilities,
    config_schema: jsonSchema(adapter?.integration.config, false),
    credentials_schema: jsonSchema(adapter?.integration.credentials, true),
    webhook_secret:
      policy.kind === 'generate' ? 'generated' : policy.kind === 'credential' ? 'credential' : 'none',
    webhook_secret_field: policy.kind === 'credential' ? policy.field : null,
    default_poll_interval_minutes: capabilities.polling ? pollIntervalMinutes(partner, {}) : null,
  };
  definitions.set(partner, definition);
  return definition;
}

/**
 * Minutes between polls: the config's `poll_interval_minutes` (as the partner's schema reads it, defaults
 * included) when it is a whole number ≥ 1, else the template's default.
 */
export function pollIntervalMinutes(partner: PartnerName, config: Record<string, unknown>): number {
  const parsed = partnerAdapter(partner)?.integration.config?.safeParse(config);
  const values = parsed?.success ? (parsed.data as Record<string, unknown>) : config;
  const configured = values.poll_interval_minutes;
  if (typeof configured === 'number' && Number.isInteger(configured) && configured >= 1) return configured;
  return TEMPLATES[partner].pollIntervalMinutes ?? DEFAULT_POLL_INTERVAL_MINUTES;
}
