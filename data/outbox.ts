// The outbox side of outbound webhooks: fan each outbox event out to the endpoints subscribed to it, and
// pick the messages whose delivery may start (the oldest open message of each endpoint and lead).
import type pg from 'pg';
import { ALL_EVENTS } from '../shared/webhooks';
import { withTransaction } from './pool';

/** One dispatcher at a time (across worker processes) fans out and claims, so order is decided once. */
const DISPATCH_LOCK = `SELECT pg_try_advisory_xact_lock(hashtextextended('leadrelay:webhook-dispatch', 0)) AS locked`;

async function dispatchLock(client: pg.PoolClient): Promise<boolean> {
  const { rows } = await client.query<{ locked: boolean }>(DISPATCH_LOCK);
  return rows[0]?.locked === true;
}

/**
 * Turns up to `limit` undispatched outbox events, oldest first, into one message per subscribed active
 * endpoint of their workspace, and marks them dispatched. Answers how many events it took.
 */
export async function fanOutOutbox(pool: pg.Pool, limit = 500): Promise<number> {
  return withTransaction(pool, async (client) => {
    if (!(await dispatchLock(client))) return 0;
    const events = await client.query<{ id: string }>(
      'SELECT id FROM outbox_events WHERE dispatched_at IS NULL ORDER BY seq LIMIT $1 FOR UPDATE',
      [limit],
    );
    if (events.rows.length === 0) return 0;
    const ids = events.rows.map((row) => row.id);
    await client.query(
      `INSERT INTO webhook_messages (id, workspace_id, endpoint_id, outbox_event_id, lead_id, order_key, event_type, payload)
       SELECT gen_random_uuid(), e.workspace_id, ep.id, e.id, e.lead_id, COALESCE(e.lead_id::text, e.id::text), e.event_type,
              json_build_object('type', e.event_type,
                                'timestamp', to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                                'data', e.data)::text
         FROM outbox_events e
         JOIN webhook_endpoints ep
           ON ep.workspace_id = e.workspace_id AND ep.status = 'active' AND ep.deleted_at IS NULL
          AND (e.event_type = ANY(ep.events) OR $2 = ANY(ep.events))
        WHERE e.id = ANY($1)
        ORDER BY e.seq, ep.id
       ON CONFLICT (endpoint_id, outbox_event_id) DO NOTHING`,
      [ids, ALL_EVENTS],
    );
    await client.query('UPDATE outbox_events SET dispatched_at = now() WHERE id = ANY($1)', [ids]);
    return ids.length;
  });
}

/**
 * Marks `sending` the oldest open message of every (endpoint, order key) queue that has none sending, and
 * answers those plus any marked before whose workflow start was not confirmed (a dispatcher that died between
 * the two): the caller starts a delivery workflow for each, which Temporal refuses to start twice.
 */
export async function claimStartable(pool: pg.Pool, limit = 200): Promise<string[]> {
  return withTransaction(pool, async (client) => {
    if (!(await dispatchLock(client))) return [];
    const { rows } = await client.query<{ id: string }>(
      `WITH heads AS (
         SELECT DISTINCT ON (endpoint_id, order_key) id, status, workflow_started_at
           FROM webhook_messages WHERE status IN ('queued', 'sending')
          ORDER BY endpoint_id, order_key, seq),
       startable AS (
         SELECT id FROM heads WHERE status = 'queued' OR workflow_started_at IS NULL LIMIT $1)
       UPDATE webhook_messages m SET status = 'sending'
         FROM startable s WHERE m.id = s.id
       RETURNING m.id`,
      [limit],
    );
    return rows.map((row) => row.id);
  });
}

export async function markStarted(pool: pg.Pool, messageIds: string[]): Promise<void> {
  if (messageIds.length === 0) return;
  await pool.query(
    'UPDATE webhook_messages SET workflow_started_at = now() WHERE id = ANY($1) AND workflow_started_at IS NULL',
    [messageIds],
  );
}
