// /api/v1/integrations and /api/v1/integration-templates: a workspace's partner connections, the templates
// its setup forms are drawn from, connection tests, "sync now" and health. Secrets are sealed at rest and shown
// once, at creation; reads never carry secrets or credentials.
import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { ScheduleNotFoundError } from '@temporalio/client';
import { Router, type Request } from 'express';
import type pg from 'pg';
import type { Logger } from 'pino';
import { z } from 'zod';
import {
  createIntegration,
  countIntegrationsByPartner,
  deleteIntegration,
  getIntegration,
  healthFacts,
  healthOf,
  listIntegrations,
  loadIntegrationSecrets,
  recordTestResult,
  updateIntegration,
  type IntegrationRecord,
} from '../../../data/integrations';
import { getProperty } from '../../../data/workspaces';
import { PartnerError } from '../../../activities/partners/http';
import { partnerAdapter, takesPushes } from '../../../activities/partners';
import {
  capabilitiesOf,
  isPollable,
  templateDefinition,
  TEMPLATE_CATEGORIES,
  type TemplateDefinition,
} from '../../../activities/partners/templates';
import type { PartnerAdapter, PartnerConnection } from '../../../activities/partners/types';
import type { KeyRing } from '../../../shared/crypto';
import { AppError } from '../../../shared/errors';
import { isUuid } from '../../../shared/ids';
import { PARTNERS, type PartnerName } from '../../../shared/lifecycle';
import { parse, route } from '../../common/http';
import type { JourneyClient } from '../../../usecases/journeys';
import { repushSyncs } from '../../../usecases/partnerSyncs';
import {
  deletePollSchedule,
  describePollSchedule,
  pollScheduleId,
  pollsFor,
  syncPollSchedule,
  triggerPoll,
  type PollScheduleState,
} from '../../../usecases/pollSchedules';
import { principal, requirePermission } from '../auth';

export interface IntegrationsDeps {
  pool: pg.Pool;
  keyRing?: KeyRing;
  /** Public base URL of the ingest service, for webhook_url. */
  publicIngestUrl?: string;
  /** Poll schedules live in Temporal; without a client they are left to the worker's reconciliation. */
  temporal?: Client;
  /** The worker's task queue, where scheduled polls run (TEMPORAL_TASK_QUEUE). */
  taskQueue?: string;
  /** Re-pushing failed syncs goes through the leads' journeys. */
  journeys?: JourneyClient;
  logger?: Logger;
}

const DEFAULT_INGEST_URL = 'http://localhost:8081';
const DEFAULT_TASK_QUEUE = 'leads';

const propertyId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - only');
const config = z.record(z.string().max(100), z.unknown());
const credentials = z.record(z.string().max(100), z.string().max(10_000));

export const CreateIntegrationBody = z
  .object({
    partner: z.enum(PARTNERS),
    name: z.string().min(1).max(200),
    property_id: propertyId.optional(),
    config: config.default({}),
    credentials: credentials.optional(),
  })
  .strict();

export const UpdateIntegrationBody = z
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

/** A Standard Webhooks secret: `whsec_` + base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** Validates the parts given against the partner's schemas, naming fields as `config.x` / `credentials.y`. */
function checkPartnerFields(
  adapter: PartnerAdapter | undefined,
  parts: { config?: Record<string, unknown>; credentials?: Record<string, string> },
): void {
  const fields: { field: string; message: string }[] = [];
  for (const part of ['config', 'credentials'] as const) {
    const schema = adapter?.integration[part];
    const value = parts[part];
    if (!schema || value === undefined) continue;
    const result = schema.safeParse(value);
    if (!result.success) {
      for (const issue of result.error.issues) {
        fields.push({ field: [part, ...issue.path].join('.'), message: issue.message });
      }
    }
  }
  if (fields.length > 0) {
    throw new AppError(
      'validation_failed',
      `invalid body: ${[...new Set(fields.map((f) => f.field))].join(', ')}`,
      {
        fields,
      },
    );
  }
}

async function requireProperty(
  pool: pg.Pool,
  workspaceId: string,
  id: string | null | undefined,
): Promise<void> {
  if (!id || (await getProperty(pool, workspaceId, id))) return;
  throw new AppError('validation_failed', `property ${id} does not exist in this workspace`, {
    fields: [{ field: 'property_id', message: 'unknown property' }],
  });
}

