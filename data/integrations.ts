// Integrations in Postgres: a workspace's connection to a partner, its secrets sealed with the key ring, its
// poll cursor and the facts its health is read from.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { DestinationMismatch, type KeyRing } from '../shared/crypto';
import { credentialDestination, describeDestination } from '../shared/destination';
import type { PartnerName } from '../shared/lifecycle';
import { NotifiedCache, type ConfigListener } from './configCache';
import { withTransaction } from './pool';

/** What a workspace may set; `error` is set by failures only, `deleted` by DELETE. */
export type SettableStatus = 'active' | 'paused';
export type IntegrationStatus = SettableStatus | 'error' | 'deleted';

export interface IntegrationRecord {
  id: string;
  workspace_id: string;
  partner: PartnerName;
  name: string;
  property_id: string | null;
  config: Record<string, unknown>;
  status: IntegrationStatus;
  has_credentials: boolean;
  has_webhook_secret: boolean;
  last_sync_at: Date | null;
  last_error: string | null;
  last_poll_at: Date | null;
  last_success_at: Date | null;
  last_error_at: Date | null;
  consecutive_failures: number;
  last_test_at: Date | null;
  last_test_ok: boolean | null;
  created_at: Date;
  updated_at: Date;
}

/** An integration with its secrets opened: for the ingest path and partner adapters only, never for answers. */
export interface IntegrationWithSecrets extends IntegrationRecord {
  /** Empty when none are stored, or when they were given for another destination (`credentialsRefused`). */
  credentials: Record<string, string>;
  /**
   * Why the stored credentials stay sealed: they were given for another destination than the config now names
   * (a URL moved behind the api's back). Staff-readable; nothing is sent with them.
   */
  credentialsRefused?: string;
  webhookSecret?: string;
}

const COLUMNS = `id, workspace_id, partner, name, property_id, config, status, last_sync_at, last_error, created_at,
  updated_at, last_poll_at, last_success_at, last_error_at, consecutive_failures, last_test_at, last_test_ok,
  credentials_encrypted IS NOT NULL AS has_credentials,
  webhook_secret_encrypted IS NOT NULL AS has_webhook_secret`;

/** The authenticated contexts secrets are sealed for: a ciphertext copied to another row does not open there. */
export const credentialsContext = (id: string) => `integration:${id}:credentials`;
export const webhookSecretContext = (id: string) => `integration:${id}:webhook_secret`;

/** Credentials are sealed for their row and for where they are sent (shared/destination.ts). */
function sealCredentials(
  keys: KeyRing,
  id: string,
  credentials: Record<string, string> | undefined,
  config: Record<string, unknown>,
) {
  return credentials && Object.keys(credentials).length > 0
    ? keys.seal(JSON.stringify(credentials), credentialsContext(id), credentialDestination(config))
    : null;
}

/**
 * Opens stored credentials for the destination the config names. Credentials given for another destination
 * stay sealed: a DestinationMismatch whose message staff can act on. Sealed before destinations were bound
 * (`v1`): opened (rotate-keys binds them).
 */
export function openCredentials(
  keys: KeyRing,
  id: string,
  sealed: string,
  config: Record<string, unknown>,
): Record<string, string> {
  try {
    return JSON.parse(keys.open(sealed, credentialsContext(id), credentialDestination(config))) as Record<
      string,
      string
    >;
  } catch (error) {
    if (!(error instanceof DestinationMismatch)) throw error;
    throw new DestinationMismatch(
      error.sealedFor,
      error.openedFor,
      `the credentials were given for ${describeDestination(error.sealedFor)}, but the integration now ` +
        `sends to ${describeDestination(error.openedFor)}: re-enter them`,
    );
  }
}

export async function createIntegration(
  pool: pg.Pool,
  keys: KeyRing,
  input: {
    workspaceId: string;
    partner: PartnerName;
    name: string;
    propertyId?: string;
    config: Record<string, unknown>;
    credentials?: Record<string, string>;
    webhookSecret?: string;
  },
): Promise<IntegrationRecord> {
  const id = randomUUID();
  const credentials = sealCredentials(keys, id, input.credentials, input.config);
  const secret = input.webhookSecret ? keys.seal(input.webhookSecret, webhookSecretContext(id)) : null;
  const { rows } = await pool.query<IntegrationRecord>(
    `INSERT INTO integrations (id, workspace_id, partner, name, property_id, config, credentials_encrypted,
                               webhook_secret_encrypted)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${COLUMNS}`,
    [
      id,
      input.workspaceId,
      input.partner,
      input.name,
      input.propertyId ?? null,
      JSON.stringify(input.config),
      credentials,
      secret,
    ],
  );
  return rows[0]!;
}

