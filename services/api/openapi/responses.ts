// Answer shapes of the api, as zod schemas for /openapi.json (requests are validated by the routes' own schemas).
import { z } from 'zod';
import { CONVERSION_STATUSES, CONVERSION_TYPES } from '../../../shared/conversions';
import { STATUSES, VERTICALS } from '../../../shared/lifecycle';
import { PARTNERS } from '../../../shared/lifecycle';
import { FEE_TYPES, RECONCILIATION_STATUSES } from '../../../shared/referralFees';
import { ALL_EVENTS, WEBHOOK_EVENT_TYPES } from '../../../shared/webhooks';

const time = z.iso.datetime({ offset: true });
const json = z.record(z.string(), z.unknown());
const status = z.enum(STATUSES);

export const Health = z.object({ status: z.literal('ok') });
export const Ready = z.object({
  status: z.enum(['ready', 'unavailable']),
  checks: z.object({ postgres: z.boolean(), temporal: z.boolean() }),
});

export const WorkspaceCreated = z.object({ workspace_id: z.string(), api_key: z.string() });
export const Workspace = z
  .object({
    workspace_id: z.string(),
    workspace_name: z.string(),
    timezone: z.string(),
    rate_limit_per_hour: z.number().int(),
    created_at: time,
  })
  .meta({ id: 'Workspace' });

export const WorkspaceActivity = z.object({
  workspace_id: z.string(),
  total_contacts_received: z.number().int(),
  total_contacts_sent: z.number().int(),
  total_conversions: z.number().int(),
  total_conversion_value: z.number(),
  converted_contacts: z.number().int(),
  conversion_rate: z.number().meta({ description: 'percent of contacts received that converted' }),
  recent_activity: z.array(
    z.object({
      action: z.enum(['received', 'sent', 'converted', 'updated']),
      contact_id: z.string().nullable(),
      timestamp: time,
      metadata: json,
    }),
  ),
  from_date: time,
  to_date: time,
});

export const Property = z
  .object({
    property_id: z.string(),
    workspace_id: z.string(),
    name: z.string(),
    timezone: z.string(),
    vertical: z.enum(VERTICALS),
    us_state: z.string().nullable(),
    created_at: time,
    updated_at: time,
  })
  .meta({ id: 'Property' });
export const PropertyList = z.object({ properties: z.array(Property) });

export const LeadCreated = z.object({
  id: z.uuid(),
  workflow_id: z.string(),
  status,
  matched: z.boolean(),
});

export const Lead = z
  .object({
    id: z.uuid(),
    workflow_id: z.string(),
    workspace_id: z.string(),
    status,
    property_id: z.string().nullable(),
    source: z.string().meta({ description: 'the attributed (first) source' }),
    sources: z.array(z.string()),
    external_ids: z.record(z.string(), z.string()),
    first_name: z.string().nullable(),
    last_name: z.string().nullable(),
    email: z.string().nullable(),
    phone: z.string().nullable(),
    message: z.string().nullable(),
    custom_data: json,
    journey: z.number().int(),
    created_at: time,
    updated_at: time,
    status_changed_at: time,
    next_follow_up_at: time.nullable(),
    follow_ups: z
      .array(z.object({ name: z.string(), fire_at: time }))
      .nullable()
      .meta({
        description: 'pending follow-ups from the live journey, earliest first; null when it did not answer',
      }),
    sms_opted_out: z.boolean().nullable(),
    allowed_next: z.array(status).nullable(),
    live: z.boolean(),
  })
  .loose()
  .meta({ id: 'Lead' });
export const LeadList = z.object({ leads: z.array(Lead), next_cursor: z.string().nullable() });

/** Seed 001 UpdateStatusResponse. */
export const UpdateStatusResponse = z.object({
  success: z.boolean(),
  new_status: status,
  updated_at: time,
  notifications_sent: z.number().int(),
  workflow_actions_triggered: z.array(z.string()),
});

