// /api/v1/integrations and /api/v1/integration-templates: a workspace's partner connections, the templates
// its setup forms are drawn from, connection tests, "sync now" and health. Secrets are sealed at rest and shown
// once, at creation; reads never carry secrets or credentials.
import { z } from 'zod';
import { partnerAdapter } from '../../../activities/partners';
import {
  capabilitiesOf,
  TEMPLATE_CATEGORIES,
  templateDefinition,
} from '../../../activities/partners/templates';
import type { IntegrationRecord } from '../../../data/integrations';
import { AppError } from '../../../shared/errors';
import { PARTNERS } from '../../../shared/lifecycle';
import {
  changeIntegration,
  connectIntegration,
  integrationsWithHealth,
  integrationWithHealth,
  removeIntegration,
  syncNow,
  templatesFor,
  testNewConnection,
  testSavedConnection,
  type IntegrationsDeps,
} from '../../../usecases/integrations';
import { endpoint } from '../../common/endpoints';
import { principal } from '../auth';
import { json, time } from '../schemas';

const propertyId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - only');
const config = z.record(z.string().max(100), z.unknown());
const credentials = z.record(z.string().max(100), z.string().max(10_000));

const CreateIntegrationBody = z
  .object({
    partner: z.enum(PARTNERS),
    name: z.string().min(1).max(200),
    property_id: propertyId.optional(),
    config: config.default({}),
    credentials: credentials.optional(),
  })
  .strict();

const UpdateIntegrationBody = z
  .object({
    name: z.string().min(1).max(200).optional(),
    property_id: propertyId.nullable().optional().meta({ description: 'null: the whole workspace' }),
    config: config
      .optional()
      .meta({ description: "replaces the whole config; validated by the partner's schema" }),
    credentials: credentials
      .optional()
      .meta({ description: 'replaces every credential; write-only, never read back' }),
    status: z.enum(['active', 'paused']).optional(),
  })
  .strict();

const counts = z.object({
  pending: z.number().int(),
  success: z.number().int(),
  failed: z.number().int(),
  conflict: z.number().int(),
  skipped: z.number().int(),
});

const IntegrationHealth = z
  .object({
    status: z.enum(['healthy', 'degraded', 'failing', 'idle']),
    last_sync_at: time.nullable(),
    last_success_at: time.nullable(),
    last_error: z.string().nullable(),
    last_error_at: time.nullable(),
    consecutive_failures: z.number().int().meta({ description: 'polls failed in a row' }),
    events_received_24h: z.number().int(),
    syncs_24h: counts.meta({ description: 'partner_syncs of the last 24 hours by outcome' }),
    poll: z
      .object({
        schedule_id: z.string(),
        state: z.enum(['scheduled', 'paused', 'missing', 'unknown']),
        interval_minutes: z.number().int().nullable(),
        next_run_at: time.nullable(),
        last_run_at: time.nullable(),
        running_workflow_id: z.string().nullable(),
      })
      .nullable()
      .meta({ description: 'the Temporal Schedule of a polled partner; null for the others' }),
  })
  .meta({ id: 'IntegrationHealth' });

const Integration = z
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

const IntegrationWithHealth = Integration.extend({ health: IntegrationHealth }).meta({
  id: 'IntegrationWithHealth',
});

const IntegrationTemplate = z
  .object({
    partner: z.enum(PARTNERS),
    name: z.string(),
    category: z.enum(TEMPLATE_CATEGORIES),
    description: z.string(),
    docs: z.string(),
    capabilities: z.object({
      webhooks: z.boolean(),
      push_status: z.boolean(),
      polling: z.boolean(),
      test_connection: z.boolean(),
    }),
    config_schema: z.record(z.string(), z.unknown()).meta({ description: 'JSON Schema of `config`' }),
    credentials_schema: z
      .record(z.string(), z.unknown())
      .meta({ description: 'JSON Schema of `credentials`; every field writeOnly' }),
    webhook_secret: z.enum(['generated', 'credential', 'none']),
    webhook_secret_field: z.string().nullable(),
    default_poll_interval_minutes: z.number().int().nullable(),
    setup_status: z.enum(['not_configured', 'active', 'paused', 'error']),
    integrations_count: z.number().int(),
  })
  .meta({ id: 'IntegrationTemplate' });

