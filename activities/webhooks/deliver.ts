// Delivery activities of outbound webhooks: one signed POST per attempt (Standard Webhooks, via the
// `standardwebhooks` package), logged per attempt, tracking the endpoint's health; and the end of a message.
import type pg from 'pg';
import { Webhook } from 'standardwebhooks';
import type { KeyRing } from '../../shared/crypto';
import { idempotencyKey } from '../../shared/ids';
import { DISABLE_AFTER_FAILING_MS, retryDelaySeconds } from '../../shared/webhooks';
import { withTransaction } from '../../data/pool';
import { cancelQueued, secretContext } from '../../data/webhookEndpoints';
import { RECEIVER_ANSWER_LIMIT, capAnswer, egressRefusalOf, guardedFetch } from '../egress';

export interface WebhookDeps {
  pool: pg.Pool;
  /** Opens the endpoints' sealed signing secrets (LEADRELAY_ENCRYPTION_KEYS). */
  keyRing?: KeyRing;
  /** The HTTP client (tests may pass another); defaults to the egress-guarded fetch. */
  fetch?: typeof fetch;
  /** Per-attempt timeout of the POST. */
  timeoutMs?: number;
  /** Called once per finished attempt (metrics). */
  onOutcome?: (outcome: 'delivered' | 'failed' | 'endpoint_disabled') => void;
}

export interface AttemptArgs {
  messageId: string;
  attempt: number;
  /** The workflow's clock at this attempt: endpoint health is judged on it. */
  attemptedAt: string;
  /** Seconds until the next attempt should this one fail, or null when it is the last. */
  retryInSeconds: number | null;
}

export interface AttemptResult {
  outcome: 'delivered' | 'failed' | 'cancelled' | 'endpoint_disabled';
  statusCode?: number;
  /** The receiver's Retry-After, in seconds. */
  retryAfterSeconds?: number;
  error?: string;
}

interface MessageRow {
  id: string;
  workspace_id: string;
  endpoint_id: string;
  lead_id: string | null;
  event_type: string;
  payload: string;
  status: string;
  url: string;
  secret_sealed: string;
  previous_secret_sealed: string | null;
  previous_secret_expires_at: Date | null;
  endpoint_status: string;
  deleted_at: Date | null;
}

const RESPONSE_BODY_LIMIT = 2048;

function retryAfter(header: string | null, now: number): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

/** Every signature the message carries: the current secret's, and the previous one's while it is still valid. */
function signatures(row: MessageRow, keyRing: KeyRing, msgId: string, at: Date, body: string): string {
  const secrets = [keyRing.open(row.secret_sealed, secretContext(row.endpoint_id))];
  if (row.previous_secret_sealed && row.previous_secret_expires_at && row.previous_secret_expires_at > at) {
    secrets.push(keyRing.open(row.previous_secret_sealed, secretContext(row.endpoint_id)));
  }
  return secrets.map((secret) => new Webhook(secret).sign(msgId, at, body)).join(' ');
}

/**
 * One attempt: POST the message's payload signed with Standard Webhooks headers (the same webhook-id on every
 * attempt, so receivers can drop repeats). A 2xx is delivered; anything else is a failed attempt, logged, and
 * an endpoint that has failed every attempt for DISABLE_AFTER_FAILING_MS is disabled and its owner told.
 */