export async function listIntegrations(
  pool: pg.Pool,
  workspaceId: string,
  filter: { partner?: string } = {},
): Promise<IntegrationRecord[]> {
  const { rows } = await pool.query<IntegrationRecord>(
    `SELECT ${COLUMNS} FROM integrations
      WHERE workspace_id = $1 AND deleted_at IS NULL AND ($2::text IS NULL OR partner = $2)
      ORDER BY created_at, id`,
    [workspaceId, filter.partner ?? null],
  );
  return rows;
}

export async function getIntegration(
  pool: pg.Pool,
  workspaceId: string,
  id: string,
): Promise<IntegrationRecord | undefined> {
  const { rows } = await pool.query<IntegrationRecord>(
    `SELECT ${COLUMNS} FROM integrations WHERE workspace_id = $1 AND id = $2 AND deleted_at IS NULL`,
    [workspaceId, id],
  );
  return rows[0];
}

export interface IntegrationPatch {
  name?: string;
  /** null: the integration serves the whole workspace. */
  propertyId?: string | null;
  /** Replaces the whole config. */
  config?: Record<string, unknown>;
  /** Replaces every credential (write-only: never read back). */
  credentials?: Record<string, string>;
  /** A new webhook secret, when the partner's secret lives in its credentials (Twilio's auth token). */
  webhookSecret?: string;
  status?: SettableStatus;
  /** Forget the poll cursor: the next poll starts from the configured look-back (a new account or property). */
  resetCursor?: boolean;
}

/**
 * Applies a PATCH in one transaction. A changed config or new credentials are the usual fix for a partner
 * that refused us, so they put an integration in `error` back to `active`; so does `status: active`.
 */
export async function updateIntegration(
  pool: pg.Pool,
  keys: KeyRing,
  workspaceId: string,
  id: string,
  patch: IntegrationPatch,
): Promise<IntegrationRecord | undefined> {
  return withTransaction(pool, async (client) => {
    const { rows: locked } = await client.query<{
      status: IntegrationStatus;
      config: Record<string, unknown>;
      credentials_encrypted: string | null;
    }>(
      `SELECT status, config, credentials_encrypted FROM integrations
        WHERE workspace_id = $1 AND id = $2 AND deleted_at IS NULL FOR UPDATE`,
      [workspaceId, id],
    );
    const current = locked[0];
    if (!current) return undefined;
    const credentials =
      patch.credentials !== undefined
        ? {
            replace: true,
            sealed: sealCredentials(keys, id, patch.credentials, patch.config ?? current.config),
          }
        : rebound(keys, id, current, patch.config);
    const fixed = patch.config !== undefined || patch.credentials !== undefined;
    const status = patch.status ?? (current.status === 'error' && fixed ? 'active' : current.status);
    const recovered = current.status === 'error' && status !== 'error';
    const { rows } = await client.query<IntegrationRecord>(
      `UPDATE integrations
          SET name = COALESCE($3, name),
              property_id = CASE WHEN $4::boolean THEN $5 ELSE property_id END,
              config = COALESCE($6::jsonb, config),
              credentials_encrypted = CASE WHEN $7::boolean THEN $8 ELSE credentials_encrypted END,
              webhook_secret_encrypted = COALESCE($9, webhook_secret_encrypted),
              status = $10,
              consecutive_failures = CASE WHEN $11::boolean THEN 0 ELSE consecutive_failures END,
              poll_cursor = CASE WHEN $12::boolean THEN NULL ELSE poll_cursor END,
              updated_at = now()
        WHERE id = $1 AND workspace_id = $2
        RETURNING ${COLUMNS}`,
      [
        id,
        workspaceId,
        patch.name ?? null,
        patch.propertyId !== undefined,
        patch.propertyId ?? null,
        patch.config !== undefined ? JSON.stringify(patch.config) : null,
        credentials.replace,
        credentials.sealed,
        patch.webhookSecret ? keys.seal(patch.webhookSecret, webhookSecretContext(id)) : null,
        status,
        recovered,
        patch.resetCursor === true,
      ],
    );
    return rows[0];
  });
}

