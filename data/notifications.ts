// Notification settings and records a workspace reads in the api: its preferences (seed 001
// status_notification_preferences), its deliveries with the delivery rate, and reopening one to resend it.
import type pg from 'pg';
import type { NotificationMethod } from '../shared/notifications/recipients';

export interface PreferenceRecord {
  id: string;
  property_id: string | null;
  status_type: string;
  notification_method: NotificationMethod;
  recipients: string[];
  template_id: string | null;
  is_active: boolean;
  created_at: Date;
}

const PREFERENCE_COLUMNS =
  'id, property_id, status_type, notification_method, recipients, template_id, is_active, created_at';

export async function createPreference(
  pool: pg.Pool,
  workspaceId: string,
  input: {
    propertyId: string | null;
    statusType: string;
    method: string;
    recipients: string[];
    templateId?: string;
    isActive: boolean;
  },
): Promise<PreferenceRecord> {
  const { rows } = await pool.query<PreferenceRecord>(
    `INSERT INTO notification_preferences (workspace_id, property_id, status_type, notification_method, recipients,
                                           template_id, is_active)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${PREFERENCE_COLUMNS}`,
    [
      workspaceId,
      input.propertyId,
      input.statusType,
      input.method,
      JSON.stringify(input.recipients),
      input.templateId ?? null,
      input.isActive,
    ],
  );
  return rows[0]!;
}

export async function listPreferences(pool: pg.Pool, workspaceId: string): Promise<PreferenceRecord[]> {
  const { rows } = await pool.query<PreferenceRecord>(
    `SELECT ${PREFERENCE_COLUMNS} FROM notification_preferences WHERE workspace_id = $1 ORDER BY created_at`,
    [workspaceId],
  );
  return rows;
}

export async function getPreference(
  pool: pg.Pool,
  workspaceId: string,
  id: string,
): Promise<PreferenceRecord | undefined> {
  const { rows } = await pool.query<PreferenceRecord>(
    `SELECT ${PREFERENCE_COLUMNS} FROM notification_preferences WHERE workspace_id = $1 AND id = $2`,
    [workspaceId, id],
  );
  return rows[0];
}

/** `templateId: null` clears the template; left out, it stays. */
export async function updatePreference(
  pool: pg.Pool,
  workspaceId: string,
  id: string,
  patch: { isActive?: boolean; recipients?: string[]; templateId?: string | null },
): Promise<PreferenceRecord | undefined> {
  const { rows } = await pool.query<PreferenceRecord>(
    `UPDATE notification_preferences
        SET is_active = COALESCE($3, is_active), recipients = COALESCE($4, recipients),
            template_id = CASE WHEN $5 THEN $6 ELSE template_id END
      WHERE workspace_id = $1 AND id = $2 RETURNING ${PREFERENCE_COLUMNS}`,
    [
      workspaceId,
      id,
      patch.isActive ?? null,
      patch.recipients ? JSON.stringify(patch.recipients) : null,
      patch.templateId !== undefined,
      patch.templateId ?? null,
    ],
  );
  return rows[0];
}

export async function deletePreference(pool: pg.Pool, workspaceId: string, id: string): Promise<boolean> {
  const { rowCount } = await pool.query(
    'DELETE FROM notification_preferences WHERE workspace_id = $1 AND id = $2',
    [workspaceId, id],
  );
  return (rowCount ?? 0) > 0;
}

/** The workspace's deliveries, newest first, and the share of finished ones that went out. */
export async function listNotifications(
  pool: pg.Pool,
  workspaceId: string,
  filter: { status?: string; channel?: string; limit: number },
): Promise<{ notifications: Record<string, unknown>[]; deliveryRate: number | null }> {
  const params: unknown[] = [workspaceId];
  const where = ['workspace_id = $1'];
  if (filter.status) where.push(`status = $${params.push(filter.status)}`);
  if (filter.channel) where.push(`channel = $${params.push(filter.channel)}`);
  const list = await pool.query(
    `SELECT id, lead_id, channel, audience, recipient, template, subject, body, priority, status, provider_id,
            attempts, error, not_before, created_at, updated_at
       FROM notification_deliveries WHERE ${where.join(' AND ')}
      ORDER BY created_at DESC LIMIT $${params.push(filter.limit)}`,
    params,
  );
  const rate = await pool.query<{ sent: number; failed: number }>(
    `SELECT count(*) FILTER (WHERE status IN ('sent', 'delivered'))::int AS sent,
            count(*) FILTER (WHERE status = 'failed')::int AS failed
       FROM notification_deliveries WHERE workspace_id = $1`,
    [workspaceId],
  );
  const { sent, failed } = rate.rows[0]!;
  return { notifications: list.rows, deliveryRate: sent + failed > 0 ? sent / (sent + failed) : null };
}

export async function getDelivery(
  pool: pg.Pool,
  workspaceId: string,
  id: string,
): Promise<{ status: string; lead_id: string | null } | undefined> {
  const { rows } = await pool.query<{ status: string; lead_id: string | null }>(
    'SELECT status, lead_id FROM notification_deliveries WHERE id = $1 AND workspace_id = $2',
    [id, workspaceId],
  );
  return rows[0];
}

/**
 * A failed or skipped delivery back to pending under the same idempotency key: sendDelivery sends a pending row
 * once, and email keeps its Message-ID, so a resend racing another changes nothing. Undefined when it is neither.
 */
export async function reopenDelivery(
  pool: pg.Pool,
  workspaceId: string,
  id: string,
): Promise<{ idempotency_key: string; channel: string } | undefined> {
  const { rows } = await pool.query<{ idempotency_key: string; channel: string }>(
    `UPDATE notification_deliveries SET status = 'pending', error = NULL, not_before = NULL, updated_at = now()
      WHERE id = $1 AND workspace_id = $2 AND status IN ('failed', 'skipped')
      RETURNING idempotency_key, channel`,
    [id, workspaceId],
  );
  return rows[0];
}

/**
 * Records an SMS Twilio took: the row status callbacks find the lead by, then the callbacks that arrived before it
 * (stored unmatched) applied and handed to the relay. Answers how many early callbacks were applied. Safe to
 * repeat.
 */
export async function recordSmsSent(
  pool: pg.Pool,
  sent: { messageSid: string; workspaceId: string; leadId: string },
): Promise<number> {
  const { rows } = await pool.query<{ applied: number }>(
    'SELECT leadrelay_record_sms_sent($1, $2, $3) AS applied',
    [sent.messageSid, sent.workspaceId, sent.leadId],
  );
  return rows[0]!.applied;
}

/** Once an SMS notification is marked sent with its SID: the final status its SMS already reached becomes its own. */
export async function settleSmsNotification(
  pool: pg.Pool,
  sent: { messageSid: string; workspaceId: string },
): Promise<void> {
  await pool.query('SELECT leadrelay_settle_sms_notification($1, $2)', [sent.messageSid, sent.workspaceId]);
}
