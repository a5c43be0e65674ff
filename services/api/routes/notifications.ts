// Notification preferences (seed 001 status_notification_preferences), the notifications inbox with its
// delivery rate, and a lead's delivery records.
import { isUuid } from '../../../shared/ids';
import { Router } from 'express';
import type pg from 'pg';
import { z } from 'zod';
import { getProperty } from '../../../data/workspaces';
import { AppError } from '../../../shared/errors';
import { STATUSES } from '../../../shared/lifecycle';
import { TEMPLATES } from '../../../shared/notifications/templates';
import { parse, route } from '../../common/http';
import type { JourneyClient } from '../../../usecases/journeys';
import { principal, requirePermission } from '../auth';

const FOLLOW_UP_TOPICS = [
  'speed_to_lead_escalation',
  'tour_reminder_24h',
  'tour_reminder_2h',
  'post_tour_outcome_request',
  'no_show_follow_up',
  'stale_lead_nudge',
] as const;

const METHODS = ['email', 'sms', 'slack', 'in_app'] as const;

const RECIPIENT_FORMS: Record<(typeof METHODS)[number], { test: (r: string) => boolean; expected: string }> =
  {
    email: {
      test: (r) => r === 'prospect' || z.email().safeParse(r).success,
      expected: 'an email address or "prospect"',
    },
    sms: {
      test: (r) => r === 'prospect' || /^\+[1-9]\d{6,14}$/.test(r),
      expected: 'an E.164 phone number or "prospect"',
    },
    slack: {
      test: (r) => r === 'default' || /^https?:\/\/\S+$/.test(r),
      expected: 'a Slack incoming-webhook URL or "default"',
    },
    in_app: { test: (r) => /^[A-Za-z0-9_.@-]{1,100}$/.test(r), expected: 'a user id' },
  };

export const CreatePreferenceBody = z
  .object({
    // null: every property of the workspace.
    property_id: z.string().min(1).max(64).nullable(),
    status_type: z.enum([...STATUSES, ...FOLLOW_UP_TOPICS]),
    notification_method: z.enum(METHODS),
    recipients: z.array(z.string().min(1).max(500)).min(1).max(50),
    template_id: z
      .string()
      .refine((id) => Object.prototype.hasOwnProperty.call(TEMPLATES, id), 'unknown template')
      .optional(),
    is_active: z.boolean().default(true),
  })
  .strict();

/** Recipients that do not fit the method, checked on the raw body so they are named with every other field. */
function recipientIssues(body: unknown): { field: string; message: string }[] {
  const raw = body as { notification_method?: unknown; recipients?: unknown } | undefined;
  const form = RECIPIENT_FORMS[raw?.notification_method as (typeof METHODS)[number]];
  if (!form || !Array.isArray(raw?.recipients)) return [];
  return raw.recipients.flatMap((recipient: unknown, i: number) =>
    typeof recipient === 'string' && !form.test(recipient)
      ? [{ field: `recipients.${i}`, message: `must be ${form.expected}` }]
      : [],
  );
}

export const UpdatePreferenceBody = z
  .object({
    is_active: z.boolean().optional(),
    recipients: z.array(z.string().min(1).max(500)).min(1).max(50).optional(),
    template_id: z
      .string()
      .refine((id) => Object.prototype.hasOwnProperty.call(TEMPLATES, id), 'unknown template')
      .nullable()
      .optional(),
  })
  .strict();