/**
 * The stored credentials after a config change that brings none: bound to the new config's destination when
 * they opened for the old one. The api refuses a change that moves a destination without credentials
 * (usecases/integrations.ts), so what changes here is the spelling (a default written out, a path) or a value
 * sealed before destinations were bound. Credentials that do not open for the old config stay as they are.
 */
function rebound(
  keys: KeyRing,
  id: string,
  current: { config: Record<string, unknown>; credentials_encrypted: string | null },
  config: Record<string, unknown> | undefined,
): { replace: boolean; sealed: string | null } {
  const sealed = current.credentials_encrypted;
  const unchanged = { replace: false, sealed: null };
  if (!sealed || !config || keys.boundTo(sealed) === credentialDestination(config)) return unchanged;
  let opened: Record<string, string>;
  try {
    opened = openCredentials(keys, id, sealed, current.config);
  } catch (error) {
    if (error instanceof DestinationMismatch) return unchanged;
    throw error;
  }
  return { replace: true, sealed: sealCredentials(keys, id, opened, config) };
}

/** Soft delete: the row stays for the inbox events that reference it; its webhooks answer 404 from now on. */
export async function deleteIntegration(pool: pg.Pool, workspaceId: string, id: string): Promise<boolean> {
  const { rowCount } = await pool.query(
    `UPDATE integrations
        SET status = 'deleted', deleted_at = now(), updated_at = now(),
            credentials_encrypted = NULL, webhook_secret_encrypted = NULL
      WHERE workspace_id = $1 AND id = $2 AND deleted_at IS NULL`,
    [workspaceId, id],
  );
  return (rowCount ?? 0) > 0;
}

/** The integration a webhook names, secrets opened; undefined when it does not exist or was deleted. */
export async function loadIntegrationSecrets(
  pool: pg.Pool,
  keys: KeyRing,
  id: string,
): Promise<IntegrationWithSecrets | undefined> {
  const { rows } = await pool.query<
    IntegrationRecord & { credentials_encrypted: string | null; webhook_secret_encrypted: string | null }
  >(
    `SELECT ${COLUMNS}, credentials_encrypted, webhook_secret_encrypted
       FROM integrations WHERE id = $1 AND deleted_at IS NULL`,
    [id],
  );
  const row = rows[0];
  if (!row) return undefined;
  const { credentials_encrypted, webhook_secret_encrypted, ...record } = row;
  let credentials: Record<string, string> = {};
  let credentialsRefused: string | undefined;
  try {
    if (credentials_encrypted) credentials = openCredentials(keys, row.id, credentials_encrypted, row.config);
  } catch (error) {
    // The webhook secret still opens: ingest verifies what the partner signs; nothing is sent with these.
    if (!(error instanceof DestinationMismatch)) throw error;
    credentialsRefused = error.message;
  }
  return {
    ...record,
    credentials,
    ...(credentialsRefused ? { credentialsRefused } : {}),
    webhookSecret: webhook_secret_encrypted
      ? keys.open(webhook_secret_encrypted, webhookSecretContext(row.id))
      : undefined,
  };
}

/**
 * Integrations with their secrets opened, as ingest needs them per webhook: read once, kept for `ttlMs`, dropped
 * as soon as Postgres notifies a change (edit, pause, delete, new secret, key rotation). Unknown ids are kept too.
 */
export class IntegrationCache {
  private readonly cache: NotifiedCache<string, IntegrationWithSecrets | null>;

  constructor(
    private readonly pool: pg.Pool,
    private readonly keys: KeyRing,
    listener: ConfigListener,
    ttlMs = 30_000,
  ) {
    this.cache = new NotifiedCache(listener, {
      ttlMs,
      affects: (id, change) => change.table === 'integrations' && change.id === id,
    });
  }

  async get(id: string): Promise<IntegrationWithSecrets | undefined> {
    const found = await this.cache.get(
      id,
      async () => (await loadIntegrationSecrets(this.pool, this.keys, id)) ?? null,
    );
    return found ?? undefined;
  }
}

/** Integrations of these partners (every workspace, or one), for reconciling poll schedules. */
export async function listIntegrationsOfPartners(
  pool: pg.Pool,
  partners: readonly string[],
  workspaceId?: string,
): Promise<IntegrationRecord[]> {
  const { rows } = await pool.query<IntegrationRecord>(
    `SELECT ${COLUMNS} FROM integrations
      WHERE deleted_at IS NULL AND partner = ANY($1) AND ($2::text IS NULL OR workspace_id = $2)
      ORDER BY created_at, id`,
    [partners, workspaceId ?? null],
  );
  return rows;
}

