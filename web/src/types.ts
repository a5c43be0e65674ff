// The API's answer shapes the dashboard reads (see /openapi.json); only the fields it uses.
import type { WhatIfTotals } from '../../shared/whatif/diff';
import type { LeadWhatIf } from '../../shared/whatif/evaluate';

export interface Bucket {
  conversions: number;
  total_value: number;
}

export interface ConversionAnalytics {
  from_date: string;
  to_date: string;
  timezone: string;
  summary: {
    total_conversions: number;
    total_value: number;
    average_value: number;
    conversion_rate: number;
    contacts_received: number;
    converted_contacts: number;
  };
  by_workspace: ({ workspace_id: string; conversion_rate: number } & Bucket)[];
  by_type: Record<string, number>;
  by_type_value?: Record<string, number>;
  by_property: ({ property_id: string } & Bucket)[];
  trends: {
    daily: ({ date: string } & Bucket)[];
    weekly: ({ week_start: string } & Bucket)[];
    monthly: ({ month: string } & Bucket)[];
  };
}

export interface WorkspaceActivity {
  workspace_id: string;
  total_contacts_received: number;
  total_contacts_sent: number;
  total_conversions: number;
  conversion_rate: number;
}

export interface Workspace {
  workspace_id: string;
  workspace_name: string;
  timezone: string;
}

export interface FunnelBody {
  total_leads: number;
  stages: { stage: string; count: number; conversion_rate: number; rate_from_start: number }[];
  won: { leased: number; placed: number };
  lost: number;
}

export interface FunnelAnswer extends FunnelBody {
  from_date: string;
  to_date: string;
  group_by: string | null;
  groups: ({ key: string } & FunnelBody)[];
}

export interface SpeedToLead {
  leads: number;
  contacted: number;
  not_contacted: number;
  median_seconds: number | null;
  p90_seconds: number | null;
}

export interface Property {
  property_id: string;
  name: string;
  timezone: string;
  vertical: 'senior_living' | 'multifamily';
}

export interface Lead {
  id: string;
  workflow_id: string;
  workspace_id: string;
  status: string;
  property_id: string | null;
  source: string;
  sources: string[];
  external_ids: Record<string, string>;
  first_name: string | null;
  last_name: string | null;
  email: string | null;
  phone: string | null;
  message: string | null;
  custom_data: Record<string, unknown>;
  journey: number;
  created_at: string;
  updated_at: string;
  status_changed_at: string;
  next_follow_up_at: string | null;
  sms_opted_out: boolean | null;
  allowed_next: string[] | null;
  live: boolean;
  /** Pending follow-ups, when the server lists them. */
  /** Pending follow-ups from the live journey, earliest first (null when the journey did not answer). */
  follow_ups?: { name: string; fire_at: string }[] | null;
}

export interface StatusChange {
  id: string;
  old_status: string | null;
  new_status: string;
  status_reason?: string;
  updated_by: string;
  actor?: string;
  entry_type: 'applied' | 'skipped' | 'conflict' | 'refused';
  direction: 'inbound' | 'outbound';
  journey: number;
  context_data: Record<string, unknown>;
  created_at: string;
}

export interface UpdateStatusResult {
  success: boolean;
  new_status: string;
  updated_at: string;
  notifications_sent: number;
  workflow_actions_triggered: string[];
}

export interface ContactConversion {
  conversion_status: string;
  converted_timestamp: string | null;
  custom_metadata: Record<string, unknown>;
  lifetime_value: number;
  conversion_count: number;
}

export interface PartnerSync {
  id: string;
  partner: string;
  status: string;
  partner_value: string | null;
  outcome: 'pending' | 'success' | 'failed' | 'conflict' | 'skipped';
  response_code: number | null;
  error: string | null;
  attempts: number;
  origin: string | null;
  causation_id: string;
  /** What was sent and the partner's receipt (conversions to ad platforms: event name, id, value). */
  response?: {
    sent?: { event_name?: string; event_id?: string; value?: number; currency?: string; client_id?: string };
    [key: string]: unknown;
  } | null;
  created_at: string;
  updated_at: string;
}

export interface Conversion {
  id: string;
  contact_id: string;
  lead_id: string;
  property_id: string | null;
  conversion_type: string;
  conversion_value: number | null;
  currency: string;
  converted_by: string;
  converted_at: string;
}

export interface Notification {
  id: string;
  lead_id: string | null;
  channel: string;
  audience: string;
  recipient: string;
  template: string;
  subject: string | null;
  body: string | null;
  priority: string;
  status: string;
  provider_id: string | null;
  attempts: number;
  error: string | null;
  not_before: string | null;
  created_at: string;
  updated_at: string;
}