/** Seed 001 StatusHistoryResponse. */
export const StatusHistoryResponse = z.object({
  status_changes: z.array(
    z.object({
      id: z.string(),
      old_status: status.nullable(),
      new_status: status,
      status_reason: z.string().optional(),
      updated_by: z.string(),
      actor: z.string().optional(),
      entry_type: z.enum(['applied', 'skipped', 'conflict', 'refused']),
      direction: z.enum(['inbound', 'outbound']),
      journey: z.number().int(),
      context_data: json,
      created_at: time,
    }),
  ),
  total_count: z.number().int(),
});

const PartnerSync = z.object({
  id: z.uuid(),
  partner: z.string(),
  integration_id: z.uuid().nullable(),
  status: status.meta({ description: 'the canonical status pushed' }),
  partner_value: z.string().nullable().meta({ description: 'the partner’s word for it' }),
  outcome: z.enum(['pending', 'success', 'failed', 'conflict', 'skipped']),
  response_code: z.number().int().nullable().meta({ description: 'the partner’s HTTP status' }),
  error: z.string().nullable(),
  attempts: z.number().int(),
  origin: z.string().nullable().meta({ description: 'where the change came from (staff, partner:resman…)' }),
  causation_id: z.string().meta({ description: 'the event that caused the push' }),
  external_id: z.string().nullable().meta({ description: 'the partner’s id of the lead' }),
  read_back: z.enum(['confirmed', 'not_supported']).nullable(),
  created_at: time,
  updated_at: time,
  finished_at: time.nullable(),
});

export const PartnerSyncList = z.object({ syncs: z.array(PartnerSync) });
export const PartnerSyncRepushed = z.object({ repushed: z.literal(true), sync: PartnerSync });

export const Conversion = z
  .object({
    id: z.uuid(),
    conversion_id: z.string().nullable().meta({ description: 'the client’s own id, if it sent one' }),
    contact_id: z.uuid(),
    lead_id: z.uuid(),
    workspace_id: z.string(),
    property_id: z.string().nullable(),
    conversion_type: z.enum(CONVERSION_TYPES),
    conversion_value: z.number().nullable(),
    currency: z.string(),
    converted_by: z.string(),
    converted_at: time,
    custom_data: json,
    created_at: time,
  })
  .meta({ id: 'Conversion' });
export const ConversionLogged = Conversion.extend({
  duplicate: z.boolean().meta({ description: 'true when this answers a repeated post (200)' }),
});
export const ConversionList = z.object({
  conversions: z.array(Conversion),
  total_count: z.number().int(),
  next_cursor: z.string().nullable(),
});

const bucket = { conversions: z.number().int(), total_value: z.number() };
export const ConversionAnalytics = z.object({
  from_date: time,
  to_date: time,
  timezone: z.string(),
  summary: z.object({
    total_conversions: z.number().int(),
    total_value: z.number(),
    average_value: z.number(),
    conversion_rate: z
      .number()
      .meta({ description: 'percent of contacts received in the range that converted' }),
    contacts_received: z.number().int(),
    converted_contacts: z.number().int(),
  }),
  by_workspace: z.array(z.object({ workspace_id: z.string(), ...bucket, conversion_rate: z.number() })),
  by_type: z.record(z.string(), z.number().int()),
  by_type_value: z.record(z.string(), z.number()),
  by_property: z.array(z.object({ property_id: z.string(), ...bucket })),
  trends: z.object({
    daily: z.array(z.object({ date: z.iso.date(), ...bucket })),
    weekly: z.array(z.object({ week_start: z.iso.date(), ...bucket })),
    monthly: z.array(z.object({ month: z.string(), ...bucket })),
  }),
});

export const ContactConversion = z.object({
  contact_id: z.uuid(),
  workspace_id: z.string(),
  conversion_status: z.enum(CONVERSION_STATUSES),
  converted_timestamp: time.nullable(),
  converted_by: z.string().nullable(),
  sent_from_workspace: z.string().nullable(),
  converted_from_workspace: z.string().nullable(),
  custom_metadata: json,
  lifetime_value: z.number(),
  conversion_count: z.number().int(),
  updated_at: time,
});