/** Partner and deletion of these integrations (ids not in this database are left out). */
export async function integrationStates(
  pool: pg.Pool,
  ids: string[],
): Promise<Map<string, { partner: PartnerName; deleted: boolean }>> {
  if (ids.length === 0) return new Map();
  const { rows } = await pool.query<{ id: string; partner: PartnerName; deleted: boolean }>(
    'SELECT id, partner, deleted_at IS NOT NULL AS deleted FROM integrations WHERE id = ANY($1::uuid[])',
    [ids],
  );
  return new Map(rows.map((r) => [r.id, { partner: r.partner, deleted: r.deleted }]));
}

/** How many integrations of each partner and status a workspace has (template setup status). */
export async function countIntegrationsByPartner(
  pool: pg.Pool,
  workspaceId: string,
): Promise<{ partner: PartnerName; status: IntegrationStatus; count: number }[]> {
  const { rows } = await pool.query<{ partner: PartnerName; status: IntegrationStatus; count: number }>(
    `SELECT partner, status, count(*)::int AS count FROM integrations
      WHERE workspace_id = $1 AND deleted_at IS NULL GROUP BY partner, status`,
    [workspaceId],
  );
  return rows;
}

// ---- connection tests ----

/**
 * A connection test's result. A success also clears a standing error (the partner answers again, so polling
 * and pushes may resume); a failure is recorded without changing the status: a test is a probe.
 */
export async function recordTestResult(
  pool: pg.Pool,
  id: string,
  result: { ok: true } | { ok: false; error: string },
): Promise<void> {
  if (result.ok) {
    await pool.query(
      `UPDATE integrations
          SET last_test_at = now(), last_test_ok = true, last_error = NULL, consecutive_failures = 0,
              status = CASE WHEN status = 'error' THEN 'active' ELSE status END, updated_at = now()
        WHERE id = $1 AND deleted_at IS NULL`,
      [id],
    );
    return;
  }
  await pool.query(
    `UPDATE integrations
        SET last_test_at = now(), last_test_ok = false, last_error = $2, last_error_at = now(), updated_at = now()
      WHERE id = $1 AND deleted_at IS NULL`,
    [id, result.error.slice(0, 2000)],
  );
}

// ---- polling ----

export async function readPollCursor(pool: pg.Pool, id: string): Promise<string | undefined> {
  const { rows } = await pool.query<{ poll_cursor: string | null }>(
    'SELECT poll_cursor FROM integrations WHERE id = $1',
    [id],
  );
  return rows[0]?.poll_cursor ?? undefined;
}

/** Written after a page's events are in the inbox: a crash after this re-fetches nothing already stored. */
export async function savePollCursor(pool: pg.Pool, id: string, cursor: string): Promise<void> {
  await pool.query(
    'UPDATE integrations SET poll_cursor = $2, last_poll_at = now(), last_sync_at = now() WHERE id = $1',
    [id, cursor],
  );
}

export async function recordPollSuccess(pool: pg.Pool, id: string): Promise<void> {
  await pool.query(
    `UPDATE integrations
        SET last_poll_at = now(), last_sync_at = now(), last_success_at = now(), last_error = NULL,
            consecutive_failures = 0, updated_at = now()
      WHERE id = $1`,
    [id],
  );
}

/** A poll that will be tried again (429, 5xx, timeout): health sees it, the status stays. */
export async function recordPollRetry(pool: pg.Pool, id: string, error: string): Promise<void> {
  await pool.query(
    `UPDATE integrations
        SET last_poll_at = now(), last_sync_at = now(), last_error = $2, last_error_at = now(),
            consecutive_failures = consecutive_failures + 1, updated_at = now()
      WHERE id = $1`,
    [id, error.slice(0, 2000)],
  );
}

/**
 * A poll the partner refused for good (bad credentials, a 4xx): the integration goes to `error` and staff get
 * one task per fall into error (the task key names the failing run, so a retried activity adds none).
 * Answers whether this call moved the integration into `error`.
 */
