// Outbound webhook endpoints in Postgres: registration with a sealed signing secret, rotation, enabling and
// disabling, test messages and the delivery log.
import { randomBytes, randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { KeyRing } from '../shared/crypto';
import { PREVIOUS_SECRET_HOURS, TEST_EVENT_TYPE } from '../shared/webhooks';
import { withTransaction } from './pool';

export interface EndpointRecord {
  id: string;
  workspace_id: string;
  name: string;
  url: string;
  events: string[];
  status: 'active' | 'disabled';
  disabled_reason: string | null;
  failing_since: Date | null;
  last_success_at: Date | null;
  last_failure_at: Date | null;
  previous_secret_expires_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const ENDPOINT_COLUMNS = `id, workspace_id, name, url, events, status, disabled_reason, failing_since, last_success_at,
  last_failure_at, previous_secret_expires_at, created_at, updated_at`;

/** A Standard Webhooks secret: `whsec_` and base64 of 24 random bytes. */
export function generateSigningSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

/** The authenticated context a secret is sealed for: a sealed value copied to another endpoint does not open. */
export function secretContext(endpointId: string): string {
  return `webhook_endpoint:${endpointId}:secret`;
}

const iso = (d: Date | null) => d?.toISOString() ?? null;

export function endpointJson(e: EndpointRecord) {
  return {
    id: e.id,
    workspace_id: e.workspace_id,
    name: e.name,
    url: e.url,
    events: e.events,
    status: e.status,
    disabled_reason: e.disabled_reason,
    failing_since: iso(e.failing_since),
    last_success_at: iso(e.last_success_at),
    last_failure_at: iso(e.last_failure_at),
    previous_secret_expires_at:
      e.previous_secret_expires_at && e.previous_secret_expires_at > new Date()
        ? e.previous_secret_expires_at.toISOString()
        : null,
    created_at: e.created_at.toISOString(),
    updated_at: e.updated_at.toISOString(),
  };
}

export async function createEndpoint(
  pool: pg.Pool,
  keyRing: KeyRing,
  input: { workspaceId: string; name: string; url: string; events: string[]; secret: string },
): Promise<EndpointRecord> {
  const id = randomUUID();
  const { rows } = await pool.query<EndpointRecord>(
    `INSERT INTO webhook_endpoints (id, workspace_id, name, url, events, secret_sealed)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${ENDPOINT_COLUMNS}`,
    [
      id,
      input.workspaceId,
      input.name,
      input.url,
      input.events,
      keyRing.seal(input.secret, secretContext(id)),
    ],
  );
  return rows[0]!;
}

export async function listEndpoints(pool: pg.Pool, workspaceId: string): Promise<EndpointRecord[]> {
  const { rows } = await pool.query<EndpointRecord>(
    `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE workspace_id = $1 AND deleted_at IS NULL ORDER BY created_at`,
    [workspaceId],
  );
  return rows;
}

export async function getEndpoint(
  pool: pg.Pool,
  workspaceId: string,
  id: string,
): Promise<EndpointRecord | undefined> {
  const { rows } = await pool.query<EndpointRecord>(
    `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE workspace_id = $1 AND id = $2 AND deleted_at IS NULL`,
    [workspaceId, id],
  );
  return rows[0];
}

/** Name, URL, events; `enabled: true` re-enables a disabled endpoint and forgets its failures. */
export async function updateEndpoint(
  pool: pg.Pool,
  workspaceId: string,
  id: string,
  patch: { name?: string; url?: string; events?: string[]; enabled?: boolean },
): Promise<EndpointRecord | undefined> {
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<EndpointRecord>(
      `UPDATE webhook_endpoints
          SET name = COALESCE($3, name), url = COALESCE($4, url), events = COALESCE($5, events),
              status = CASE WHEN $6::boolean IS NULL THEN status WHEN $6 THEN 'active' ELSE 'disabled' END,
              disabled_reason = CASE WHEN $6::boolean IS NULL THEN disabled_reason WHEN $6 THEN NULL ELSE 'disabled by the workspace' END,
              failing_since = CASE WHEN $6 THEN NULL ELSE failing_since END,
              updated_at = now()
        WHERE workspace_id = $1 AND id = $2 AND deleted_at IS NULL RETURNING ${ENDPOINT_COLUMNS}`,
      [workspaceId, id, patch.name ?? null, patch.url ?? null, patch.events ?? null, patch.enabled ?? null],
    );
    if (rows[0] && patch.enabled === false) await cancelQueued(client, id);
    return rows[0];
  });
}

/** Messages not yet handed to a delivery workflow will not be; running ones stop at their next attempt. */
export async function cancelQueued(client: pg.PoolClient, endpointId: string): Promise<void> {
  await client.query(
    `UPDATE webhook_messages SET status = 'cancelled', finished_at = now() WHERE endpoint_id = $1 AND status = 'queued'`,
    [endpointId],
  );
}

