// The catalogue of every route the api service mounts, with its zod schemas: the source of /openapi.json.
// A test compares it with the routes the app really mounts, both ways, so a new route without an entry fails.
import { z } from 'zod';
import { ListInboxQuery, ReplayWindowBody } from '../routes/inbox';
import { RotateKeysBody, RotationReport } from '../routes/admin';
import {
  ConnectionTestAnswer,
  CreateIntegrationBody,
  IntegrationHealth,
  IntegrationTemplate,
  SyncStarted,
  TemplatesQuery,
  UpdateIntegrationBody,
} from '../routes/integrations';
import { CreateLeadBody, HistoryQuery, ListLeadsQuery, UpdateStatusBody } from '../routes/leads';
import { AnalyticsQuery, TransitionsQuery } from '../routes/analytics';
import { CodecBody, CodecSessionBody } from '../routes/codec';
import { ContactConversionBody } from '../routes/contacts';
import { CreatePreferenceBody, UpdatePreferenceBody } from '../routes/notifications';
import { StreamQuery } from '../routes/events';
import { CreateWorkflowRuleBody } from '../routes/workflowRules';
import { FeeTermsBody, ListReferralFeesQuery, UpdateReferralFeeBody } from '../routes/referralFees';
import {
  CreateEndpointBody,
  DeliveriesQuery,
  RotateSecretBody,
  UpdateEndpointBody,
} from '../routes/webhookEndpoints';
import { ConversionAnalyticsQuery, ListConversionsQuery, LogConversionBody } from '../routes/conversions';
import {
  CreatePropertyBody,
  CreateWorkspaceBody,
  UpdateWorkspaceBody,
  WorkspaceActivityQuery,
} from '../routes/workspaces';
import type { Operation } from './document';
import * as r from './responses';

const idempotency = {
  name: 'Idempotency-Key',
  description: 'Repeating a request with the same key applies it once and answers the first result.',
};

const analytics = (
  path: string,
  summary: string,
  description: string,
  schema: z.ZodType,
  query: z.ZodObject = AnalyticsQuery,
): Operation => ({
  method: 'get',
  path: `/api/v1/analytics/${path}`,
  tag: 'analytics',
  summary,
  description: `${description} \`from_date\` defaults to 90 days before \`to_date\` (default now); a bare date is a whole day in the workspace's time zone. \`group_by\`: source (attributed), partner (every partner that touched the lead) or property. Send \`Accept: text/csv\` for CSV.`,
  auth: 'api_key',
  permission: 'read',
  query,
  responses: { 200: { description: summary, schema, csv: true } },
});

const IntegrationWithHealth = r.Integration.extend({ health: IntegrationHealth }).meta({
  id: 'IntegrationWithHealth',
});

