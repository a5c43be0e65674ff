// Nurture sequences in Postgres: definitions and message templates of a workspace, each lead's enrolments (written
// by the journey, latest revision wins), and per-step send, open, click and reply counts.
import type pg from 'pg';
import type { Enrolment, SequenceExitRules, SequenceTrigger } from '../shared/journey/sequences';
import type { StoredStep } from '../shared/sequences';

export interface SequenceRecord {
  id: string;
  workspace_id: string;
  property_id: string | null;
  name: string;
  trigger: SequenceTrigger;
  steps: StoredStep[];
  exit_on: SequenceExitRules;
  is_active: boolean;
  created_at: Date;
  updated_at: Date;
}

const SEQUENCE_COLUMNS =
  'id, workspace_id, property_id, name, trigger, steps, exit_on, is_active, created_at, updated_at';

export interface SequenceFields {
  name: string;
  propertyId: string | null;
  trigger: SequenceTrigger;
  steps: StoredStep[];
  exitOn: SequenceExitRules;
  isActive: boolean;
}

export async function createSequence(
  pool: pg.Pool,
  workspaceId: string,
  fields: SequenceFields,
): Promise<SequenceRecord> {
  const { rows } = await pool.query<SequenceRecord>(
    `INSERT INTO sequences (workspace_id, property_id, name, trigger, steps, exit_on, is_active)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${SEQUENCE_COLUMNS}`,
    [
      workspaceId,
      fields.propertyId,
      fields.name,
      JSON.stringify(fields.trigger),
      JSON.stringify(fields.steps),
      JSON.stringify(fields.exitOn),
      fields.isActive,
    ],
  );
  return rows[0]!;
}

export async function listSequences(pool: pg.Pool, workspaceId: string): Promise<SequenceRecord[]> {
  const { rows } = await pool.query<SequenceRecord>(
    `SELECT ${SEQUENCE_COLUMNS} FROM sequences WHERE workspace_id = $1 AND deleted_at IS NULL
      ORDER BY created_at, id`,
    [workspaceId],
  );
  return rows;
}

export async function getSequence(
  pool: pg.Pool,
  workspaceId: string,
  id: string,
): Promise<SequenceRecord | undefined> {
  const { rows } = await pool.query<SequenceRecord>(
    `SELECT ${SEQUENCE_COLUMNS} FROM sequences WHERE workspace_id = $1 AND id = $2 AND deleted_at IS NULL`,
    [workspaceId, id],
  );
  return rows[0];
}

/** Replaces the given fields; running enrolments read the new steps as each comes due. */
export async function updateSequence(
  pool: pg.Pool,
  workspaceId: string,
  id: string,
  patch: Partial<SequenceFields>,
): Promise<SequenceRecord | undefined> {
  const { rows } = await pool.query<SequenceRecord>(
    `UPDATE sequences
        SET name = COALESCE($3, name),
            property_id = CASE WHEN $4 THEN $5 ELSE property_id END,
            trigger = COALESCE($6, trigger), steps = COALESCE($7, steps), exit_on = COALESCE($8, exit_on),
            is_active = COALESCE($9, is_active), updated_at = now()
      WHERE workspace_id = $1 AND id = $2 AND deleted_at IS NULL
      RETURNING ${SEQUENCE_COLUMNS}`,
    [
      workspaceId,
      id,
      patch.name ?? null,
      patch.propertyId !== undefined,
      patch.propertyId ?? null,
      patch.trigger ? JSON.stringify(patch.trigger) : null,
      patch.steps ? JSON.stringify(patch.steps) : null,
      patch.exitOn ? JSON.stringify(patch.exitOn) : null,
      patch.isActive ?? null,
    ],
  );
  return rows[0];
}

/** Soft delete: enrolments keep their history and leave at their next step. */
export async function deleteSequence(pool: pg.Pool, workspaceId: string, id: string): Promise<boolean> {
  const { rowCount } = await pool.query(
    `UPDATE sequences SET deleted_at = now(), is_active = false, updated_at = now()
      WHERE workspace_id = $1 AND id = $2 AND deleted_at IS NULL`,
    [workspaceId, id],
  );
  return (rowCount ?? 0) > 0;
}