const ListQuery = z.object({
  status: z.enum(['pending', 'sent', 'delivered', 'failed', 'skipped']).optional(),
  channel: z.enum(METHODS).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

interface PreferenceRow {
  id: string;
  property_id: string | null;
  status_type: string;
  notification_method: string;
  recipients: string[];
  template_id: string | null;
  is_active: boolean;
  created_at: Date;
}

const COLUMNS =
  'id, property_id, status_type, notification_method, recipients, template_id, is_active, created_at';
const json = (row: PreferenceRow) => ({ ...row, created_at: row.created_at.toISOString() });

export function notificationPreferencesRouter(pool: pg.Pool): Router {
  const router = Router();
  router.post(
    '/',
    requirePermission('admin'),
    route(async (req, res) => {
      const recipients = recipientIssues(req.body);
      const body = (() => {
        try {
          return parse(CreatePreferenceBody, req.body);
        } catch (error) {
          if (!(error instanceof AppError)) throw error;
          const fields = [...(error.details.fields as { field: string }[]), ...recipients];
          throw new AppError('validation_failed', `invalid body: ${fields.map((f) => f.field).join(', ')}`, {
            fields,
          });
        }
      })();
      if (recipients.length) {
        throw new AppError(
          'validation_failed',
          `invalid body: ${recipients.map((f) => f.field).join(', ')}`,
          {
            fields: recipients,
          },
        );
      }
      const { workspaceId } = principal(req);
      if (body.property_id && !(await getProperty(pool, workspaceId, body.property_id))) {
        throw new AppError('validation_failed', 'invalid body: property_id', {
          fields: [{ field: 'property_id', message: 'unknown property' }],
        });
      }
      const { rows } = await pool.query<PreferenceRow>(
        `INSERT INTO notification_preferences (workspace_id, property_id, status_type, notification_method, recipients,
                                               template_id, is_active)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
        [
          workspaceId,
          body.property_id,
          body.status_type,
          body.notification_method,
          JSON.stringify(body.recipients),
          body.template_id ?? null,
          body.is_active,
        ],
      );
      res.status(201).json(json(rows[0]!));
    }),
  );
  router.get(
    '/',
    requirePermission('read'),
    route(async (req, res) => {
      const { rows } = await pool.query<PreferenceRow>(
        `SELECT ${COLUMNS} FROM notification_preferences WHERE workspace_id = $1 ORDER BY created_at`,
        [principal(req).workspaceId],
      );
      res.json({ preferences: rows.map(json) });
    }),
  );
  router.patch(
    '/:id',
    requirePermission('admin'),
    route(async (req, res) => {
      const body = parse(UpdatePreferenceBody, req.body);
      const id = String(req.params.id);
      const { rows } = await pool.query<PreferenceRow>(
        `UPDATE notification_preferences
            SET is_active = COALESCE($3, is_active), recipients = COALESCE($4, recipients),
                template_id = CASE WHEN $5 THEN $6 ELSE template_id END
          WHERE workspace_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
        [
          principal(req).workspaceId,
          isUuid(id) ? id : '00000000-0000-0000-0000-000000000000',
          body.is_active ?? null,
          body.recipients ? JSON.stringify(body.recipients) : null,
          body.template_id !== undefined,
          body.template_id ?? null,
        ],
      );
      if (!rows[0]) throw new AppError('not_found', `notification preference ${id} not found`);
      res.json(json(rows[0]));
    }),
  );
  router.delete(
    '/:id',
    requirePermission('admin'),
    route(async (req, res) => {
      const id = String(req.params.id);
      const result = isUuid(id)
        ? await pool.query('DELETE FROM notification_preferences WHERE workspace_id = $1 AND id = $2', [
            principal(req).workspaceId,
            id,
          ])
        : { rowCount: 0 };
      if (!result.rowCount) throw new AppError('not_found', `notification preference ${id} not found`);
      res.status(204).end();
    }),
  );
  return router;
}

/**
 * The notifications inbox: every delivery of the workspace, newest first, with the delivery rate; and the
 * resend of one that failed or was skipped.
 */
export function notificationsRouter(deps: { pool: pg.Pool; journeys: JourneyClient }): Router {
  const { pool } = deps;
  const router = Router();
  router.get(
    '/',
    requirePermission('read'),
    route(async (req, res) => {
      const query = parse(ListQuery, req.query, 'query');
      const { workspaceId } = principal(req);
      const params: unknown[] = [workspaceId];
      const where = ['workspace_id = $1'];
      if (query.status) where.push(`status = $${params.push(query.status)}`);
      if (query.channel) where.push(`channel = $${params.push(query.channel)}`);
      const list = await pool.query(
        `SELECT id, lead_id, channel, audience, recipient, template, subject, body, priority, status, provider_id,
                attempts, error, not_before, created_at, updated_at
           FROM notification_deliveries WHERE ${where.join(' AND ')}
          ORDER BY created_at DESC LIMIT $${params.push(query.limit)}`,
        params,
      );
      const rate = await pool.query<{ sent: number; failed: number }>(
        `SELECT count(*) FILTER (WHERE status IN ('sent', 'delivered'))::int AS sent,
                count(*) FILTER (WHERE status = 'failed')::int AS failed
           FROM notification_deliveries WHERE workspace_id = $1`,
        [workspaceId],
      );
      const { sent, failed } = rate.rows[0]!;
      res.json({
        notifications: list.rows,
        delivery_rate: sent + failed > 0 ? sent / (sent + failed) : null,
      });
    }),
  );

  router.post(
    '/:id/resend',
    requirePermission('update'),
    route(async (req, res) => {
      const { workspaceId } = principal(req);
      const id = String(req.params.id);
      const found = isUuid(id)
        ? await pool.query<{ status: string; lead_id: string | null }>(
            'SELECT status, lead_id FROM notification_deliveries WHERE id = $1 AND workspace_id = $2',
            [id, workspaceId],
          )
        : { rows: [] };
      const delivery = found.rows[0];
      if (!delivery) throw new AppError('not_found', `notification ${id} not found`);
      if (!delivery.lead_id) {
        throw new AppError(
          'conflict',
          `notification ${id} belongs to no lead; only a lead's journey resends`,
          {
            status: delivery.status,
          },
        );
      }
      // Reopened under the same idempotency key: sendDelivery sends a pending row once, and email keeps its
      // Message-ID, so a resend racing another changes nothing.
      const reopened = await pool.query<{ idempotency_key: string; channel: string }>(
        `UPDATE notification_deliveries SET status = 'pending', error = NULL, not_before = NULL, updated_at = now()
          WHERE id = $1 AND workspace_id = $2 AND status IN ('failed', 'skipped')
          RETURNING idempotency_key, channel`,
        [id, workspaceId],
      );
      const row = reopened.rows[0];
      if (!row) {
        throw new AppError(
          'conflict',
          `notification ${id} is ${delivery.status}; only failed or skipped notifications are resent`,
          { status: delivery.status },
        );
      }
      await deps.journeys.resend(workspaceId, delivery.lead_id, {
        deliveryKey: row.idempotency_key,
        channel: row.channel,
      });
      res.status(202).json({ resent: true, id, status: 'pending' });
    }),
  );
  return router;
}