export type JsonSchema = {
  type?: string | string[];
  title?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  writeOnly?: boolean;
  readOnly?: boolean;
  examples?: unknown[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  additionalProperties?: boolean | JsonSchema;
};

export interface IntegrationTemplate {
  partner: string;
  name: string;
  category: string;
  description: string;
  capabilities: {
    webhooks: boolean;
    push_status: boolean;
    polling: boolean;
    test_connection: boolean;
    availability?: boolean;
  };
  config_schema: JsonSchema | null;
  credentials_schema: JsonSchema | null;
  webhook_secret: 'generated' | 'credential' | 'none';
  setup_status: 'not_configured' | 'active' | 'paused' | 'error';
  integrations_count: number;
  docs_url?: string;
}

export interface IntegrationHealth {
  status: 'healthy' | 'degraded' | 'failing' | 'idle';
  last_sync_at: string | null;
  last_success_at: string | null;
  last_error: string | null;
  counts?: Record<string, number>;
  [key: string]: unknown;
}

export interface Integration {
  id: string;
  partner: string;
  name: string;
  property_id: string | null;
  status: string;
  config: Record<string, unknown>;
  webhook_url: string | null;
  has_credentials: boolean;
  has_webhook_secret: boolean;
  last_sync_at: string | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  health?: IntegrationHealth;
}

export interface IntegrationCreated extends Integration {
  webhook_secret: string | null;
}

export type ConnectionTest =
  | { ok: true; detail?: string; latency_ms?: number }
  | { ok: false; error: { code: string; message: string; partner_status?: number } };

export interface WorkflowRule {
  id: string;
  property_id: string | null;
  trigger_status: string;
  target_status: string | null;
  conditions: Record<string, unknown>;
  actions: { type: string; config: Record<string, unknown> }[];
  is_active: boolean;
}

/** POST /api/v1/admin/whatif: what a candidate would change on recorded leads. */
export interface WhatIfReport {
  as_of: string;
  window: { from: string; to: string } | null;
  candidate: string[];
  leads: LeadWhatIf[];
  totals: WhatIfTotals;
  next_cursor: string | null;
}

/** An import of existing leads (GET /api/v1/imports/:id). */
export interface ImportProgress {
  id: string;
  kind: 'csv' | 'backfill';
  status: 'queued' | 'running' | 'completed' | 'failed';
  file_name: string | null;
  integration_id: string | null;
  partner: string | null;
  since: string | null;
  property_id: string | null;
  error: string | null;
  rows: {
    total: number;
    read: number;
    pending: number;
    created: number;
    matched: number;
    skipped: number;
    failed: number;
  };
  listing_done: boolean;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  errors_csv: string;
}

export interface ImportRowOutcome {
  row: number;
  outcome: 'pending' | 'created' | 'matched' | 'skipped' | 'failed';
  reason: string | null;
  lead_id: string | null;
}

/** The column check of a file before it starts (POST /api/v1/imports?dry_run=true). */
export interface ImportCheck {
  columns: { name: string; recognized: boolean }[];
  rows: number;
  readable: number;
  problems: { row: number; reason: string }[];
}

export type SequenceChannel = 'email' | 'sms';

export interface SequenceStep {
  wait: string;
  wait_minutes: number;
  channel: SequenceChannel;
  template_id: string;
}

export type SequenceTrigger =
  | { event: 'inquiry'; sources?: string[] }
  | { event: 'no_show' }
  | { event: 'status'; status: string; reasons?: string[] };

export interface SequenceExit {
  statuses: 'any' | string[];
  reply: boolean;
  call: boolean;
  unsubscribe: true;
}

export interface Sequence {
  id: string;
  name: string;
  property_id: string | null;
  trigger: SequenceTrigger;
  steps: SequenceStep[];
  exit_on: SequenceExit;
  is_active: boolean;
  created_at: string;
  updated_at: string;
}

export interface SequenceStepStats {
  step: number;
  channel: SequenceChannel;
  template_id: string;
  wait: string;
  sent: number;
  opened: number;
  clicked: number;
  replied: number;
  open_rate: number | null;
  click_rate: number | null;
  reply_rate: number | null;
}

export interface SequenceAnalytics {
  sequence_id: string;
  enrolments: { active: number; completed: number; exited: number; stopped: number };
  steps: SequenceStepStats[];
}

export interface MessageTemplate {
  id: string;
  name: string;
  channel: SequenceChannel | null;
  subject: string;
  body: string;
  built_in: boolean;
}

export interface EnrolmentMessage {
  delivery_id: string;
  step: number;
  channel: string;
  template: string;
  subject: string;
  status: string;
  not_before: string | null;
  sent_at: string | null;
  opened_at: string | null;
  clicked_at: string | null;
}

export interface Enrolment {
  id: string;
  sequence_id: string;
  sequence_name: string;
  trigger: string;
  state: 'active' | 'completed' | 'exited' | 'stopped';
  step: number;
  steps_total: number;
  next_step_at: string | null;
  exit_reason: string | null;
  replied_at: string | null;
  enrolled_at: string;
  finished_at: string | null;
  messages: EnrolmentMessage[];
}

export interface TourWindow {
  start: string;
  end: string;
}

export interface TourSettings {
  property_id: string;
  timezone: string;
  tour_hours: Partial<Record<'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun', TourWindow[]>> | null;
  tour_slot_minutes: number;
  tour_capacity: number;
  tour_notice_minutes: number;
}

export interface TourSlot {
  start: string;
  end: string;
  available: number;
}

export interface TourSlots {
  property_id: string;
  timezone: string;
  from: string;
  to: string;
  slot_minutes: number;
  capacity: number;
  self_scheduling: boolean;
  busy_source: string | null;
  slots: TourSlot[];
}

export interface Tour {
  id: string;
  lead_id: string;
  property_id: string;
  start: string;
  end: string;
  seat: number;
  status: 'booked' | 'rescheduled' | 'cancelled' | 'held';
  cancel_reason: string | null;
  lead_name?: string | null;
  lead_status?: string;
}

export interface TourCalendar extends TourSettings {
  from: string;
  to: string;
  tours: Tour[];
}