/** Active sequences that may enrol a lead of this property (the workspace's and the property's own). */
export async function activeSequences(
  pool: pg.Pool | pg.PoolClient,
  workspaceId: string,
  propertyId: string | undefined,
): Promise<SequenceRecord[]> {
  const { rows } = await pool.query<SequenceRecord>(
    `SELECT ${SEQUENCE_COLUMNS} FROM sequences
      WHERE workspace_id = $1 AND deleted_at IS NULL AND is_active
        AND (property_id IS NULL OR property_id = $2)
      ORDER BY created_at, id`,
    [workspaceId, propertyId ?? null],
  );
  return rows;
}

/** A sequence as its next step finds it: deleted and paused ones included, so the step can say why it ends. */
export async function sequenceForStep(
  pool: pg.Pool,
  workspaceId: string,
  sequenceId: string,
  enrolmentId: string,
): Promise<{ sequence?: SequenceRecord & { deleted: boolean }; enrolmentState?: string }> {
  const { rows } = await pool.query<SequenceRecord & { deleted: boolean; enrolment_state: string | null }>(
    `SELECT ${SEQUENCE_COLUMNS.split(', ')
      .map((c) => `s.${c}`)
      .join(', ')}, s.deleted_at IS NOT NULL AS deleted,
            (SELECT e.state FROM sequence_enrolments e WHERE e.id = $3) AS enrolment_state
       FROM sequences s WHERE s.workspace_id = $1 AND s.id = $2`,
    [workspaceId, sequenceId, enrolmentId],
  );
  const row = rows[0];
  if (!row) return {};
  const { enrolment_state: enrolmentState, ...sequence } = row;
  return { sequence, ...(enrolmentState ? { enrolmentState } : {}) };
}

/**
 * Writes an enrolment as the journey now has it. Revisions only move forward, and a finished row (completed,
 * exited, or stopped by staff through the API) takes only changes that keep its state, such as a late reply.
 */
export async function recordEnrolment(
  client: pg.PoolClient,
  row: { workspaceId: string; leadId: string; journey: number; enrolment: Enrolment },
): Promise<void> {
  const e = row.enrolment;
  const finished = e.state === 'active' ? null : new Date().toISOString();
  await client.query(
    `INSERT INTO sequence_enrolments (id, workspace_id, lead_id, sequence_id, journey, trigger, state, step,
                                      next_step_at, exit_reason, replied_at, reply_step, revision, enrolled_at,
                                      finished_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
     ON CONFLICT (id) DO UPDATE
        SET state = EXCLUDED.state, step = EXCLUDED.step, next_step_at = EXCLUDED.next_step_at,
            exit_reason = COALESCE(EXCLUDED.exit_reason, sequence_enrolments.exit_reason),
            replied_at = EXCLUDED.replied_at, reply_step = EXCLUDED.reply_step, revision = EXCLUDED.revision,
            finished_at = COALESCE(sequence_enrolments.finished_at, EXCLUDED.finished_at), updated_at = now()
      WHERE sequence_enrolments.revision < EXCLUDED.revision
        AND (sequence_enrolments.state = 'active' OR sequence_enrolments.state = EXCLUDED.state)`,
    [
      e.id,
      row.workspaceId,
      row.leadId,
      e.sequenceId,
      row.journey,
      e.trigger,
      e.state,
      e.step,
      e.nextAt ?? null,
      e.exitReason ?? null,
      e.repliedAt ?? null,
      e.replyStep ?? null,
      e.revision,
      e.enrolledAt,
      finished,
    ],
  );
}

export interface EnrolmentRecord {
  id: string;
  lead_id: string;
  sequence_id: string;
  sequence_name: string;
  steps_total: number;
  journey: number;
  trigger: string;
  state: string;
  step: number;
  next_step_at: Date | null;
  exit_reason: string | null;
  replied_at: Date | null;
  reply_step: number | null;
  enrolled_at: Date;
  finished_at: Date | null;
  updated_at: Date;
}

export interface EnrolmentMessage {
  enrolment_id: string;
  delivery_id: string;
  step: number;
  channel: string;
  status: string;
  template: string;
  subject: string;
  not_before: Date | null;
  sent_at: Date | null;
  opened_at: Date | null;
  clicked_at: Date | null;
}