export async function recordPollFailure(
  pool: pg.Pool,
  input: {
    integrationId: string;
    error: string;
    /** Unique per failing poll run. */
    taskKey: string;
    details: Record<string, unknown>;
  },
): Promise<boolean> {
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<{ workspace_id: string; was: IntegrationStatus }>(
      `UPDATE integrations i
          SET status = CASE WHEN i.status = 'active' THEN 'error' ELSE i.status END,
              last_poll_at = now(), last_sync_at = now(), last_error = $2, last_error_at = now(),
              consecutive_failures = i.consecutive_failures + 1, updated_at = now()
         FROM integrations old
        WHERE i.id = $1 AND old.id = i.id AND i.deleted_at IS NULL
        RETURNING i.workspace_id, old.status AS was`,
      [input.integrationId, input.error.slice(0, 2000)],
    );
    const row = rows[0];
    if (!row || row.was !== 'active') return false;
    await client.query(
      `INSERT INTO staff_tasks (idempotency_key, workspace_id, kind, details)
       VALUES ($1, $2, 'integration_poll_failed', $3) ON CONFLICT (idempotency_key) DO NOTHING`,
      [input.taskKey, row.workspace_id, JSON.stringify(input.details)],
    );
    return true;
  });
}

// ---- health ----

export const SYNC_OUTCOMES = ['pending', 'success', 'failed', 'conflict', 'skipped'] as const;
export type SyncOutcomeCounts = Record<(typeof SYNC_OUTCOMES)[number], number>;

export interface HealthFacts {
  /** partner_syncs of the last 24 hours by outcome. */
  counts: SyncOutcomeCounts;
  /** Inbox events (webhooks and polls) of the last 24 hours. */
  eventsReceived: number;
  lastEventAt: Date | null;
  lastPushAt: Date | null;
  lastPushSuccessAt: Date | null;
}

const emptyCounts = (): SyncOutcomeCounts => ({ pending: 0, success: 0, failed: 0, conflict: 0, skipped: 0 });

/** The facts health is read from, for several integrations in three queries. */
export async function healthFacts(pool: pg.Pool, ids: string[]): Promise<Map<string, HealthFacts>> {
  const facts = new Map<string, HealthFacts>(
    ids.map((id) => [
      id,
      {
        counts: emptyCounts(),
        eventsReceived: 0,
        lastEventAt: null,
        lastPushAt: null,
        lastPushSuccessAt: null,
      },
    ]),
  );
  if (ids.length === 0) return facts;
  const [syncs, pushes, events] = await Promise.all([
    pool.query<{ integration_id: string; outcome: keyof SyncOutcomeCounts; count: number }>(
      `SELECT integration_id, outcome, count(*)::int AS count FROM partner_syncs
        WHERE integration_id = ANY($1::uuid[]) AND created_at > now() - interval '24 hours'
        GROUP BY integration_id, outcome`,
      [ids],
    ),
    pool.query<{ integration_id: string; last_at: Date | null; last_success_at: Date | null }>(
      `SELECT i.id AS integration_id,
              (SELECT max(s.updated_at) FROM partner_syncs s WHERE s.integration_id = i.id) AS last_at,
              (SELECT max(s.finished_at) FROM partner_syncs s
                WHERE s.integration_id = i.id AND s.outcome = 'success') AS last_success_at
         FROM unnest($1::uuid[]) AS i(id)`,
      [ids],
    ),
    pool.query<{ integration_id: string; received: number; last_at: Date | null }>(
      `SELECT i.id AS integration_id,
              (SELECT count(*)::int FROM inbox_events e
                WHERE e.integration_id = i.id AND e.received_at > now() - interval '24 hours') AS received,
              (SELECT max(e.received_at) FROM inbox_events e WHERE e.integration_id = i.id) AS last_at
         FROM unnest($1::uuid[]) AS i(id)`,
      [ids],
    ),
  ]);
  for (const row of syncs.rows) {
    const entry = facts.get(row.integration_id);
    if (entry && row.outcome in entry.counts) entry.counts[row.outcome] = row.count;
  }
  for (const row of pushes.rows) {
    const entry = facts.get(row.integration_id)!;
    entry.lastPushAt = row.last_at;
    entry.lastPushSuccessAt = row.last_success_at;
  }
  for (const row of events.rows) {
    const entry = facts.get(row.integration_id)!;
    entry.eventsReceived = row.received;
    entry.lastEventAt = row.last_at;
  }
  return facts;
}

export type HealthStatus = 'healthy' | 'degraded' | 'failing' | 'idle';

/** Polls failing in a row before an integration counts as failing rather than degraded. */
export const FAILING_AFTER_POLL_FAILURES = 3;

const latest = (...dates: (Date | null | undefined)[]): Date | null =>
  dates.reduce<Date | null>((a, b) => (b && (!a || b > a) ? b : a), null);