const ConnectionTestAnswer = z
  .union([
    z.object({ ok: z.literal(true), detail: z.string(), latency_ms: z.number().int() }),
    z.object({
      ok: z.literal(false),
      latency_ms: z.number().int(),
      error: z.object({
        code: z.enum([
          'partner_auth_failed',
          'partner_rejected',
          'partner_unavailable',
          'egress_refused',
          'credentials_required',
        ]),
        message: z.string().meta({ description: "the partner's own words" }),
        partner_status: z.number().int().nullable(),
      }),
    }),
  ])
  .meta({ id: 'ConnectionTest' });

const SyncStarted = z
  .object({
    started: z.literal(true),
    workflow_id: z
      .string()
      .nullable()
      .optional()
      .meta({ description: 'polled integrations: the poll’s workflow (null if not seen within 10 s)' }),
    run_id: z
      .string()
      .nullable()
      .optional()
      .meta({ description: 'its run: a workflow id repeats within one second' }),
    already_running: z.boolean().optional().meta({ description: 'a poll was running: that one is answered' }),
    repushed: z.number().int().optional().meta({
      description: 'integrations we push to: failed and conflicting syncs handed back to their journeys',
    }),
  })
  .loose();

const testResponses = {
  200: { description: 'the test ran', schema: ConnectionTestAnswer },
  409: { description: '`not_testable`: the partner only sends webhooks' },
};

const connection = (body: z.output<typeof CreateIntegrationBody>) => ({
  partner: body.partner,
  name: body.name,
  propertyId: body.property_id,
  config: body.config,
  credentials: body.credentials,
});