/** A lead's enrolments, newest first, each with the messages its steps sent. */
export async function listLeadEnrolments(
  pool: pg.Pool,
  workspaceId: string,
  leadId: string,
): Promise<{ enrolments: EnrolmentRecord[]; messages: EnrolmentMessage[] }> {
  const enrolments = await pool.query<EnrolmentRecord>(
    `SELECT e.id, e.lead_id, e.sequence_id, s.name AS sequence_name, jsonb_array_length(s.steps) AS steps_total,
            e.journey, e.trigger, e.state, e.step, e.next_step_at, e.exit_reason, e.replied_at, e.reply_step,
            e.enrolled_at, e.finished_at, e.updated_at
       FROM sequence_enrolments e JOIN sequences s ON s.id = e.sequence_id
      WHERE e.workspace_id = $1 AND e.lead_id = $2
      ORDER BY e.enrolled_at DESC, e.id`,
    [workspaceId, leadId],
  );
  const messages = await pool.query<EnrolmentMessage>(
    `SELECT enrolment_id, id AS delivery_id, sequence_step AS step, channel, status, template, subject, not_before,
            CASE WHEN status IN ('sent', 'delivered') THEN updated_at END AS sent_at, opened_at, clicked_at
       FROM notification_deliveries
      WHERE workspace_id = $1 AND lead_id = $2 AND enrolment_id IS NOT NULL
      ORDER BY created_at, id`,
    [workspaceId, leadId],
  );
  return { enrolments: enrolments.rows, messages: messages.rows };
}

export async function getLeadEnrolment(
  pool: pg.Pool,
  workspaceId: string,
  leadId: string,
  enrolmentId: string,
): Promise<{ id: string; state: string; sequence_id: string } | undefined> {
  const { rows } = await pool.query<{ id: string; state: string; sequence_id: string }>(
    'SELECT id, state, sequence_id FROM sequence_enrolments WHERE workspace_id = $1 AND lead_id = $2 AND id = $3',
    [workspaceId, leadId, enrolmentId],
  );
  return rows[0];
}

/**
 * Staff stop an enrolment: the row says so at once (a step coming due reads it and sends nothing), and the
 * journey is told to let it go. False when it was no longer active.
 */
export async function stopEnrolment(
  pool: pg.Pool,
  workspaceId: string,
  leadId: string,
  enrolmentId: string,
  reason: string,
): Promise<boolean> {
  const { rowCount } = await pool.query(
    `UPDATE sequence_enrolments
        SET state = 'stopped', exit_reason = $4, next_step_at = NULL, finished_at = now(), updated_at = now()
      WHERE workspace_id = $1 AND lead_id = $2 AND id = $3 AND state = 'active'`,
    [workspaceId, leadId, enrolmentId, reason],
  );
  return (rowCount ?? 0) > 0;
}

/** The state an enrolment's row has now, for a send that must not go to a lead staff took out of a sequence. */
export async function enrolmentState(pool: pg.Pool, enrolmentId: string): Promise<string | undefined> {
  const { rows } = await pool.query<{ state: string }>(
    'SELECT state FROM sequence_enrolments WHERE id = $1',
    [enrolmentId],
  );
  return rows[0]?.state;
}

export interface StepStats {
  step: number;
  sent: number;
  email_sent: number;
  opened: number;
  clicked: number;
  /** Enrolments whose step was sent, and those answered after it (before the next step went). */
  reached: number;
  replied: number;
}

/** Per step: messages sent, opened and clicked, enrolments reached and answered; enrolments by state. */
export async function sequenceStats(
  pool: pg.Pool,
  workspaceId: string,
  sequenceId: string,
  range: { from?: string; to?: string },
): Promise<{ steps: StepStats[]; enrolments: Record<string, number> }> {
  const params = [workspaceId, sequenceId, range.from ?? null, range.to ?? null];
  const inRange = `($3::timestamptz IS NULL OR e.enrolled_at >= $3) AND ($4::timestamptz IS NULL OR e.enrolled_at < $4)`;
  const steps = await pool.query<StepStats>(
    `WITH sent AS (
       SELECT d.sequence_step AS step, d.enrolment_id, d.channel, d.opened_at, d.clicked_at
         FROM notification_deliveries d JOIN sequence_enrolments e ON e.id = d.enrolment_id
        WHERE d.workspace_id = $1 AND d.sequence_id = $2 AND d.status IN ('sent', 'delivered') AND ${inRange}
     ), replies AS (
       SELECT e.reply_step AS step, count(*) AS replied FROM sequence_enrolments e
        WHERE e.workspace_id = $1 AND e.sequence_id = $2 AND e.reply_step IS NOT NULL AND ${inRange}
        GROUP BY e.reply_step
     )
     SELECT s.step, count(*) AS sent, count(*) FILTER (WHERE s.channel = 'email') AS email_sent,
            count(s.opened_at) AS opened, count(s.clicked_at) AS clicked,
            count(DISTINCT s.enrolment_id) AS reached, COALESCE(max(r.replied), 0) AS replied
       FROM sent s LEFT JOIN replies r ON r.step = s.step
      GROUP BY s.step ORDER BY s.step`,
    params,
  );
  const states = await pool.query<{ state: string; count: number }>(
    `SELECT e.state, count(*) AS count FROM sequence_enrolments e
      WHERE e.workspace_id = $1 AND e.sequence_id = $2 AND ${inRange} GROUP BY e.state`,
    params,
  );
  return {
    steps: steps.rows,
    enrolments: Object.fromEntries(states.rows.map((r) => [r.state, r.count])),
  };
}

