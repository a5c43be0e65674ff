// Opens and clicks of tracked messages: every one kept (up to a cap per message, so a scanner cannot flood it), and
// the first open and first click on the message's delivery row, where per-step rates are counted.
import type pg from 'pg';

/** Rows kept per message: enough for a person, not for a bot refetching a pixel. */
const MAX_PER_DELIVERY = 50;

export interface EngagedDelivery {
  workspaceId: string;
  leadId: string;
  enrolmentId: string | null;
  step: number | null;
  /** The first open (or click) of this message: the journey hears of it. */
  first: boolean;
}

/**
 * Records an open or a click of a delivery, unless its workspace turned tracking off (the click still redirects).
 * Undefined when there is no such delivery or tracking is off.
 */
export async function recordEngagement(
  pool: pg.Pool,
  engagement: { deliveryId: string; kind: 'open' | 'click'; url?: string; userAgent?: string },
): Promise<EngagedDelivery | undefined> {
  const column = engagement.kind === 'open' ? 'opened_at' : 'clicked_at';
  const { rows } = await pool.query<{
    workspace_id: string;
    lead_id: string;
    enrolment_id: string | null;
    sequence_step: number | null;
    first: boolean;
  }>(
    `WITH target AS (
       SELECT d.id, d.workspace_id, d.lead_id, d.enrolment_id, d.sequence_step, d.${column} IS NULL AS first
         FROM notification_deliveries d JOIN workspaces w ON w.id = d.workspace_id
        WHERE d.id = $1 AND w.email_tracking AND d.lead_id IS NOT NULL
        FOR UPDATE OF d
     ), marked AS (
       UPDATE notification_deliveries d SET ${column} = now() FROM target t WHERE d.id = t.id AND t.first
     ), kept AS (
       INSERT INTO message_engagements (workspace_id, lead_id, delivery_id, kind, url, user_agent)
       SELECT t.workspace_id, t.lead_id, t.id, $2, $3, $4 FROM target t
        WHERE (SELECT count(*) FROM message_engagements e WHERE e.delivery_id = t.id) < ${MAX_PER_DELIVERY}
     )
     SELECT workspace_id, lead_id, enrolment_id, sequence_step, first FROM target`,
    [
      engagement.deliveryId,
      engagement.kind,
      engagement.url ?? null,
      engagement.userAgent?.slice(0, 500) ?? null,
    ],
  );
  const row = rows[0];
  return row
    ? {
        workspaceId: row.workspace_id,
        leadId: row.lead_id,
        enrolmentId: row.enrolment_id,
        step: row.sequence_step,
        first: row.first,
      }
    : undefined;
}

export interface EngagementRecord {
  id: string;
  delivery_id: string;
  kind: 'open' | 'click';
  url: string | null;
  created_at: Date;
}

/** A lead's opens and clicks, newest first. */
export async function listLeadEngagements(
  pool: pg.Pool,
  workspaceId: string,
  leadId: string,
  limit = 100,
): Promise<EngagementRecord[]> {
  const { rows } = await pool.query<EngagementRecord>(
    `SELECT id, delivery_id, kind, url, created_at FROM message_engagements
      WHERE workspace_id = $1 AND lead_id = $2 ORDER BY created_at DESC, id LIMIT $3`,
    [workspaceId, leadId, limit],
  );
  return rows;
}

/** Whether the workspace tracks opens and clicks of its sequence email. */
export async function setEmailTracking(
  pool: pg.Pool,
  workspaceId: string,
  enabled: boolean,
): Promise<boolean> {
  const { rowCount } = await pool.query('UPDATE workspaces SET email_tracking = $2 WHERE id = $1', [
    workspaceId,
    enabled,
  ]);
  return (rowCount ?? 0) > 0;
}

export async function emailTracking(pool: pg.Pool, workspaceId: string): Promise<boolean | undefined> {
  const { rows } = await pool.query<{ email_tracking: boolean }>(
    'SELECT email_tracking FROM workspaces WHERE id = $1',
    [workspaceId],
  );
  return rows[0]?.email_tracking;
}
