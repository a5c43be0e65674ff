// A workspace's partner connections: connecting one (partner-validated config, sealed credentials, a webhook
// secret made or taken from the credentials), changing and removing it with its poll schedule in step, testing
// a connection before or after saving it, "sync now", health, and the setup templates with the caller's status.
import { randomBytes } from 'node:crypto';
import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import type pg from 'pg';
import type { Logger } from 'pino';
import { connectionTest, partnerAdapter, takesPushes } from '../activities/partners';
import { partnerConnection } from '../activities/partners/connection';
import { PartnerError } from '../activities/partners/http';
import { isPollable, templateDefinition } from '../activities/partners/templates';
import type { PartnerAdapter, PartnerConnection } from '../activities/partners/types';
import {
  countIntegrationsByPartner,
  createIntegration,
  deleteIntegration,
  getIntegration,
  healthFacts,
  healthOf,
  listIntegrations,
  loadIntegrationSecrets,
  recordTestResult,
  updateIntegration,
  type IntegrationRecord,
  type SettableStatus,
} from '../data/integrations';
import { requireKeyRing, type KeyRing } from '../shared/crypto';
import { destinationFields } from '../shared/destination';
import { requireEgressUrl } from '../shared/egress';
import { AppError } from '../shared/errors';
import { isUuid } from '../shared/ids';
import type { PartnerName } from '../shared/lifecycle';
import type { JourneyClient } from './journeys';
import { repushSyncs } from './partnerSyncs';
import {
  deletePollSchedule,
  describePollSchedule,
  pollScheduleId,
  pollsFor,
  syncPollSchedule,
  triggerPoll,
  type PollScheduleState,
} from './pollSchedules';
import { requireProperty } from './properties';

export interface IntegrationsDeps {
  pool: pg.Pool;
  keyRing?: KeyRing;
  /** Poll schedules live in Temporal; without a client they are left to the worker's reconciliation. */
  temporal?: Client;
  /** The worker's task queue, where scheduled polls run (TEMPORAL_TASK_QUEUE; default leads). */
  taskQueue?: string;
  /** Re-pushing failed syncs goes through the leads' journeys. */
  journeys?: JourneyClient;
  logger?: Logger;
}

export interface Connection {
  partner: PartnerName;
  name: string;
  propertyId?: string;
  config: Record<string, unknown>;
  credentials?: Record<string, string>;
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
    const named = [...new Set(fields.map((f) => f.field))].join(', ');
    throw new AppError('validation_failed', `invalid body: ${named}`, { fields });
  }
}

/** Every URL of a config (base_url, token and instance URLs) must point where requests may go (422 otherwise). */
function checkDestinations(config: Record<string, unknown> | undefined): void {
  for (const [key, value] of Object.entries(config ?? {})) {
    if (typeof value === 'string' && /^https?:/i.test(value)) requireEgressUrl(`config.${key}`, value);
  }
}

/**
 * Credentials go only where they were given for: a change that moves a destination must carry the credentials
 * again (422 `credentials_required` naming the moved fields), so a moved URL never receives the stored ones.
 */
function requireCredentialsIfMoved(
  adapter: PartnerAdapter | undefined,
  current: IntegrationRecord,
  patch: { config?: Record<string, unknown>; credentials?: Record<string, string> },
): void {
  if (!patch.config || patch.credentials || !current.has_credentials) return;
  const before = adapter
    ? destinationFields(parsedConfig(adapter, current.config))
    : destinationFields(current.config);
  const after = adapter
    ? destinationFields(parsedConfig(adapter, patch.config))
    : destinationFields(patch.config);
  const moved = [...new Set([...before.keys(), ...after.keys()])].filter(
    (k) => before.get(k) !== after.get(k),
  );
  if (moved.length === 0) return;
  const fields = moved.map((k) => ({
    field: `config.${k}`,
    message: 'moves where the credentials are sent: give the credentials again in the same request',
  }));
  throw new AppError(
    'credentials_required',
    `changing ${fields.map((f) => f.field).join(', ')} requires the credentials again`,
    { fields },
  );
}