export function integrationEndpoints(deps: IntegrationsDeps & { publicIngestUrl?: string }) {
  const ingestUrl = (deps.publicIngestUrl ?? 'http://localhost:8081').replace(/\/+$/, '');
  const integrationJson = (integration: IntegrationRecord) => {
    const adapter = partnerAdapter(integration.partner);
    return {
      id: integration.id,
      workspace_id: integration.workspace_id,
      partner: integration.partner,
      name: integration.name,
      property_id: integration.property_id,
      status: integration.status,
      config: integration.config,
      webhook_url: adapter?.inbound ? `${ingestUrl}/webhooks/${integration.partner}/${integration.id}` : null,
      capabilities: capabilitiesOf(adapter),
      has_credentials: integration.has_credentials,
      has_webhook_secret: integration.has_webhook_secret,
      last_sync_at: integration.last_sync_at?.toISOString() ?? null,
      last_error: integration.last_error,
      last_test_at: integration.last_test_at?.toISOString() ?? null,
      last_test_ok: integration.last_test_ok,
      created_at: integration.created_at.toISOString(),
      updated_at: integration.updated_at.toISOString(),
    };
  };
  const withHealth = ({ integration, health }: { integration: IntegrationRecord; health: unknown }) => ({
    ...integrationJson(integration),
    health,
  });

  return [
    endpoint({
      method: 'post',
      path: '/api/v1/integrations',
      tag: 'integrations',
      summary: 'Connect a partner',
      description: 'Answers the webhook URL and, once, the webhook secret.',
      permission: 'admin',
      body: CreateIntegrationBody,
      responses: {
        201: {
          description: 'created',
          schema: Integration.extend({
            webhook_secret: z.string().nullable().meta({ description: 'shown once' }),
          }),
        },
      },
      async handler({ body, req }) {
        const created = await connectIntegration(deps, principal(req).workspaceId, connection(body));
        return { ...integrationJson(created.integration), webhook_secret: created.webhookSecret };
      },
    }),
    endpoint({
      method: 'post',
      path: '/api/v1/integrations/test',
      tag: 'integrations',
      summary: 'Test a connection before saving it',
      description:
        'The body of creating an integration; nothing is stored. A partner refusing us is an answer (`ok: false` with its own message and HTTP status), not an error of ours.',
      permission: 'admin',
      body: CreateIntegrationBody,
      responses: testResponses,
      handler: ({ body, req }) => testNewConnection(deps, principal(req).workspaceId, connection(body)),
    }),
    endpoint({
      method: 'get',
      path: '/api/v1/integrations',
      tag: 'integrations',
      summary: 'List integrations with their health',
      permission: 'read',
      query: z.object({ partner: z.enum(PARTNERS).optional() }),
      responses: {
        200: {
          description: 'integrations',
          schema: z.object({ integrations: z.array(IntegrationWithHealth) }),
        },
      },
      async handler({ query, req }) {
        const integrations = await integrationsWithHealth(deps, principal(req).workspaceId, query);
        return { integrations: integrations.map(withHealth) };
      },
    }),
    endpoint({
      method: 'get',
      path: '/api/v1/integrations/:id',
      tag: 'integrations',
      summary: 'Get an integration with its health',
      description:
        'Health: healthy, degraded, failing or idle from the last 24 hours (partner_syncs by outcome, events received, polls failed in a row) and, for polled partners, the poll schedule. Never secrets or credentials.',
      permission: 'read',
      responses: { 200: { description: 'the integration', schema: IntegrationWithHealth } },
      handler: async ({ params, req }) =>
        withHealth(await integrationWithHealth(deps, principal(req).workspaceId, params.id)),
    }),
    endpoint({
      method: 'patch',
      path: '/api/v1/integrations/:id',
      tag: 'integrations',
      summary: 'Change an integration (name, property, config, credentials, active/paused)',
      description:
        "`config` and `credentials` each replace the whole object and are validated by the partner's schemas (errors name fields as `config.base_url`). Credentials are write-only. Pausing pauses the poll schedule; new config or credentials (or `status: active`) lift an integration out of `error`. A config change other than `poll_interval_minutes` restarts polling from the configured look-back (already stored events are not stored twice).",
      permission: 'admin',
      body: UpdateIntegrationBody,
      responses: { 200: { description: 'updated', schema: IntegrationWithHealth } },
      async handler({ params, body, req }) {
        const changed = await changeIntegration(deps, principal(req).workspaceId, params.id, {
          name: body.name,
          propertyId: body.property_id,
          config: body.config,
          credentials: body.credentials,
          status: body.status,
        });
        return withHealth(changed);
      },
    }),
    endpoint({
      method: 'delete',
      path: '/api/v1/integrations/:id',
      tag: 'integrations',
      summary: 'Delete an integration (and its poll schedule)',
      permission: 'admin',
      responses: { 204: { description: 'deleted' } },
      handler: ({ params, req }) => removeIntegration(deps, principal(req).workspaceId, params.id),
    }),
    endpoint({
      method: 'post',
      path: '/api/v1/integrations/:id/test',
      tag: 'integrations',
      summary: 'Test a saved connection',
      description:
        'Records last_test_at and, on failure, last_error. A passing test lifts an integration out of `error` and resumes its polls.',
      permission: 'admin',
      responses: testResponses,
      handler: ({ params, req }) => testSavedConnection(deps, principal(req).workspaceId, params.id),
    }),
    endpoint({
      method: 'post',
      path: '/api/v1/integrations/:id/sync',
      tag: 'integrations',
      summary: 'Sync now: poll the partner through its schedule',
      permission: 'admin',
      responses: {
        202: { description: 'started (or already running)', schema: SyncStarted },
        409: {
          description: '`not_pollable` (the partner sends webhooks), or `conflict` when paused or in error',
        },
      },
      handler: async ({ params, req }) => ({
        started: true,
        ...(await syncNow(deps, principal(req).workspaceId, params.id)),
      }),
    }),
    endpoint({
      method: 'get',
      path: '/api/v1/integration-templates',
      tag: 'integrations',
      summary: 'Integration templates: one per partner, with setup forms as JSON Schema',
      description:
        "config_schema and credentials_schema are JSON Schema (2020-12) generated from the partner adapter's own validation; credential fields are writeOnly. setup_status and integrations_count are the caller's.",
      permission: 'read',
      query: z.object({ category: z.enum(TEMPLATE_CATEGORIES).optional() }),
      responses: {
        200: { description: 'templates', schema: z.object({ templates: z.array(IntegrationTemplate) }) },
      },
      async handler({ query, req }) {
        const partners = PARTNERS.filter(
          (p) => !query.category || templateDefinition(p).category === query.category,
        );
        return { templates: await templatesFor(deps.pool, principal(req).workspaceId, partners) };
      },
    }),
    endpoint({
      method: 'get',
      path: '/api/v1/integration-templates/:partner',
      tag: 'integrations',
      summary: 'One partner’s integration template',
      permission: 'read',
      responses: { 200: { description: 'the template', schema: IntegrationTemplate } },
      async handler({ params, req }) {
        const partner = PARTNERS.find((p) => p === params.partner);
        if (!partner) throw new AppError('not_found', `no integration template ${params.partner}`);
        return (await templatesFor(deps.pool, principal(req).workspaceId, [partner]))[0];
      },
    }),
  ];
}
