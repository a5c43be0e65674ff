// Inbox rows whose partner sent ids only (Facebook's leadgen): leased while a fetch workflow completes them,
// completed in place (the normalized event gains what the partner answered), and a refused fetch recorded for
// staff: the integration in `error` and a task on the lead.
import type pg from 'pg';
import type { InboundEvent } from '../shared/inbound';
import { withTransaction } from './pool';

/** How long the relay leaves a row to its fetch workflow before it makes sure one runs (starting is idempotent). */
export const FETCH_LEASE_SECONDS = 600;

/** The row stays pending, out of the relay's way while its fetch workflow runs. */
export async function leaseInboxForFetch(pool: pg.Pool, id: string): Promise<void> {
  await pool.query(
    `UPDATE inbox_events SET next_attempt_at = now() + make_interval(secs => $2), last_error = NULL
      WHERE id = $1 AND status = 'pending'`,
    [id, FETCH_LEASE_SECONDS],
  );
}

/** The stored event as the fetch completed it (or as it was, with the refusal noted). */
export async function saveCompletedEvent(pool: pg.Pool, id: string, event: InboundEvent): Promise<void> {
  await pool.query('UPDATE inbox_events SET normalized = $2 WHERE id = $1', [id, JSON.stringify(event)]);
}

/**
 * A final refusal of the partner (an expired token): the integration goes to `error` with the partner's message
 * (its health shows it; new credentials put it back) and staff get a task on the lead, once per inbox row.
 */
export async function recordFetchRefusal(
  pool: pg.Pool,
  input: {
    integrationId: string;
    workspaceId: string;
    leadId: string | null;
    taskKey: string;
    kind: string;
    error: string;
    details: Record<string, unknown>;
  },
): Promise<void> {
  await withTransaction(pool, async (client) => {
    await client.query(
      `UPDATE integrations
          SET status = CASE WHEN status = 'active' THEN 'error' ELSE status END,
              last_error = $2, last_error_at = now(), updated_at = now()
        WHERE id = $1 AND deleted_at IS NULL`,
      [input.integrationId, input.error.slice(0, 2000)],
    );
    await client.query(
      `INSERT INTO staff_tasks (idempotency_key, workspace_id, lead_id, kind, details)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (idempotency_key) DO NOTHING`,
      [input.taskKey, input.workspaceId, input.leadId, input.kind, JSON.stringify(input.details)],
    );
  });
}