// ---- message templates ----

export interface MessageTemplateRecord {
  id: string;
  workspace_id: string;
  name: string;
  channel: 'email' | 'sms' | null;
  subject: string;
  body: string;
  created_at: Date;
  updated_at: Date;
}

const TEMPLATE_COLUMNS = 'id, workspace_id, name, channel, subject, body, created_at, updated_at';

export async function createMessageTemplate(
  pool: pg.Pool,
  workspaceId: string,
  fields: { id: string; name: string; channel: 'email' | 'sms' | null; subject: string; body: string },
): Promise<MessageTemplateRecord | undefined> {
  const { rows } = await pool.query<MessageTemplateRecord>(
    `INSERT INTO message_templates (workspace_id, id, name, channel, subject, body) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT DO NOTHING RETURNING ${TEMPLATE_COLUMNS}`,
    [workspaceId, fields.id, fields.name, fields.channel, fields.subject, fields.body],
  );
  return rows[0];
}

export async function listMessageTemplates(
  pool: pg.Pool,
  workspaceId: string,
  ids?: string[],
): Promise<MessageTemplateRecord[]> {
  const { rows } = await pool.query<MessageTemplateRecord>(
    `SELECT ${TEMPLATE_COLUMNS} FROM message_templates
      WHERE workspace_id = $1 AND ($2::text[] IS NULL OR id = ANY($2)) ORDER BY created_at, id`,
    [workspaceId, ids ?? null],
  );
  return rows;
}

export async function updateMessageTemplate(
  pool: pg.Pool,
  workspaceId: string,
  id: string,
  patch: { name?: string; channel?: 'email' | 'sms' | null; subject?: string; body?: string },
): Promise<MessageTemplateRecord | undefined> {
  const { rows } = await pool.query<MessageTemplateRecord>(
    `UPDATE message_templates
        SET name = COALESCE($3, name), channel = CASE WHEN $4 THEN $5 ELSE channel END,
            subject = COALESCE($6, subject), body = COALESCE($7, body), updated_at = now()
      WHERE workspace_id = $1 AND id = $2 RETURNING ${TEMPLATE_COLUMNS}`,
    [
      workspaceId,
      id,
      patch.name ?? null,
      patch.channel !== undefined,
      patch.channel ?? null,
      patch.subject ?? null,
      patch.body ?? null,
    ],
  );
  return rows[0];
}

export async function deleteMessageTemplate(
  pool: pg.Pool,
  workspaceId: string,
  id: string,
): Promise<boolean> {
  const { rowCount } = await pool.query('DELETE FROM message_templates WHERE workspace_id = $1 AND id = $2', [
    workspaceId,
    id,
  ]);
  return (rowCount ?? 0) > 0;
}

/** Active sequences whose steps use a template (a template in use is not deleted). */
export async function sequencesUsingTemplate(
  pool: pg.Pool,
  workspaceId: string,
  templateId: string,
): Promise<{ id: string; name: string }[]> {
  const { rows } = await pool.query<{ id: string; name: string }>(
    `SELECT id, name FROM sequences
      WHERE workspace_id = $1 AND deleted_at IS NULL
        AND EXISTS (SELECT 1 FROM jsonb_array_elements(steps) s WHERE s->>'template_id' = $2)
      ORDER BY created_at`,
    [workspaceId, templateId],
  );
  return rows;
}