/** The webhook secret for a new integration, and whether to show it (only secrets we generated). */
function webhookSecretFor(
  adapter: PartnerAdapter | undefined,
  given: Record<string, string> | undefined,
): { secret?: string; show: boolean } {
  const policy = adapter?.integration.webhookSecret ?? { kind: 'none' };
  switch (policy.kind) {
    case 'generate':
      return { secret: generateWebhookSecret(), show: true };
    case 'credential': {
      const value = given?.[policy.field];
      if (value) return { secret: value, show: false };
      if (policy.generateIfMissing) return { secret: randomBytes(32).toString('base64url'), show: true };
      throw new AppError('validation_failed', `invalid body: credentials.${policy.field}`, {
        fields: [{ field: `credentials.${policy.field}`, message: 'required' }],
      });
    }
    case 'none':
      return { show: false };
  }
}

/**
 * New credentials of a partner whose webhook secret is one of them (Twilio's auth token) carry the new secret;
 * left out of optional ones, the secret stays as it was.
 */
function replacedWebhookSecret(
  adapter: PartnerAdapter | undefined,
  given: Record<string, string> | undefined,
): string | undefined {
  const policy = adapter?.integration.webhookSecret;
  if (!given || policy?.kind !== 'credential') return undefined;
  const value = given[policy.field];
  if (value) return value;
  if (policy.generateIfMissing) return undefined;
  throw new AppError('validation_failed', `invalid body: credentials.${policy.field}`, {
    fields: [{ field: `credentials.${policy.field}`, message: 'required' }],
  });
}

/** Whether a config change points polling somewhere else (anything but the interval): the cursor restarts. */
function movesPolling(before: Record<string, unknown>, after: Record<string, unknown>): boolean {
  const strip = ({ poll_interval_minutes: _interval, ...rest }: Record<string, unknown>) =>
    JSON.stringify(Object.entries(rest).sort(([a], [b]) => a.localeCompare(b)));
  return strip(before) !== strip(after);
}