export async function attemptWebhookDelivery(deps: WebhookDeps, args: AttemptArgs): Promise<AttemptResult> {
  const { rows } = await deps.pool.query<MessageRow>(
    `SELECT m.id, m.workspace_id, m.endpoint_id, m.lead_id, m.event_type, m.payload, m.status, e.url, e.secret_sealed,
            e.previous_secret_sealed, e.previous_secret_expires_at, e.status AS endpoint_status, e.deleted_at
       FROM webhook_messages m JOIN webhook_endpoints e ON e.id = m.endpoint_id WHERE m.id = $1`,
    [args.messageId],
  );
  const row = rows[0];
  if (!row || ['cancelled', 'failed'].includes(row.status)) return { outcome: 'cancelled' };
  if (row.status === 'delivered') return { outcome: 'delivered' };
  if (row.deleted_at || row.endpoint_status !== 'active') return { outcome: 'cancelled' };

  const started = Date.now();
  let statusCode: number | undefined;
  let error: string | undefined;
  let responseBody: string | undefined;
  let retryAfterSeconds: number | undefined;
  /** Why the endpoint's destination is refused (egress guard): no retry can help, the endpoint is disabled. */
  let refusal: string | undefined;
  try {
    if (!deps.keyRing) throw new Error('LEADRELAY_ENCRYPTION_KEYS is not configured on the worker');
    const now = new Date();
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'leadrelay-webhooks/1',
      'webhook-id': row.id,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': signatures(row, deps.keyRing, row.id, now, row.payload),
    };
    const response = await (deps.fetch ?? guardedFetch)(row.url, {
      method: 'POST',
      headers,
      body: row.payload,
      redirect: 'manual',
      signal: AbortSignal.timeout(deps.timeoutMs ?? 15_000),
    });
    statusCode = response.status;
    // Read up to the cap (the log keeps less): a receiver answering forever costs nothing past it.
    responseBody = (
      await capAnswer(response, RECEIVER_ANSWER_LIMIT)
        .text()
        .catch((cut: unknown) => (cut instanceof Error ? `(${cut.message})` : ''))
    ).slice(0, RESPONSE_BODY_LIMIT);
    retryAfterSeconds = retryAfter(response.headers.get('retry-after'), Date.now());
    if (!response.ok) error = `HTTP ${response.status}`;
  } catch (thrown) {
    const refused = egressRefusalOf(thrown);
    refusal = refused?.message;
    error = refused
      ? `egress_refused: ${refused.message}`
      : thrown instanceof Error
        ? `${thrown.name}: ${thrown.message}`
        : String(thrown);
  }
  const success = error === undefined;
  const durationMs = Date.now() - started;
  const attemptedAt = new Date(args.attemptedAt);
  const nextAttemptAt =
    !success && args.retryInSeconds !== null
      ? new Date(attemptedAt.getTime() + retryDelaySeconds(args.retryInSeconds, retryAfterSeconds) * 1000)
      : null;

  const disabled = await withTransaction(deps.pool, async (client) => {
    await client.query(
      `INSERT INTO webhook_deliveries (idempotency_key, workspace_id, endpoint_id, message_id, attempt, success, status_code,
                                       error, response_body, duration_ms, next_attempt_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (idempotency_key) DO NOTHING`,
      [
        idempotencyKey('webhook', row.id, args.attempt),
        row.workspace_id,
        row.endpoint_id,
        row.id,
        args.attempt,
        success,
        statusCode ?? null,
        error ?? null,
        responseBody ?? null,
        durationMs,
        nextAttemptAt,
      ],
    );
    await client.query(
      `UPDATE webhook_messages SET attempts = GREATEST(attempts, $2), last_status_code = $3, last_error = $4,
              next_attempt_at = $5 WHERE id = $1`,
      [row.id, args.attempt, statusCode ?? null, error ?? null, nextAttemptAt],
    );
    if (success) {
      await client.query(
        `UPDATE webhook_endpoints SET failing_since = NULL, last_success_at = $2 WHERE id = $1`,
        [row.endpoint_id, attemptedAt],
      );
      return false;
    }
    const { rows: health } = await client.query<{ failing_since: Date }>(
      `UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, $2), last_failure_at = $2
        WHERE id = $1 RETURNING failing_since`,
      [row.endpoint_id, attemptedAt],
    );
    const failingSince = health[0]?.failing_since;
    if (refusal)
      return disableFailingEndpoint(client, row, failingSince ?? attemptedAt, attemptedAt, refusal);
    if (!failingSince || attemptedAt.getTime() - failingSince.getTime() < DISABLE_AFTER_FAILING_MS)
      return false;
    return disableFailingEndpoint(client, row, failingSince, attemptedAt);
  });
  deps.onOutcome?.(success ? 'delivered' : disabled ? 'endpoint_disabled' : 'failed');
  if (success) return { outcome: 'delivered', statusCode };
  return {
    outcome: disabled ? 'endpoint_disabled' : 'failed',
    ...(statusCode !== undefined ? { statusCode } : {}),
    ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
    error,
  };
}

/**
 * Disables the endpoint, cancels what waits for it, and opens a task for the workspace's staff: after failing
 * for too long, or at once when its destination is refused.
 */
async function disableFailingEndpoint(
  client: pg.PoolClient,
  row: MessageRow,
  failingSince: Date,
  at: Date,
  reason = `every delivery failed since ${failingSince.toISOString()}`,
): Promise<boolean> {
  const { rowCount } = await client.query(
    `UPDATE webhook_endpoints SET status = 'disabled', disabled_reason = $2, updated_at = now()
      WHERE id = $1 AND status = 'active'`,
    [row.endpoint_id, reason],
  );
  await cancelQueued(client, row.endpoint_id);
  if (rowCount) {
    await client.query(
      `INSERT INTO staff_tasks (idempotency_key, workspace_id, lead_id, kind, details)
       VALUES ($1, $2, NULL, 'webhook_endpoint_disabled', $3) ON CONFLICT (idempotency_key) DO NOTHING`,
      [
        idempotencyKey('webhook_endpoint', row.endpoint_id, 'disabled', failingSince.toISOString()),
        row.workspace_id,
        JSON.stringify({
          endpoint_id: row.endpoint_id,
          url: row.url,
          failing_since: failingSince.toISOString(),
          disabled_at: at.toISOString(),
          reason,
          action: 'fix the receiver, then PATCH /api/v1/webhook-endpoints/:id { "enabled": true }',
        }),
      ],
    );
  }
  return true;
}

/** The message's end; wakes the dispatcher so the next message of its queue starts. */
export async function finishWebhookMessage(
  pool: pg.Pool,
  args: { messageId: string; outcome: 'delivered' | 'failed' | 'cancelled' },
): Promise<void> {
  await pool.query(
    `UPDATE webhook_messages SET status = $2, finished_at = COALESCE(finished_at, now())
      WHERE id = $1 AND status IN ('queued', 'sending')`,
    [args.messageId, args.outcome],
  );
  await pool.query(`SELECT pg_notify('leadrelay_outbox', '')`);
}