const range = {
  from_date: time,
  to_date: time,
  group_by: z.enum(['source', 'partner', 'property']).nullable(),
};
const funnelBody = {
  total_leads: z.number().int(),
  stages: z.array(
    z.object({
      stage: z.string(),
      count: z.number().int(),
      conversion_rate: z.number().meta({ description: 'percent of the previous stage' }),
      rate_from_start: z.number().meta({ description: 'percent of the first stage' }),
    }),
  ),
  won: z.object({ leased: z.number().int(), placed: z.number().int() }),
  lost: z.number().int(),
};
export const Funnel = z.object({
  ...range,
  ...funnelBody,
  groups: z.array(z.object({ key: z.string(), ...funnelBody })),
});

const stay = z.object({
  status,
  stays: z.number().int(),
  open: z.number().int(),
  average_seconds: z.number().nullable(),
  median_seconds: z.number().nullable(),
  p90_seconds: z.number().nullable(),
});
export const TimeInStatus = z.object({
  ...range,
  unit: z.literal('seconds'),
  average_time_in_status: z.record(z.string(), z.number().nullable()),
  statuses: z.array(stay),
  groups: z.array(z.object({ key: z.string(), statuses: z.array(stay) })),
});

const transition = z.object({ from: status, to: status, count: z.number().int() });
export const Transitions = z.object({
  ...range,
  total_status_changes: z.number().int(),
  most_common_transitions: z.array(transition),
  groups: z.array(
    z.object({
      key: z.string(),
      total_status_changes: z.number().int(),
      most_common_transitions: z.array(transition),
    }),
  ),
});

const speed = {
  leads: z.number().int(),
  contacted: z.number().int(),
  not_contacted: z.number().int(),
  average_seconds: z.number().nullable(),
  median_seconds: z.number().nullable(),
  p90_seconds: z.number().nullable(),
};
export const SpeedToLead = z.object({
  ...range,
  unit: z.literal('seconds'),
  ...speed,
  groups: z.array(z.object({ key: z.string(), ...speed })),
});

export const Integration = z
  .object({
    id: z.uuid(),
    workspace_id: z.string(),
    partner: z.enum(PARTNERS),
    name: z.string(),
    property_id: z.string().nullable(),
    status: z.string(),
    config: json,
    webhook_url: z.string().nullable(),
    has_credentials: z.boolean(),
    has_webhook_secret: z.boolean(),
    last_sync_at: time.nullable(),
    last_error: z.string().nullable(),
    created_at: time,
    updated_at: time,
  })
  .loose()
  .meta({ id: 'Integration' });
export const IntegrationCreated = Integration.extend({
  webhook_secret: z.string().nullable().meta({ description: 'shown once' }),
});
export const IntegrationList = z.object({ integrations: z.array(Integration) });

export const InboxEvent = z
  .object({
    id: z.uuid(),
    workspace_id: z.string(),
    integration_id: z.string().nullable(),
    partner: z.string(),
    partner_event_id: z.string(),
    event_type: z.string().nullable(),
    status: z.string(),
    lead_id: z.string().nullable(),
    attempts: z.number().int(),
    last_error: z.string().nullable(),
    received_at: time,
    delivered_at: time.nullable(),
  })
  .loose()
  .meta({ id: 'InboxEvent' });
export const InboxList = z.object({ events: z.array(InboxEvent), next_cursor: z.string().nullable() });
export const InboxReplayResult = z.object({}).loose();
export const InboxWindowReplay = z.object({
  replayed: z.number().int(),
  counts: z.record(z.string(), z.number().int()),
  results: z.array(z.object({}).loose()),
});

export const ReferralFee = z
  .object({
    id: z.uuid(),
    workspace_id: z.string(),
    lead_id: z.uuid(),
    journey: z.number().int(),
    partner: z.string().meta({ description: 'the attributed (first) referral source' }),
    property_id: z.string().nullable(),
    won_status: z.enum(['placed', 'leased']),
    won_at: time,
    terms_source: z.enum(['integration', 'terms', 'none']),
    fee_type: z.enum(FEE_TYPES).nullable(),
    rate: z.number().nullable(),
    monthly_rent: z.number().nullable(),
    amount: z.number().nullable().meta({ description: 'null until known (terms missing, or rent unknown)' }),
    currency: z.string(),
    status: z.enum(RECONCILIATION_STATUSES),
    allowed_next: z.array(z.enum(RECONCILIATION_STATUSES)),
    invoice_number: z.string().nullable(),
    notes: z.string().nullable(),
    reported_at: time.nullable(),
    invoiced_at: time.nullable(),
    paid_at: time.nullable(),
    disputed_at: time.nullable(),
    created_at: time,
    updated_at: time,
  })
  .meta({ id: 'ReferralFee' });