function missingCredential(field: string): AppError {
  return new AppError('validation_failed', `invalid body: credentials.${field}`, {
    fields: [{ field: `credentials.${field}`, message: 'required' }],
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
      // A Standard Webhooks secret: `whsec_` + base64 of 32 random bytes.
      return { secret: `whsec_${randomBytes(32).toString('base64')}`, show: true };
    case 'credential': {
      const value = given?.[policy.field];
      if (value) return { secret: value, show: false };
      if (policy.generateIfMissing) return { secret: randomBytes(32).toString('base64url'), show: true };
      throw missingCredential(policy.field);
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
  throw missingCredential(policy.field);
}

/** Whether a config change points polling somewhere else (anything but the interval): the cursor restarts. */
function movesPolling(before: Record<string, unknown>, after: Record<string, unknown>): boolean {
  const strip = ({ poll_interval_minutes: _interval, ...rest }: Record<string, unknown>) =>
    JSON.stringify(Object.entries(rest).sort(([a], [b]) => a.localeCompare(b)));
  return strip(before) !== strip(after);
}

async function findIntegration(deps: IntegrationsDeps, workspaceId: string, id: string) {
  const integration = isUuid(id) ? await getIntegration(deps.pool, workspaceId, id) : undefined;
  if (!integration) throw new AppError('not_found', `integration ${id} not found`);
  return integration;
}

function requireTemporal(deps: IntegrationsDeps): Client {
  if (!deps.temporal) throw new AppError('unavailable', 'Temporal is not configured on this server');
  return deps.temporal;
}

function scheduleDeps(deps: IntegrationsDeps, temporal: Client) {
  return { client: temporal, taskQueue: deps.taskQueue ?? 'leads', logger: deps.logger };
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

/** Connects a partner; the webhook secret comes back only when we generated it (shown once). */
export async function connectIntegration(deps: IntegrationsDeps, workspaceId: string, input: Connection) {
  const adapter = partnerAdapter(input.partner);
  checkPartnerFields(adapter, { config: input.config, credentials: input.credentials ?? {} });
  checkDestinations(input.config);
  await requireProperty(deps.pool, workspaceId, input.propertyId);
  const keyRing = requireKeyRing(deps.keyRing);
  const { secret, show } = webhookSecretFor(adapter, input.credentials);
  const integration = await createIntegration(deps.pool, keyRing, {
    workspaceId,
    ...input,
    webhookSecret: secret,
  });
  await followSchedule(deps, integration);
  // A secret the partner gave us (credentials) is never echoed.
  return { integration, webhookSecret: show ? secret! : null };
}

export async function changeIntegration(
  deps: IntegrationsDeps,
  workspaceId: string,
  id: string,
  patch: {
    name?: string;
    propertyId?: string | null;
    config?: Record<string, unknown>;
    credentials?: Record<string, string>;
    status?: SettableStatus;
  },
) {
  const current = await findIntegration(deps, workspaceId, id);
  const adapter = partnerAdapter(current.partner);
  checkPartnerFields(adapter, { config: patch.config, credentials: patch.credentials });
  checkDestinations(patch.config);
  requireCredentialsIfMoved(adapter, current, patch);
  await requireProperty(deps.pool, workspaceId, patch.propertyId);
  const webhookSecret = replacedWebhookSecret(adapter, patch.credentials);
  const updated = await updateIntegration(deps.pool, requireKeyRing(deps.keyRing), workspaceId, current.id, {
    ...patch,
    webhookSecret,
    resetCursor: patch.config !== undefined && movesPolling(current.config, patch.config),
  });
  if (!updated) throw new AppError('not_found', `integration ${current.id} not found`);
  await followSchedule(deps, updated);
  return (await withHealth(deps, [updated]))[0]!;
}

export async function removeIntegration(deps: IntegrationsDeps, workspaceId: string, id: string) {
  const deleted = isUuid(id) && (await deleteIntegration(deps.pool, workspaceId, id));
  if (!deleted) throw new AppError('not_found', `integration ${id} not found`);
  if (deps.temporal) {
    // A poll that still fires finds the integration deleted and removes its own schedule.
    await deletePollSchedule(deps.temporal, id).catch((error: unknown) =>
      deps.logger?.warn({ err: error, integrationId: id }, 'poll schedule not deleted'),
    );
  }
}

// ---- health ----

/** Each integration with its health: the last 24 hours' facts and, for polled partners, the poll schedule. */
async function withHealth(deps: IntegrationsDeps, integrations: IntegrationRecord[]) {
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
    integration,
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

export async function integrationsWithHealth(
  deps: IntegrationsDeps,
  workspaceId: string,
  filter: { partner?: PartnerName },
) {
  return withHealth(deps, await listIntegrations(deps.pool, workspaceId, filter));
}

export async function integrationWithHealth(deps: IntegrationsDeps, workspaceId: string, id: string) {
  return (await withHealth(deps, [await findIntegration(deps, workspaceId, id)]))[0]!;
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

export type TestFailureCode =
  | 'partner_auth_failed'
  | 'partner_rejected'
  | 'partner_unavailable'
  /** The integration points where requests may not go (a name resolving to a private address). */
  | 'egress_refused'
  /** The stored credentials were given for another destination than the config names: re-enter them. */
  | 'credentials_required';

/** `connect` runs inside: a connection refused before any call (credentials given elsewhere) is an answer too. */
async function runConnectionTest(
  adapter: PartnerAdapter,
  connect: () => PartnerConnection,
): Promise<TestAnswer> {
  const started = performance.now();
  const latency = () => Math.round(performance.now() - started);
  try {
    const { detail } = await connectionTest(adapter.partner)!(connect());
    return { ok: true, detail, latency_ms: latency() };
  } catch (error) {
    if (!(error instanceof PartnerError)) throw error;
    const status = error.status ?? null;
    const code: TestFailureCode =
      error.details.partnerCode === 'egress_refused'
        ? 'egress_refused'
        : error.details.partnerCode === 'credentials_unbound'
          ? 'credentials_required'
          : error.kind === 'retryable'
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
  if (!adapter || !connectionTest(partner)) {
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

/** Tests a connection before it is saved: the body of connecting one, nothing stored. */
export async function testNewConnection(deps: IntegrationsDeps, workspaceId: string, input: Connection) {
  const adapter = testableAdapter(input.partner);
  checkPartnerFields(adapter, { config: input.config, credentials: input.credentials ?? {} });
  checkDestinations(input.config);
  await requireProperty(deps.pool, workspaceId, input.propertyId);
  return runConnectionTest(adapter, () => ({
    integrationId: 'unsaved',
    workspaceId,
    propertyId: input.propertyId,
    config: parsedConfig(adapter, input.config),
    credentials: input.credentials ?? {},
  }));
}

/** Tests a saved connection and records the result; a passing test lifts it out of `error` (polls resume). */
export async function testSavedConnection(deps: IntegrationsDeps, workspaceId: string, id: string) {
  const current = await findIntegration(deps, workspaceId, id);
  const adapter = testableAdapter(current.partner);
  const integration = await loadIntegrationSecrets(deps.pool, requireKeyRing(deps.keyRing), current.id);
  if (!integration) throw new AppError('not_found', `integration ${current.id} not found`);
  const answer = await runConnectionTest(adapter, () => partnerConnection(integration, adapter, {}));
  await recordTestResult(
    deps.pool,
    integration.id,
    answer.ok ? { ok: true } : { ok: false, error: answer.error.message },
  );
  if (answer.ok && integration.status === 'error') {
    await followSchedule(deps, { ...integration, status: 'active' });
  }
  return answer;
}

// ---- sync now ----

/**
 * One thing "sync now" does: whether it applies to an integration, and running it (what it started is merged
 * into the answer). Another step is one more entry in SYNC_STEPS.
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

const SYNC_STEPS: SyncStep[] = [pollNow, repushFailed];

/** Sync now: every step that applies to an active integration, in order; what each started. */
export async function syncNow(deps: IntegrationsDeps, workspaceId: string, id: string) {
  const integration = await findIntegration(deps, workspaceId, id);
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
    throw new AppError('conflict', `integration is ${integration.status}: nothing syncs until it is active`, {
      status: integration.status,
    });
  }
  const started: Record<string, unknown> = {};
  for (const step of steps) Object.assign(started, await step.run(deps, integration));
  return started;
}

// ---- templates ----

function setupStatus(statuses: string[]): 'not_configured' | 'active' | 'paused' | 'error' {
  if (statuses.length === 0) return 'not_configured';
  if (statuses.includes('error')) return 'error';
  if (statuses.includes('active')) return 'active';
  return 'paused';
}

/** Each partner's template with the caller's setup status and count of integrations. */
export async function templatesFor(pool: pg.Pool, workspaceId: string, partners: readonly PartnerName[]) {
  const counts = await countIntegrationsByPartner(pool, workspaceId);
  return partners.map((partner) => {
    const mine = counts.filter((c) => c.partner === partner);
    return {
      ...templateDefinition(partner),
      setup_status: setupStatus(mine.map((c) => c.status)),
      integrations_count: mine.reduce((sum, c) => sum + c.count, 0),
    };
  });
}