export function integrationJson(integration: IntegrationRecord, publicIngestUrl: string) {
  const adapter = partnerAdapter(integration.partner);
  return {
    id: integration.id,
    workspace_id: integration.workspace_id,
    partner: integration.partner,
    name: integration.name,
    property_id: integration.property_id,
    status: integration.status,
    config: integration.config,
    webhook_url: adapter?.inbound ? webhookUrl(publicIngestUrl, integration) : null,
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
}

export function webhookUrl(publicIngestUrl: string, integration: { partner: string; id: string }): string {
  return `${publicIngestUrl.replace(/\/+$/, '')}/webhooks/${integration.partner}/${integration.id}`;
}

// ---- connection tests ----

/** A failing partner is an answer here, not our error: the test worked, the connection did not. */
export type TestAnswer =
  | { ok: true; detail: string; latency_ms: number }
  | {
      ok: false;
      latency_ms: number;
      error: { code: TestFailureCode; message: string; partner_status: number | null };
    };

export type TestFailureCode = 'partner_auth_failed' | 'partner_rejected' | 'partner_unavailable';

async function runConnectionTest(
  adapter: PartnerAdapter,
  connection: PartnerConnection,
): Promise<TestAnswer> {
  const started = performance.now();
  const latency = () => Math.round(performance.now() - started);
  try {
    const { detail } = await adapter.outbound!.testConnection(connection);
    return { ok: true, detail, latency_ms: latency() };
  } catch (error) {
    if (!(error instanceof PartnerError)) throw error;
    const status = error.status ?? null;
    const code: TestFailureCode =
      error.kind === 'retryable'
        ? 'partner_unavailable'
        : status === 401 || status === 403
          ? 'partner_auth_failed'
          : 'partner_rejected';
    return {
      ok: false,
      latency_ms: latency(),
      error: { code, message: error.message, partner_status: status },
    };
  }
}

function testableAdapter(partner: PartnerName): PartnerAdapter {
  const adapter = partnerAdapter(partner);
  if (!adapter?.outbound?.testConnection) {
    throw new AppError('not_testable', `${partner} has no connection test: it only sends us webhooks`, {
      partner,
    });
  }
  return adapter;
}

/** The config as the partner's schema reads it (defaults filled in). */
function parsedConfig(adapter: PartnerAdapter, value: Record<string, unknown>): Record<string, unknown> {
  const result = adapter.integration.config?.safeParse(value);
  return result?.success ? (result.data as Record<string, unknown>) : value;
}

// ---- sync now ----

/**
 * One thing "sync now" does: whether it applies to an integration, and running it (what it started is merged
 * into the 202 answer). Another step (re-pushing failed syncs) is one more entry in SYNC_STEPS.
 */
interface SyncStep {
  applies(integration: IntegrationRecord): boolean;
  run(deps: IntegrationsDeps, integration: IntegrationRecord): Promise<Record<string, unknown>>;
}

/** Runs the poll now through the integration's schedule (created first if the api could not earlier). */
const pollNow: SyncStep = {
  applies: pollsFor,
  async run(deps, integration) {
    const temporal = requireTemporal(deps);
    let started;
    try {
      started = await triggerPoll(temporal, integration.id);
    } catch (error) {
      if (!(error instanceof ScheduleNotFoundError)) throw error;
      await syncPollSchedule(scheduleDeps(deps, temporal), integration);
      started = await triggerPoll(temporal, integration.id);
    }
    return {
      workflow_id: started.run?.workflowId ?? null,
      run_id: started.run?.runId ?? null,
      already_running: started.alreadyRunning,
    };
  },
};

/** Re-pushes this integration's failed and conflicting syncs, each through its lead's ordered queue. */
const repushFailed: SyncStep = {
  applies: (integration) => integration.has_credentials && takesPushes(integration.partner),
  async run(deps, integration) {
    if (!deps.journeys) throw new AppError('unavailable', 'Temporal is not configured on this server');
    const reopened = await repushSyncs(
      { pool: deps.pool, journeys: deps.journeys },
      { workspaceId: integration.workspace_id, integrationId: integration.id },
    );
    return { repushed: reopened.length };
  },
};

/** The steps of "sync now", in order. */
const SYNC_STEPS: SyncStep[] = [pollNow, repushFailed];

function requireTemporal(deps: IntegrationsDeps): Client {
  if (!deps.temporal) throw new AppError('unavailable', 'Temporal is not configured on this server');
  return deps.temporal;
}

function scheduleDeps(deps: IntegrationsDeps, temporal: Client) {
  return { client: temporal, taskQueue: deps.taskQueue ?? DEFAULT_TASK_QUEUE, logger: deps.logger };
}

/**
 * Keeps the poll schedule in step after a change. Best effort: the database is the truth (a poll of a paused
 * integration does nothing) and the worker reconciles schedules at start, so Temporal being down here is no
 * reason to refuse the change.
 */
async function followSchedule(deps: IntegrationsDeps, integration: IntegrationRecord): Promise<void> {
  if (!deps.temporal) return;
  try {
    await syncPollSchedule(scheduleDeps(deps, deps.temporal), integration);
  } catch (error) {
    deps.logger?.warn({ err: error, integrationId: integration.id }, 'poll schedule not updated');
  }
}

// ---- health ----

async function withHealth(
  deps: IntegrationsDeps,
  integrations: IntegrationRecord[],
  publicIngestUrl: string,
) {
  const facts = await healthFacts(
    deps.pool,
    integrations.map((i) => i.id),
  );
  const polls = await Promise.all(
    integrations.map(async (i): Promise<PollScheduleState | null> => {
      if (!pollsFor(i)) return null;
      return deps.temporal ? describePollSchedule(deps.temporal, i.id) : unknownSchedule(i.id);
    }),
  );
  return integrations.map((integration, index) => ({
    ...integrationJson(integration, publicIngestUrl),
    health: { ...healthOf(integration, facts.get(integration.id)!), poll: polls[index] ?? null },
  }));
}

function unknownSchedule(integrationId: string): PollScheduleState {
  return {
    schedule_id: pollScheduleId(integrationId),
    state: 'unknown',
    interval_minutes: null,
    next_run_at: null,
    last_run_at: null,
    running_workflow_id: null,
  };
}

async function ownIntegration(deps: IntegrationsDeps, req: Request): Promise<IntegrationRecord> {
  const id = String(req.params.id);
  const integration = isUuid(id)
    ? await getIntegration(deps.pool, principal(req).workspaceId, id)
    : undefined;
  if (!integration) throw new AppError('not_found', `integration ${id} not found`);
  return integration;
}

function requireKeyRing(deps: IntegrationsDeps): KeyRing {
  if (!deps.keyRing) {
    throw new AppError('unavailable', 'LEADRELAY_ENCRYPTION_KEYS is not configured on this server');
  }
  return deps.keyRing;
}

export function integrationsRouter(deps: IntegrationsDeps): Router {
  const router = Router();
  const publicIngestUrl = deps.publicIngestUrl ?? DEFAULT_INGEST_URL;

  router.post(
    '/',
    requirePermission('admin'),
    route(async (req, res) => {
      const body = parse(CreateIntegrationBody, req.body);
      const { workspaceId } = principal(req);
      const adapter = partnerAdapter(body.partner);
      checkPartnerFields(adapter, { config: body.config, credentials: body.credentials ?? {} });
      await requireProperty(deps.pool, workspaceId, body.property_id);
      const keyRing = requireKeyRing(deps);
      const { secret, show } = webhookSecretFor(adapter, body.credentials);
      const integration = await createIntegration(deps.pool, keyRing, {
        workspaceId,
        partner: body.partner,
        name: body.name,
        propertyId: body.property_id,
        config: body.config,
        credentials: body.credentials,
        webhookSecret: secret,
      });
      await followSchedule(deps, integration);
      res.status(201).json({
        ...integrationJson(integration, publicIngestUrl),
        // Shown once: only secrets we generated. A secret the partner gave us (credentials) is never echoed.
        webhook_secret: show ? secret : null,
      });
    }),
  );

  // Test before save: the same body as creating, nothing stored.
  router.post(
    '/test',
    requirePermission('admin'),
    route(async (req, res) => {
      const body = parse(CreateIntegrationBody, req.body);
      const { workspaceId } = principal(req);
      const adapter = testableAdapter(body.partner);
      checkPartnerFields(adapter, { config: body.config, credentials: body.credentials ?? {} });
      await requireProperty(deps.pool, workspaceId, body.property_id);
      res.json(
        await runConnectionTest(adapter, {
          integrationId: 'unsaved',
          workspaceId,
          propertyId: body.property_id,
          config: parsedConfig(adapter, body.config),
          credentials: body.credentials ?? {},
        }),
      );
    }),
  );

  router.get(
    '/',
    requirePermission('read'),
    route(async (req, res) => {
      const { partner } = parse(z.object({ partner: z.enum(PARTNERS).optional() }), req.query, 'query');
      const integrations = await listIntegrations(deps.pool, principal(req).workspaceId, { partner });
      res.json({ integrations: await withHealth(deps, integrations, publicIngestUrl) });
    }),
  );

  router.get(
    '/:id',
    requirePermission('read'),
    route(async (req, res) => {
      const integration = await ownIntegration(deps, req);
      res.json((await withHealth(deps, [integration], publicIngestUrl))[0]);
    }),
  );

  router.patch(
    '/:id',
    requirePermission('admin'),
    route(async (req, res) => {
      const body = parse(UpdateIntegrationBody, req.body);
      const current = await ownIntegration(deps, req);
      const adapter = partnerAdapter(current.partner);
      checkPartnerFields(adapter, { config: body.config, credentials: body.credentials });
      await requireProperty(deps.pool, current.workspace_id, body.property_id);
      const webhookSecret = replacedWebhookSecret(adapter, body.credentials);
      const updated = await updateIntegration(
        deps.pool,
        requireKeyRing(deps),
        current.workspace_id,
        current.id,
        {
          name: body.name,
          propertyId: body.property_id,
          config: body.config,
          credentials: body.credentials,
          webhookSecret,
          status: body.status,
          resetCursor: body.config !== undefined && movesPolling(current.config, body.config),
        },
      );
      if (!updated) throw new AppError('not_found', `integration ${current.id} not found`);
      await followSchedule(deps, updated);
      res.json((await withHealth(deps, [updated], publicIngestUrl))[0]);
    }),
  );

  router.delete(
    '/:id',
    requirePermission('admin'),
    route(async (req, res) => {
      const id = String(req.params.id);
      const deleted = isUuid(id) && (await deleteIntegration(deps.pool, principal(req).workspaceId, id));
      if (!deleted) throw new AppError('not_found', `integration ${id} not found`);
      if (deps.temporal) {
        // A poll that still fires finds the integration deleted and removes its own schedule.
        await deletePollSchedule(deps.temporal, id).catch((error: unknown) =>
          deps.logger?.warn({ err: error, integrationId: id }, 'poll schedule not deleted'),
        );
      }
      res.status(204).end();
    }),
  );

  router.post(
    '/:id/test',
    requirePermission('admin'),
    route(async (req, res) => {
      const current = await ownIntegration(deps, req);
      const adapter = testableAdapter(current.partner);
      const integration = await loadIntegrationSecrets(deps.pool, requireKeyRing(deps), current.id);
      if (!integration) throw new AppError('not_found', `integration ${current.id} not found`);
      const answer = await runConnectionTest(adapter, {
        integrationId: integration.id,
        workspaceId: integration.workspace_id,
        propertyId: integration.property_id ?? undefined,
        config: parsedConfig(adapter, integration.config),
        credentials: integration.credentials,
      });
      await recordTestResult(
        deps.pool,
        integration.id,
        answer.ok ? { ok: true } : { ok: false, error: answer.error.message },
      );
      // A passing test lifts an integration out of `error`: its schedule resumes.
      if (answer.ok && integration.status === 'error') {
        await followSchedule(deps, { ...integration, status: 'active' });
      }
      res.json(answer);
    }),
  );

  router.post(
    '/:id/sync',
    requirePermission('admin'),
    route(async (req, res) => {
      const integration = await ownIntegration(deps, req);
      const steps = SYNC_STEPS.filter((step) => step.applies(integration));
      if (steps.length === 0) {
        throw new AppError(
          'not_pollable',
          isPollable(integration.partner)
            ? `this ${integration.partner} integration is not polled: it has no credentials, or its config turns polling off`
            : `${integration.partner} is not polled: it sends its changes by webhook`,
          { partner: integration.partner, has_credentials: integration.has_credentials },
        );
      }
      if (integration.status !== 'active') {
        throw new AppError(
          'conflict',
          `integration is ${integration.status}: nothing syncs until it is active`,
          {
            status: integration.status,
          },
        );
      }
      const started: Record<string, unknown> = {};
      for (const step of steps) Object.assign(started, await step.run(deps, integration));
      res.status(202).json({ started: true, ...started });
    }),
  );

  return router;
}

// ---- templates ----

function setupStatus(statuses: string[]): 'not_configured' | 'active' | 'paused' | 'error' {
  if (statuses.length === 0) return 'not_configured';
  if (statuses.includes('error')) return 'error';
  if (statuses.includes('active')) return 'active';
  return 'paused';
}

async function templatesFor(pool: pg.Pool, workspaceId: string, partners: readonly PartnerName[]) {
  const counts = await countIntegrationsByPartner(pool, workspaceId);
  return partners.map((partner) => {
    const mine = counts.filter((c) => c.partner === partner);
    const definition: TemplateDefinition = templateDefinition(partner);
    return {
      ...definition,
      setup_status: setupStatus(mine.map((c) => c.status)),
      integrations_count: mine.reduce((sum, c) => sum + c.count, 0),
    };
  });
}

export const TemplatesQuery = z.object({ category: z.enum(TEMPLATE_CATEGORIES).optional() });

/** /api/v1/integration-templates: one per partner, with the caller's setup status. */
export function integrationTemplatesRouter(deps: { pool: pg.Pool }): Router {
  const router = Router();
  router.get(
    '/',
    requirePermission('read'),
    route(async (req, res) => {
      const { category } = parse(TemplatesQuery, req.query, 'query');
      const partners = PARTNERS.filter((p) => !category || templateDefinition(p).category === category);
      res.json({ templates: await templatesFor(deps.pool, principal(req).workspaceId, partners) });
    }),
  );
  router.get(
    '/:partner',
    requirePermission('read'),
    route(async (req, res) => {
      const partner = String(req.params.partner);
      if (!(PARTNERS as readonly string[]).includes(partner)) {
        throw new AppError('not_found', `no integration template ${partner}`);
      }
      res.json((await templatesFor(deps.pool, principal(req).workspaceId, [partner as PartnerName]))[0]);
    }),
  );
  return router;
}

// ---- answer shapes, for /openapi.json ----

const time = z.iso.datetime({ offset: true });
const counts = z.object({
  pending: z.number().int(),
  success: z.number().int(),
  failed: z.number().int(),
  conflict: z.number().int(),
  skipped: z.number().int(),
});

export const IntegrationHealth = z
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

export const IntegrationTemplate = z
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

export const ConnectionTestAnswer = z
  .union([
    z.object({ ok: z.literal(true), detail: z.string(), latency_ms: z.number().int() }),
    z.object({
      ok: z.literal(false),
      latency_ms: z.number().int(),
      error: z.object({
        code: z.enum(['partner_auth_failed', 'partner_rejected', 'partner_unavailable']),
        message: z.string().meta({ description: "the partner's own words" }),
        partner_status: z.number().int().nullable(),
      }),
    }),
  ])
  .meta({ id: 'ConnectionTest' });

export const SyncStarted = z
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