export async function deleteEndpoint(pool: pg.Pool, workspaceId: string, id: string): Promise<boolean> {
  return withTransaction(pool, async (client) => {
    const { rowCount } = await client.query(
      `UPDATE webhook_endpoints SET deleted_at = now(), status = 'disabled', disabled_reason = 'deleted', updated_at = now()
        WHERE workspace_id = $1 AND id = $2 AND deleted_at IS NULL`,
      [workspaceId, id],
    );
    if (!rowCount) return false;
    await cancelQueued(client, id);
    return true;
  });
}

/** A new signing secret; the previous one keeps signing beside it for PREVIOUS_SECRET_HOURS. */
export async function rotateSecret(
  pool: pg.Pool,
  keyRing: KeyRing,
  workspaceId: string,
  id: string,
  secret: string,
): Promise<EndpointRecord | undefined> {
  const { rows } = await pool.query<EndpointRecord>(
    `UPDATE webhook_endpoints
        SET previous_secret_sealed = secret_sealed, secret_sealed = $3,
            previous_secret_expires_at = now() + make_interval(hours => $4), updated_at = now()
      WHERE workspace_id = $1 AND id = $2 AND deleted_at IS NULL RETURNING ${ENDPOINT_COLUMNS}`,
    [workspaceId, id, keyRing.seal(secret, secretContext(id)), PREVIOUS_SECRET_HOURS],
  );
  return rows[0];
}

/** Standard Webhooks payload: `{ type, timestamp, data }`. */
export function webhookPayload(type: string, timestamp: Date, data: Record<string, unknown>): string {
  return JSON.stringify({ type, timestamp: timestamp.toISOString(), data });
}

/** Queues a `webhook.test` message for this endpoint only; the dispatcher starts its delivery. */
export async function queueTestMessage(
  pool: pg.Pool,
  endpoint: EndpointRecord,
): Promise<{ messageId: string }> {
  const id = randomUUID();
  await pool.query(
    `INSERT INTO webhook_messages (id, workspace_id, endpoint_id, order_key, event_type, payload)
     VALUES ($1, $2, $3, $6, $4, $5)`,
    [
      id,
      endpoint.workspace_id,
      endpoint.id,
      TEST_EVENT_TYPE,
      webhookPayload(TEST_EVENT_TYPE, new Date(), {
        endpoint_id: endpoint.id,
        workspace_id: endpoint.workspace_id,
        message: 'This is a test event from leadrelay.',
      }),
      id,
    ],
  );
  await pool.query(`SELECT pg_notify('leadrelay_outbox', '')`);
  return { messageId: id };
}

export interface DeliveryRecord {
  id: string;
  message_id: string;
  event_type: string;
  lead_id: string | null;
  attempt: number;
  success: boolean;
  status_code: number | null;
  error: string | null;
  response_body: string | null;
  duration_ms: number;
  next_attempt_at: Date | null;
  created_at: Date;
}

export function deliveryJson(d: DeliveryRecord) {
  return {
    id: d.id,
    message_id: d.message_id,
    event_type: d.event_type,
    lead_id: d.lead_id,
    attempt: d.attempt,
    success: d.success,
    status_code: d.status_code,
    error: d.error,
    response_body: d.response_body,
    duration_ms: d.duration_ms,
    next_attempt_at: iso(d.next_attempt_at),
    created_at: d.created_at.toISOString(),
  };
}

/** The delivery log of an endpoint, newest first, keyset-paged on (created_at, id). */
export async function listDeliveries(
  pool: pg.Pool,
  endpointId: string,
  filter: {
    success?: boolean;
    messageId?: string;
    limit: number;
    cursor?: { createdAt: string; id: string };
  },
): Promise<DeliveryRecord[]> {
  const where = ['d.endpoint_id = $1'];
  const params: unknown[] = [endpointId];
  if (filter.success !== undefined) {
    params.push(filter.success);
    where.push(`d.success = $${params.length}`);
  }
  if (filter.messageId) {
    params.push(filter.messageId);
    where.push(`d.message_id = $${params.length}`);
  }
  if (filter.cursor) {
    params.push(filter.cursor.createdAt, filter.cursor.id);
    where.push(`(d.created_at, d.id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
  }
  params.push(filter.limit);
  const { rows } = await pool.query<DeliveryRecord>(
    `SELECT d.id, d.message_id, m.event_type, m.lead_id, d.attempt, d.success, d.status_code, d.error, d.response_body,
            d.duration_ms, d.next_attempt_at, d.created_at
       FROM webhook_deliveries d JOIN webhook_messages m ON m.id = d.message_id
      WHERE ${where.join(' AND ')} ORDER BY d.created_at DESC, d.id DESC LIMIT $${params.length}`,
    params,
  );
  return rows;
}