export const ReferralFeeList = z.object({
  referral_fees: z.array(ReferralFee),
  total_count: z.number().int(),
  summary: z.array(
    z.object({
      partner: z.string(),
      fees: z.number().int(),
      total_amount: z.number(),
      owed: z.number().meta({ description: 'pending, reported or invoiced (not paid, not disputed)' }),
      unknown_amounts: z.number().int(),
      by_status: z.record(z.string(), z.number().int()),
    }),
  ),
  next_cursor: z.string().nullable(),
});

export const FeeTerms = z.object({
  partner: z.string(),
  fee_type: z.enum(FEE_TYPES),
  amount: z.number(),
  currency: z.string(),
  updated_at: time,
});
export const FeeTermsList = z.object({ terms: z.array(FeeTerms) });

export const WebhookEndpoint = z
  .object({
    id: z.uuid(),
    workspace_id: z.string(),
    name: z.string(),
    url: z.string(),
    events: z.array(z.enum([...WEBHOOK_EVENT_TYPES, ALL_EVENTS])),
    status: z.enum(['active', 'disabled']),
    disabled_reason: z.string().nullable(),
    failing_since: time.nullable(),
    last_success_at: time.nullable(),
    last_failure_at: time.nullable(),
    previous_secret_expires_at: time
      .nullable()
      .meta({ description: 'after a rotation, the old secret also signs until then' }),
    created_at: time,
    updated_at: time,
  })
  .meta({ id: 'WebhookEndpoint' });
export const WebhookEndpointWithSecret = WebhookEndpoint.extend({
  secret: z.string().meta({ description: 'whsec_… signing secret, shown once' }),
});
export const WebhookEndpointList = z.object({
  webhook_endpoints: z.array(WebhookEndpoint),
  event_types: z.array(z.string()),
});
export const WebhookTestQueued = z.object({ message_id: z.uuid(), event_type: z.literal('webhook.test') });
export const WebhookDeliveries = z.object({
  deliveries: z.array(
    z.object({
      id: z.uuid(),
      message_id: z.uuid().meta({ description: 'also the webhook-id header, the same on every attempt' }),
      event_type: z.string(),
      lead_id: z.string().nullable(),
      attempt: z.number().int(),
      success: z.boolean(),
      status_code: z.number().int().nullable(),
      error: z.string().nullable(),
      response_body: z.string().nullable(),
      duration_ms: z.number().int(),
      next_attempt_at: time.nullable(),
      created_at: time,
    }),
  ),
  next_cursor: z.string().nullable(),
});

export const NotificationPreference = z
  .object({
    id: z.uuid(),
    property_id: z.string().nullable(),
    status_type: z.string(),
    notification_method: z.enum(['email', 'sms', 'slack', 'in_app']),
    recipients: z.array(z.string()),
    template_id: z.string().nullable(),
    is_active: z.boolean(),
    created_at: time,
  })
  .loose()
  .meta({ id: 'NotificationPreference' });
export const NotificationPreferenceList = z.object({ preferences: z.array(NotificationPreference) });

const workflowRuleFields = {
  id: z.uuid(),
  property_id: z.string().nullable(),
  trigger_status: status,
  target_status: status.nullable(),
  conditions: json,
  actions: z.array(json),
  is_active: z.boolean(),
};
export const WorkflowRule = z
  .object({ ...workflowRuleFields, created_at: time })
  .loose()
  .meta({ id: 'WorkflowRule' });
/** Seed 001 GetWorkflowsResponse. */
export const WorkflowRuleList = z.object({ workflows: z.array(z.object(workflowRuleFields).loose()) });