/**
 * One word for an integration's state, from its last 24 hours:
 * - failing: the integration is in `error`, polls failed FAILING_AFTER_POLL_FAILURES times in a row, or
 *   every finished push failed;
 * - degraded: the last poll failed, or some pushes failed or conflicted;
 * - idle: paused, or nothing came in or went out (no events, pushes or polls);
 * - healthy: otherwise.
 */
export function healthOf(
  integration: IntegrationRecord,
  facts: HealthFacts,
  now = new Date(),
): {
  status: HealthStatus;
  last_sync_at: string | null;
  last_success_at: string | null;
  last_error: string | null;
  last_error_at: string | null;
  consecutive_failures: number;
  events_received_24h: number;
  syncs_24h: SyncOutcomeCounts;
} {
  const { counts } = facts;
  const finished = counts.success + counts.failed + counts.conflict;
  const dayAgo = now.getTime() - 24 * 3600_000;
  const lastSync = latest(
    integration.last_sync_at,
    integration.last_poll_at,
    facts.lastEventAt,
    facts.lastPushAt,
  );
  const lastSuccess = latest(integration.last_success_at, facts.lastPushSuccessAt, facts.lastEventAt);
  let status: HealthStatus;
  if (
    integration.status === 'error' ||
    integration.consecutive_failures >= FAILING_AFTER_POLL_FAILURES ||
    (counts.failed > 0 && counts.failed === finished)
  ) {
    status = 'failing';
  } else if (integration.consecutive_failures > 0 || counts.failed > 0 || counts.conflict > 0) {
    status = 'degraded';
  } else if (integration.status === 'paused' || !lastSync || lastSync.getTime() < dayAgo) {
    status = 'idle';
  } else {
    status = 'healthy';
  }
  return {
    status,
    last_sync_at: lastSync?.toISOString() ?? null,
    last_success_at: lastSuccess?.toISOString() ?? null,
    last_error: integration.last_error,
    last_error_at: integration.last_error_at?.toISOString() ?? null,
    consecutive_failures: integration.consecutive_failures,
    events_received_24h: facts.eventsReceived,
    syncs_24h: counts,
  };
}

/**
 * The Twilio integration whose webhook takes the delivery status of an SMS sent to this lead: an active one of
 * the lead's property, else of the whole workspace. Undefined when the workspace has none.
 */
export async function smsStatusIntegration(
  pool: pg.Pool,
  workspaceId: string,
  leadId: string,
): Promise<string | undefined> {
  const { rows } = await pool.query<{ id: string }>(
    `SELECT i.id FROM integrations i
       JOIN leads l ON l.workspace_id = i.workspace_id AND l.id = $2
      WHERE i.workspace_id = $1 AND i.partner = 'twilio' AND i.status = 'active' AND i.deleted_at IS NULL
        AND (i.property_id IS NULL OR i.property_id = l.property_id)
      ORDER BY i.property_id IS NULL, i.created_at
      LIMIT 1`,
    [workspaceId, leadId],
  );
  return rows[0]?.id;
}

/**
 * Rotates an integration's credentials: under the row's lock, `update` gets the stored credentials (opened) and
 * answers the new ones, sealed and stored in the same transaction. A concurrent rotation waits for this one and
 * then sees its result. `update` may call the partner (a token refresh): the lock is held for that one call.
 */
export async function rotateCredentials(
  pool: pg.Pool,
  keys: KeyRing,
  id: string,
  update: (stored: Record<string, string>) => Promise<Record<string, string>>,
): Promise<Record<string, string>> {
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<{
      credentials_encrypted: string | null;
      config: Record<string, unknown>;
    }>(
      'SELECT credentials_encrypted, config FROM integrations WHERE id = $1 AND deleted_at IS NULL FOR UPDATE',
      [id],
    );
    const sealed = rows[0]?.credentials_encrypted;
    const config = rows[0]?.config ?? {};
    // Rotated tokens are bound where the stored ones were: credentials given elsewhere throw, nothing is sent.
    const stored = sealed ? openCredentials(keys, id, sealed, config) : {};
    const next = await update(stored);
    if (JSON.stringify(next) !== JSON.stringify(stored)) {
      await client.query(
        'UPDATE integrations SET credentials_encrypted = $2, updated_at = now() WHERE id = $1',
        [id, sealCredentials(keys, id, next, config)],
      );
    }
    return next;
  });
}