export const OPERATIONS: Operation[] = [
  // ---- service ----
  {
    method: 'get',
    path: '/healthz',
    tag: 'service',
    summary: 'Process is up',
    auth: 'none',
    responses: { 200: { description: 'up', schema: r.Health } },
  },
  {
    method: 'get',
    path: '/readyz',
    tag: 'service',
    summary: 'Temporal and Postgres are reachable',
    auth: 'none',
    responses: {
      200: { description: 'ready', schema: r.Ready },
      503: { description: 'a dependency is unreachable', schema: r.Ready },
    },
  },
  {
    method: 'get',
    path: '/openapi.json',
    tag: 'service',
    summary: 'This document',
    auth: 'none',
    responses: { 200: { description: 'OpenAPI 3.1 document', schema: z.object({}).loose() } },
  },
  {
    method: 'get',
    path: '/docs',
    tag: 'service',
    summary: 'Interactive API documentation',
    auth: 'none',
    responses: { 200: { description: 'HTML page', html: true } },
  },
  {
    method: 'get',
    path: '/metrics',
    tag: 'service',
    summary: 'Prometheus metrics of this process',
    description:
      'Prometheus text format: HTTP requests and latency by route and status, process metrics, and the worker-side counters when they run in this process. See docs/metrics.md. Keep it off the public proxy: scrape it on the service port.',
    auth: 'none',
    responses: { 200: { description: 'text/plain; version=0.0.4 (Prometheus exposition format)' } },
  },

  // ---- codec (operators: the Temporal Web UI and CLI decrypt payloads here) ----
  {
    method: 'get',
    path: '/codec',
    tag: 'codec',
    summary: 'Operator sign-in page of the codec endpoint',
    description:
      'A form taking the admin token; signing in sets a 12-hour session cookie the Temporal Web UI sends when its codec setting "Include cross-origin credentials" is on. See docs/codec.md.',
    auth: 'none',
    responses: { 200: { description: 'HTML page', html: true } },
  },
  {
    method: 'post',
    path: '/codec/session',
    tag: 'codec',
    summary: 'Sign in to the codec endpoint (sets the session cookie)',
    description:
      'The admin token as the form field `token` (application/x-www-form-urlencoded or JSON) or as a bearer token. Answers an HTML page and `Set-Cookie: leadrelay_codec=…; Path=/codec; HttpOnly`.',
    auth: 'admin_token',
    body: CodecSessionBody,
    responses: { 200: { description: 'signed in (HTML page)', html: true } },
  },
  {
    method: 'post',
    path: '/codec/decode',
    tag: 'codec',
    summary: 'Decrypt Temporal payloads (remote codec protocol)',
    description:
      'Temporal\'s codec server protocol: `{ payloads: [...] }` as proto3 JSON (metadata values and data base64), answered in the same shape. Encrypted payloads (`encoding: binary/encrypted`) come back as they were before encryption; others pass through. Auth: the admin token as a bearer token (CLI `--codec-auth "Bearer …"`) or the session cookie of POST /codec/session. CORS: the Temporal UI\'s origin (TEMPORAL_UI_URL) may call with credentials; the UI sends `X-Namespace`.',
    auth: 'admin_token',
    body: CodecBody,
    responses: {
      200: { description: 'the decoded payloads, in order', schema: CodecBody },
    },
  },
  {
    method: 'post',
    path: '/codec/encode',
    tag: 'codec',
    summary: 'Encrypt Temporal payloads (remote codec protocol)',
    description:
      'The inverse of /codec/decode, for inputs the UI or CLI sends (start, signal): payloads come back encrypted with the first key of LEADRELAY_ENCRYPTION_KEYS.',
    auth: 'admin_token',
    body: CodecBody,
    responses: { 200: { description: 'the encrypted payloads, in order', schema: CodecBody } },
  },

  // ---- dashboard ----
  {
    method: 'get',
    path: '/app',
    tag: 'dashboard',
    summary: 'The staff dashboard (single-page app built from web/)',
    description:
      'Static files under /app; any other /app/… path without a file extension answers the same page (client-side routes). The page calls this API with the API key the user logs in with. Answers 503 with instructions when the app has not been built (`npm run build:web`).',
    auth: 'none',
    responses: {
      200: { description: 'HTML page', html: true },
      503: { description: 'not built yet: how to build it', html: true },
    },
  },
  {
    method: 'get',
    path: '/app/config.json',
    tag: 'dashboard',
    summary: 'Runtime settings of the dashboard',
    description:
      'Where the Temporal Web UI is (TEMPORAL_UI_URL) and the namespace, for links to a lead’s run: `<temporal_ui_url>/namespaces/<namespace>/workflows/<url-encoded workflow_id>`.',
    auth: 'none',
    responses: {
      200: {
        description: 'settings',
        schema: z.object({
          temporal_ui_url: z.string(),
          temporal_namespace: z.string(),
          api_base: z.string(),
        }),
      },
    },
  },
  {
    method: 'get',
    path: '/api/v1/events/stream',
    tag: 'dashboard',
    summary: 'Live feed: status changes and conversions as server-sent events',
    description:
      'A `text/event-stream` of the workspace’s events as they commit. First `event: ready` with `{ workspace_id, permissions, resumed, types }`; then `event: status_changed` (`{ id, type, lead_id, history_id, entry_type: applied|conflict, old_status, new_status, source, direction, journey, at }`) and `event: conversion_logged` (`{ id, type, lead_id, conversion_id, property_id, conversion_type, conversion_value, currency, at }`); no contact details. Each event has an `id`; reconnect with the `Last-Event-ID` header to resume after it, in order, with nothing missed (within the 7 days kept). A `: keep-alive` comment comes every `heartbeat` seconds. Browsers read it with fetch (EventSource cannot send the Authorization header).',
    auth: 'api_key',
    permission: 'read',
    query: StreamQuery,
    headers: [
      {
        name: 'Last-Event-ID',
        description: 'The id of the last event received: the stream resumes after it.',
      },
    ],
    responses: {
      200: { description: 'the event stream (text/event-stream); it stays open' },
    },
  },

  // ---- workspaces ----
  {
    method: 'post',
    path: '/api/v1/workspaces',
    tag: 'workspaces',
    summary: 'Register a workspace',
    description: 'Answers the workspace’s first API key, once; keys are stored hashed.',
    auth: 'admin_token',
    body: CreateWorkspaceBody,
    responses: { 201: { description: 'registered', schema: r.WorkspaceCreated } },
  },
  {
    method: 'patch',
    path: '/api/v1/workspaces/:id',
    tag: 'workspaces',
    summary: 'Change a workspace’s settings (name, time zone, rate limit)',
    auth: 'admin_token',
    body: UpdateWorkspaceBody,
    responses: { 200: { description: 'updated', schema: r.Workspace } },
  },
  {
    method: 'get',
    path: '/api/v1/workspaces/:id',
    tag: 'workspaces',
    summary: 'The caller’s workspace',
    auth: 'api_key',
    permission: 'read',
    responses: { 200: { description: 'the workspace', schema: r.Workspace } },
  },
  {
    method: 'get',
    path: '/api/v1/workspaces/:id/activity',
    tag: 'workspaces',
    summary: 'Workspace activity (seed 004)',
    description:
      'Contacts received (leads created) and sent (marked with sent_from_workspace), conversions, the conversion rate and the latest actions. Range defaults to all time.',
    auth: 'api_key',
    permission: 'read',
    query: WorkspaceActivityQuery,
    responses: { 200: { description: 'activity', schema: r.WorkspaceActivity } },
  },

  // ---- properties ----
  {
    method: 'post',
    path: '/api/v1/properties',
    tag: 'properties',
    summary: 'Create a property (time zone, vertical)',
    auth: 'api_key',
    permission: 'admin',
    body: CreatePropertyBody,
    responses: { 201: { description: 'created', schema: r.Property } },
  },
  {
    method: 'get',
    path: '/api/v1/properties',
    tag: 'properties',
    summary: 'List properties',
    auth: 'api_key',
    permission: 'read',
    responses: { 200: { description: 'properties', schema: r.PropertyList } },
  },
  {
    method: 'get',
    path: '/api/v1/properties/:id',
    tag: 'properties',
    summary: 'Get a property',
    auth: 'api_key',
    permission: 'read',
    responses: { 200: { description: 'the property', schema: r.Property } },
  },

  // ---- leads ----
  {
    method: 'post',
    path: '/api/v1/leads',
    tag: 'leads',
    summary: 'Create a lead or match an existing one',
    description:
      'Matched by partner external id, then normalized email, then E.164 phone: 201 new, 200 matched.',
    auth: 'api_key',
    permission: 'update',
    body: CreateLeadBody,
    headers: [idempotency],
    responses: {
      201: { description: 'a new lead', schema: r.LeadCreated },
      200: { description: 'matched an existing lead', schema: r.LeadCreated },
    },
  },
  {
    method: 'get',
    path: '/api/v1/leads',
    tag: 'leads',
    summary: 'Search leads',
    auth: 'api_key',
    permission: 'read',
    query: ListLeadsQuery,
    responses: { 200: { description: 'a page of leads', schema: r.LeadList } },
  },
  {
    method: 'get',
    path: '/api/v1/leads/:id',
    tag: 'leads',
    summary: 'A lead with its live journey state',
    auth: 'api_key',
    permission: 'read',
    responses: { 200: { description: 'the lead', schema: r.Lead } },
  },
  {
    method: 'put',
    path: '/api/v1/leads/:id/status',
    tag: 'leads',
    summary: 'Change a lead’s status (seed 001 UpdateStatusRequest)',
    auth: 'api_key',
    permission: 'update',
    body: UpdateStatusBody,
    headers: [idempotency],
    responses: {
      200: { description: 'applied', schema: r.UpdateStatusResponse },
      409: { description: '`invalid_transition` (details: from, to, allowed) or `status_not_available`' },
      422: { description: '`missing_fields` (details: missing)' },
    },
  },
  {
    method: 'get',
    path: '/api/v1/leads/:id/status-history',
    tag: 'leads',
    summary: 'A lead’s status history (seed 001 StatusHistoryResponse)',
    auth: 'api_key',
    permission: 'read',
    query: HistoryQuery,
    responses: { 200: { description: 'history', schema: r.StatusHistoryResponse } },
  },
  {
    method: 'get',
    path: '/api/v1/leads/:id/syncs',
    tag: 'leads',
    summary: 'A lead’s partner pushes and their outcomes',
    description:
      'One row per status push to a partner: pending (queued or retrying), success (with read-back), failed ' +
      '(final partner error or a write the partner ignored; a staff task is open), conflict, skipped.',
    auth: 'api_key',
    permission: 'read',
    responses: { 200: { description: 'syncs', schema: r.PartnerSyncList } },
  },
  {
    method: 'post',
    path: '/api/v1/leads/:id/syncs/:syncId/repush',
    tag: 'leads',
    summary: 'Push a failed or conflicting sync again',
    description:
      'Reopens the sync and hands it to the lead’s journey, which pushes it in order with that partner’s others.',
    auth: 'api_key',
    permission: 'update',
    responses: {
      202: { description: 'queued', schema: r.PartnerSyncRepushed },
      409: { description: '`conflict`: the sync is pending, successful or skipped' },
    },
  },

  // ---- integrations ----
  {
    method: 'post',
    path: '/api/v1/integrations',
    tag: 'integrations',
    summary: 'Connect a partner',
    description: 'Answers the webhook URL and, once, the webhook secret.',
    auth: 'api_key',
    permission: 'admin',
    body: CreateIntegrationBody,
    responses: { 201: { description: 'created', schema: r.IntegrationCreated } },
  },
  {
    method: 'get',
    path: '/api/v1/integrations',
    tag: 'integrations',
    summary: 'List integrations with their health',
    auth: 'api_key',
    permission: 'read',
    query: z.object({ partner: CreateIntegrationBody.shape.partner.optional() }),
    responses: {
      200: {
        description: 'integrations',
        schema: z.object({ integrations: z.array(IntegrationWithHealth) }),
      },
    },
  },
  {
    method: 'get',
    path: '/api/v1/integrations/:id',
    tag: 'integrations',
    summary: 'Get an integration with its health',
    description:
      'Health: healthy, degraded, failing or idle from the last 24 hours (partner_syncs by outcome, events received, polls failed in a row) and, for polled partners, the poll schedule. Never secrets or credentials.',
    auth: 'api_key',
    permission: 'read',
    responses: { 200: { description: 'the integration', schema: IntegrationWithHealth } },
  },
  {
    method: 'patch',
    path: '/api/v1/integrations/:id',
    tag: 'integrations',
    summary: 'Change an integration (name, property, config, credentials, active/paused)',
    description:
      "`config` and `credentials` each replace the whole object and are validated by the partner's schemas (errors name fields as `config.base_url`). Credentials are write-only. Pausing pauses the poll schedule; new config or credentials (or `status: active`) lift an integration out of `error`. A config change other than `poll_interval_minutes` restarts polling from the configured look-back (already stored events are not stored twice).",
    auth: 'api_key',
    permission: 'admin',
    body: UpdateIntegrationBody,
    responses: { 200: { description: 'updated', schema: IntegrationWithHealth } },
  },
  {
    method: 'delete',
    path: '/api/v1/integrations/:id',
    tag: 'integrations',
    summary: 'Delete an integration (and its poll schedule)',
    auth: 'api_key',
    permission: 'admin',
    responses: { 204: { description: 'deleted' } },
  },
  {
    method: 'post',
    path: '/api/v1/integrations/test',
    tag: 'integrations',
    summary: 'Test a connection before saving it',
    description:
      'The body of creating an integration; nothing is stored. A partner refusing us is an answer (`ok: false` with its own message and HTTP status), not an error of ours.',
    auth: 'api_key',
    permission: 'admin',
    body: CreateIntegrationBody,
    responses: {
      200: { description: 'the test ran', schema: ConnectionTestAnswer },
      409: { description: '`not_testable`: the partner only sends webhooks' },
    },
  },
  {
    method: 'post',
    path: '/api/v1/integrations/:id/test',
    tag: 'integrations',
    summary: 'Test a saved connection',
    description:
      'Records last_test_at and, on failure, last_error. A passing test lifts an integration out of `error` and resumes its polls.',
    auth: 'api_key',
    permission: 'admin',
    responses: {
      200: { description: 'the test ran', schema: ConnectionTestAnswer },
      409: { description: '`not_testable`: the partner only sends webhooks' },
    },
  },
  {
    method: 'post',
    path: '/api/v1/integrations/:id/sync',
    tag: 'integrations',
    summary: 'Sync now: poll the partner through its schedule',
    auth: 'api_key',
    permission: 'admin',
    responses: {
      202: { description: 'started (or already running)', schema: SyncStarted },
      409: {
        description: '`not_pollable` (the partner sends webhooks), or `conflict` when paused or in error',
      },
    },
  },
  {
    method: 'get',
    path: '/api/v1/integration-templates',
    tag: 'integrations',
    summary: 'Integration templates: one per partner, with setup forms as JSON Schema',
    description:
      "config_schema and credentials_schema are JSON Schema (2020-12) generated from the partner adapter's own validation; credential fields are writeOnly. setup_status and integrations_count are the caller's.",
    auth: 'api_key',
    permission: 'read',
    query: TemplatesQuery,
    responses: {
      200: { description: 'templates', schema: z.object({ templates: z.array(IntegrationTemplate) }) },
    },
  },
  {
    method: 'get',
    path: '/api/v1/integration-templates/:partner',
    tag: 'integrations',
    summary: 'One partner’s integration template',
    auth: 'api_key',
    permission: 'read',
    responses: { 200: { description: 'the template', schema: IntegrationTemplate } },
  },
  {
    method: 'post',
    path: '/api/v1/admin/rotate-keys',
    tag: 'admin',
    summary: 'Re-seal every stored secret with the first key of LEADRELAY_ENCRYPTION_KEYS',
    description:
      'Integration credentials and webhook secrets, outbound webhook signing secrets. Idempotent; counts per table; values no key opens are listed, not changed. Same as `npm run rotate-keys`.',
    auth: 'admin_token',
    body: RotateKeysBody,
    responses: { 200: { description: 'the pass', schema: RotationReport } },
  },

  // ---- inbox ----
  {
    method: 'get',
    path: '/api/v1/inbox',
    tag: 'inbox',
    summary: 'List ingest inbox events',
    auth: 'admin_token_or_key',
    permission: 'admin',
    query: ListInboxQuery,
    responses: { 200: { description: 'a page of events', schema: r.InboxList } },
  },
  {
    method: 'post',
    path: '/api/v1/inbox/replay',
    tag: 'inbox',
    summary: 'Replay the inbox events of a time window',
    auth: 'admin_token_or_key',
    permission: 'admin',
    body: ReplayWindowBody,
    responses: { 200: { description: 'replayed', schema: r.InboxWindowReplay } },
  },
  {
    method: 'get',
    path: '/api/v1/inbox/:id',
    tag: 'inbox',
    summary: 'An inbox event with its raw body',
    auth: 'admin_token_or_key',
    permission: 'admin',
    responses: { 200: { description: 'the event', schema: r.InboxEvent } },
  },
  {
    method: 'post',
    path: '/api/v1/inbox/:id/replay',
    tag: 'inbox',
    summary: 'Replay one inbox event',
    auth: 'admin_token_or_key',
    permission: 'admin',
    responses: { 200: { description: 'replayed', schema: r.InboxReplayResult } },
  },

  // ---- conversions ----
  {
    method: 'post',
    path: '/api/v1/conversions',
    tag: 'conversions',
    summary: 'Log a conversion (seed 004 POST /conversions/log)',
    description:
      'contact_id is the lead id. Idempotent by `conversion_id` or the Idempotency-Key header: a repeat answers 200 with the first conversion; the same key with another body is 409. The conversion is also an event in the lead’s journey and a `conversion.logged` webhook.',
    auth: 'api_key',
    permission: 'convert',
    body: LogConversionBody,
    headers: [idempotency],
    responses: {
      201: { description: 'logged', schema: r.ConversionLogged },
      200: { description: 'already logged with this key or conversion_id', schema: r.ConversionLogged },
      409: { description: 'key reused with a different body' },
    },
  },
  {
    method: 'get',
    path: '/api/v1/conversions',
    tag: 'conversions',
    summary: 'Query conversions',
    description: '`workspace_id` may only be the caller’s own. Newest first; page with `next_cursor`.',
    auth: 'api_key',
    permission: 'read',
    query: ListConversionsQuery,
    responses: { 200: { description: 'conversions', schema: r.ConversionList } },
  },
  {
    method: 'get',
    path: '/api/v1/conversions/analytics',
    tag: 'conversions',
    summary: 'Conversion analytics (seed 004)',
    description:
      'Summary, by workspace, by type and daily/weekly/monthly trends in the workspace’s time zone. `from_date` defaults to 90 days before `to_date`. Send `Accept: text/csv` for CSV.',
    auth: 'api_key',
    permission: 'read',
    query: ConversionAnalyticsQuery,
    responses: { 200: { description: 'analytics', schema: r.ConversionAnalytics, csv: true } },
  },
  {
    method: 'get',
    path: '/api/v1/conversions/:id',
    tag: 'conversions',
    summary: 'Get a conversion',
    auth: 'api_key',
    permission: 'read',
    responses: { 200: { description: 'the conversion', schema: r.Conversion } },
  },
  {
    method: 'get',
    path: '/api/v1/contacts/:id/conversion',
    tag: 'conversions',
    summary: 'A contact’s (lead’s) conversion state',
    auth: 'api_key',
    permission: 'read',
    responses: { 200: { description: 'conversion state', schema: r.ContactConversion } },
  },
  {
    method: 'patch',
    path: '/api/v1/contacts/:id/conversion',
    tag: 'conversions',
    summary: 'Update a contact’s conversion status (seed 004)',
    description: '`custom_metadata` is merged key by key; a key set to null is removed.',
    auth: 'api_key',
    permission: 'convert',
    body: ContactConversionBody,
    responses: { 200: { description: 'updated', schema: r.ContactConversion } },
  },

  // ---- analytics ----
  analytics(
    'funnel',
    'Funnel: stage counts and conversion rates',
    'Leads created in the range, each counted up to the furthest stage it reached.',
    r.Funnel,
  ),
  analytics(
    'time-in-status',
    'Average time in each status',
    'Stays that began in the range, from status history (lead() window over each lead’s rows).',
    r.TimeInStatus,
  ),
  analytics(
    'transitions',
    'Most common status transitions',
    'Applied changes in the range.',
    r.Transitions,
    TransitionsQuery,
  ),
  analytics(
    'speed-to-lead',
    'Speed to lead: median and p90 from first inquiry to first contact',
    'Leads created in the range; first contact is the first move to a status other than new or lost.',
    r.SpeedToLead,
  ),

  // ---- referral fees ----
  {
    method: 'get',
    path: '/api/v1/referral-fees',
    tag: 'referral fees',
    summary: 'Referral fees owed per partner, with reconciliation status',
    description:
      'A fee is recorded when a lead whose attributed (first) source is a partner is placed or leased, from the terms in that partner’s integration config (`referral_fee`), else the workspace’s referral fee terms. Send `Accept: text/csv` for CSV.',
    auth: 'api_key',
    permission: 'read',
    query: ListReferralFeesQuery,
    responses: {
      200: { description: 'fees and a per-partner summary', schema: r.ReferralFeeList, csv: true },
    },
  },
  {
    method: 'get',
    path: '/api/v1/referral-fees/:id',
    tag: 'referral fees',
    summary: 'Get a referral fee',
    auth: 'api_key',
    permission: 'read',
    responses: { 200: { description: 'the fee', schema: r.ReferralFee } },
  },
  {
    method: 'patch',
    path: '/api/v1/referral-fees/:id',
    tag: 'referral fees',
    summary: 'Reconcile a referral fee (status, amount, invoice number)',
    description:
      'Status moves: pending → reported → invoiced → paid; any of them → disputed; disputed → back. Setting `monthly_rent` computes a percentage fee.',
    auth: 'api_key',
    permission: 'update',
    body: UpdateReferralFeeBody,
    responses: {
      200: { description: 'updated', schema: r.ReferralFee },
      409: { description: 'status move not allowed (details: from, to, allowed)' },
    },
  },
  {
    method: 'get',
    path: '/api/v1/referral-fee-terms',
    tag: 'referral fees',
    summary: 'The workspace’s referral fee terms per partner',
    auth: 'api_key',
    permission: 'read',
    responses: { 200: { description: 'terms', schema: r.FeeTermsList } },
  },
  {
    method: 'put',
    path: '/api/v1/referral-fee-terms/:partner',
    tag: 'referral fees',
    summary: 'Set a partner’s referral fee terms',
    description:
      'flat: `amount` in `currency`; percent_of_monthly_rent: `amount` percent of the monthly rent.',
    auth: 'api_key',
    permission: 'admin',
    body: FeeTermsBody,
    responses: { 200: { description: 'the terms', schema: r.FeeTerms } },
  },
  {
    method: 'delete',
    path: '/api/v1/referral-fee-terms/:partner',
    tag: 'referral fees',
    summary: 'Remove a partner’s referral fee terms',
    auth: 'api_key',
    permission: 'admin',
    responses: { 204: { description: 'removed' } },
  },

  // ---- outbound webhooks ----
  {
    method: 'post',
    path: '/api/v1/webhook-endpoints',
    tag: 'webhooks',
    summary: 'Register an outbound webhook endpoint (seed 002)',
    description:
      'Deliveries are signed with Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`) using the endpoint’s secret, shown once here. Payload: `{ type, timestamp, data }`. Failed attempts retry after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h; a lead’s events arrive in order. An endpoint failing for 5 days is disabled and a staff task opened. `events` may be `*`.',
    auth: 'api_key',
    permission: 'admin',
    body: CreateEndpointBody,
    responses: { 201: { description: 'registered', schema: r.WebhookEndpointWithSecret } },
  },
  {
    method: 'get',
    path: '/api/v1/webhook-endpoints',
    tag: 'webhooks',
    summary: 'List webhook endpoints and the event types',
    auth: 'api_key',
    permission: 'read',
    responses: { 200: { description: 'endpoints', schema: r.WebhookEndpointList } },
  },
  {
    method: 'get',
    path: '/api/v1/webhook-endpoints/:id',
    tag: 'webhooks',
    summary: 'Get a webhook endpoint',
    auth: 'api_key',
    permission: 'read',
    responses: { 200: { description: 'the endpoint', schema: r.WebhookEndpoint } },
  },
  {
    method: 'patch',
    path: '/api/v1/webhook-endpoints/:id',
    tag: 'webhooks',
    summary: 'Change an endpoint; `enabled: true` re-enables a disabled one',
    auth: 'api_key',
    permission: 'admin',
    body: UpdateEndpointBody,
    responses: { 200: { description: 'updated', schema: r.WebhookEndpoint } },
  },
  {
    method: 'delete',
    path: '/api/v1/webhook-endpoints/:id',
    tag: 'webhooks',
    summary: 'Delete an endpoint (its queued messages are cancelled)',
    auth: 'api_key',
    permission: 'admin',
    responses: { 204: { description: 'deleted' } },
  },
  {
    method: 'post',
    path: '/api/v1/webhook-endpoints/:id/rotate-secret',
    tag: 'webhooks',
    summary: 'Rotate the signing secret',
    description: 'The new secret is shown once; for 24 hours deliveries carry signatures with both secrets.',
    auth: 'api_key',
    permission: 'admin',
    body: RotateSecretBody,
    responses: { 200: { description: 'rotated', schema: r.WebhookEndpointWithSecret } },
  },
  {
    method: 'post',
    path: '/api/v1/webhook-endpoints/:id/test',
    tag: 'webhooks',
    summary: 'Send a webhook.test event to this endpoint',
    auth: 'api_key',
    permission: 'update',
    responses: {
      202: { description: 'queued; see the deliveries', schema: r.WebhookTestQueued },
      409: { description: 'the endpoint is disabled' },
    },
  },
  {
    method: 'get',
    path: '/api/v1/webhook-endpoints/:id/deliveries',
    tag: 'webhooks',
    summary: 'Delivery log: one row per attempt',
    auth: 'api_key',
    permission: 'read',
    query: DeliveriesQuery,
    responses: { 200: { description: 'attempts, newest first', schema: r.WebhookDeliveries } },
  },

  // ---- notifications ----
  {
    method: 'get',
    path: '/unsubscribe/:token',
    tag: 'notifications',
    summary: 'Unsubscribe page of a prospect email (signed link)',
    auth: 'none',
    responses: { 200: { description: 'HTML confirmation page', html: true } },
  },
  {
    method: 'post',
    path: '/unsubscribe/:token',
    tag: 'notifications',
    summary: 'One-click unsubscribe (RFC 8058): the lead gets no more prospect email',
    auth: 'none',
    responses: { 200: { description: 'HTML page', html: true } },
  },
  {
    method: 'post',
    path: '/api/v1/notification-preferences',
    tag: 'notifications',
    summary: 'Create a notification preference (seed 001 status_notification_preferences)',
    description:
      'Recipients: emails, E.164 phones, Slack webhook URLs or `default`, user ids; `prospect` means the lead.',
    auth: 'api_key',
    permission: 'admin',
    body: CreatePreferenceBody,
    responses: { 201: { description: 'created', schema: r.NotificationPreference } },
  },
  {
    method: 'get',
    path: '/api/v1/notification-preferences',
    tag: 'notifications',
    summary: 'List notification preferences',
    auth: 'api_key',
    permission: 'read',
    responses: { 200: { description: 'preferences', schema: r.NotificationPreferenceList } },
  },
  {
    method: 'patch',
    path: '/api/v1/notification-preferences/:id',
    tag: 'notifications',
    summary: 'Change a notification preference',
    auth: 'api_key',
    permission: 'admin',
    body: UpdatePreferenceBody,
    responses: { 200: { description: 'updated', schema: r.NotificationPreference } },
  },
  {
    method: 'delete',
    path: '/api/v1/notification-preferences/:id',
    tag: 'notifications',
    summary: 'Delete a notification preference',
    auth: 'api_key',
    permission: 'admin',
    responses: { 204: { description: 'deleted' } },
  },
  {
    method: 'get',
    path: '/api/v1/notifications',
    tag: 'notifications',
    summary: 'Notifications sent for the workspace, newest first, with the delivery rate',
    auth: 'api_key',
    permission: 'read',
    query: z.object({
      status: z.enum(['pending', 'sent', 'delivered', 'failed', 'skipped']).optional(),
      channel: z.enum(['email', 'sms', 'slack', 'in_app']).optional(),
      limit: z.coerce.number().int().min(1).max(500).default(100),
    }),
    responses: { 200: { description: 'notifications', schema: z.object({}).loose() } },
  },

  {
    method: 'post',
    path: '/api/v1/notifications/:id/resend',
    tag: 'notifications',
    summary: 'Resend a failed or skipped notification',
    description:
      "The delivery goes back to `pending` and the lead's journey sends it again under the same idempotency key (email keeps its Message-ID); the inbox shows the outcome.",
    auth: 'api_key',
    permission: 'update',
    responses: {
      202: {
        description: 'handed to the journey',
        schema: z.object({ resent: z.literal(true), id: z.uuid(), status: z.literal('pending') }),
      },
      409: { description: '`conflict`: the notification is pending, sent or delivered' },
    },
  },

  // ---- workflow rules ----
  {
    method: 'post',
    path: '/api/v1/workflow-rules',
    tag: 'workflow rules',
    summary: 'Create a workflow rule (seed 001 CreateWorkflowRequest)',
    description: 'Trigger status and conditions → actions; journeys load the active rules when a run starts.',
    auth: 'api_key',
    permission: 'admin',
    body: CreateWorkflowRuleBody,
    responses: { 201: { description: 'created', schema: r.WorkflowRule } },
  },
  {
    method: 'get',
    path: '/api/v1/properties/:id/workflow-rules',
    tag: 'workflow rules',
    summary: 'A property’s workflow rules (seed 001 GetWorkflowsResponse)',
    auth: 'api_key',
    permission: 'read',
    responses: { 200: { description: 'rules', schema: r.WorkflowRuleList } },
  },
  {
    method: 'patch',
    path: '/api/v1/workflow-rules/:id',
    tag: 'workflow rules',
    summary: 'Activate or deactivate a workflow rule',
    auth: 'api_key',
    permission: 'admin',
    body: z.object({ is_active: z.boolean() }).strict(),
    responses: { 200: { description: 'updated', schema: r.WorkflowRule } },
  },
  {
    method: 'delete',
    path: '/api/v1/workflow-rules/:id',
    tag: 'workflow rules',
    summary: 'Delete a workflow rule',
    auth: 'api_key',
    permission: 'admin',
    responses: { 204: { description: 'deleted' } },
  },
];
