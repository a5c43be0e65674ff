// Notification preferences (seed 001 status_notification_preferences), and the notifications inbox with its
// delivery rate and the resend of a failed delivery.
import { z } from 'zod';
import {
  deletePreference,
  listNotifications,
  listPreferences,
  type PreferenceRecord,
} from '../../../data/notifications';
import { STATUSES } from '../../../shared/lifecycle';
import { NOTIFICATION_METHODS, recipientIssues } from '../../../shared/notifications/recipientForms';
import { TEMPLATES } from '../../../shared/notifications/templates';
import type { IntakeDeps } from '../../../usecases/intake';
import { addPreference, changePreference, resendNotification } from '../../../usecases/notifications';
import { endpoint } from '../../common/endpoints';
import { principal } from '../auth';
import { byId, time } from '../schemas';

const FOLLOW_UP_TOPICS = [
  'speed_to_lead_escalation',
  'tour_reminder_24h',
  'tour_reminder_2h',
  'post_tour_outcome_request',
  'no_show_follow_up',
  'stale_lead_nudge',
] as const;

const METHODS = NOTIFICATION_METHODS;

const recipients = z.array(z.string().min(1).max(500)).min(1).max(50);
const templateId = z
  .string()
  .refine((id) => Object.prototype.hasOwnProperty.call(TEMPLATES, id), 'unknown template');

interface RawPreference {
  notification_method?: unknown;
  recipients?: unknown;
}

export const CreatePreferenceBody = z
  .object({
    // null: every property of the workspace.
    property_id: z.string().min(1).max(64).nullable(),
    status_type: z.enum([...STATUSES, ...FOLLOW_UP_TOPICS]),
    notification_method: z.enum(METHODS),
    recipients,
    template_id: templateId.optional(),
    is_active: z.boolean().default(true),
  })
  .strict()
  .check(
    // Recipients that do not fit the method are named with every other bad field, so checked on the raw body.
    z.superRefine(
      (body, ctx) => {
        const raw = body as RawPreference;
        for (const issue of recipientIssues(String(raw.notification_method), raw.recipients as unknown[])) {
          ctx.addIssue({ code: 'custom', path: ['recipients', issue.index], message: issue.message });
        }
      },
      { when: ({ value }) => Array.isArray((value as RawPreference | undefined)?.recipients) },
    ),
  );

const UpdatePreferenceBody = z
  .object({
    is_active: z.boolean().optional(),
    recipients: recipients.optional(),
    template_id: templateId.nullable().optional(),
  })
  .strict();

const NotificationPreference = z
  .object({
    id: z.uuid(),
    property_id: z.string().nullable(),
    status_type: z.string(),
    notification_method: z.enum(METHODS),
    recipients: z.array(z.string()),
    template_id: z.string().nullable(),
    is_active: z.boolean(),
    created_at: time,
  })
  .loose()
  .meta({ id: 'NotificationPreference' });

const json = (row: PreferenceRecord) => ({ ...row, created_at: row.created_at.toISOString() });

export function notificationEndpoints(deps: IntakeDeps) {
  const { pool } = deps;
  return [
    endpoint({
      method: 'post',
      path: '/api/v1/notification-preferences',
      tag: 'notifications',
      summary: 'Create a notification preference (seed 001 status_notification_preferences)',
      description:
        'Recipients: emails, E.164 phones, Slack webhook URLs or `default`, user ids; `prospect` means the lead.',
      permission: 'admin',
      body: CreatePreferenceBody,
      responses: { 201: { description: 'created', schema: NotificationPreference } },
      async handler({ body, req }) {
        const preference = await addPreference(pool, principal(req).workspaceId, {
          propertyId: body.property_id,
          statusType: body.status_type,
          method: body.notification_method,
          recipients: body.recipients,
          templateId: body.template_id,
          isActive: body.is_active,
        });
        return json(preference);
      },
    }),
    endpoint({
      method: 'get',
      path: '/api/v1/notification-preferences',
      tag: 'notifications',
      summary: 'List notification preferences',
      permission: 'read',
      responses: {
        200: {
          description: 'preferences',
          schema: z.object({ preferences: z.array(NotificationPreference) }),
        },
      },
      async handler({ req }) {
        return { preferences: (await listPreferences(pool, principal(req).workspaceId)).map(json) };
      },
    }),
    endpoint({
      method: 'patch',
      path: '/api/v1/notification-preferences/:id',
      tag: 'notifications',
      summary: 'Change a notification preference',
      permission: 'admin',
      body: UpdatePreferenceBody,
      responses: { 200: { description: 'updated', schema: NotificationPreference } },
      async handler({ params, body, req }) {
        const updated = await byId(params.id, 'notification preference', (id) =>
          changePreference(pool, principal(req).workspaceId, id, {
            isActive: body.is_active,
            recipients: body.recipients,
            templateId: body.template_id,
          }),
        );
        return json(updated);
      },
    }),
    endpoint({
      method: 'delete',
      path: '/api/v1/notification-preferences/:id',
      tag: 'notifications',
      summary: 'Delete a notification preference',
      permission: 'admin',
      responses: { 204: { description: 'deleted' } },
      async handler({ params, req }) {
        await byId(params.id, 'notification preference', (id) =>
          deletePreference(pool, principal(req).workspaceId, id),
        );
      },
    }),
    endpoint({
      method: 'get',
      path: '/api/v1/notifications',
      tag: 'notifications',
      summary: 'Notifications sent for the workspace, newest first, with the delivery rate',
      permission: 'read',
      query: z.object({
        status: z.enum(['pending', 'sent', 'delivered', 'failed', 'skipped']).optional(),
        channel: z.enum(METHODS).optional(),
        limit: z.coerce.number().int().min(1).max(500).default(100),
      }),
      responses: { 200: { description: 'notifications', schema: z.object({}).loose() } },
      async handler({ query, req }) {
        const { notifications, deliveryRate } = await listNotifications(
          pool,
          principal(req).workspaceId,
          query,
        );
        return { notifications, delivery_rate: deliveryRate };
      },
    }),
    endpoint({
      method: 'post',
      path: '/api/v1/notifications/:id/resend',
      tag: 'notifications',
      summary: 'Resend a failed or skipped notification',
      description:
        "The delivery goes back to `pending` and the lead's journey sends it again under the same idempotency key (email keeps its Message-ID); the inbox shows the outcome.",
      permission: 'update',
      responses: {
        202: {
          description: 'handed to the journey',
          schema: z.object({ resent: z.literal(true), id: z.uuid(), status: z.literal('pending') }),
        },
        409: { description: '`conflict`: the notification is pending, sent or delivered' },
      },
      async handler({ params, req }) {
        await resendNotification(deps, principal(req).workspaceId, params.id);
        return { resent: true, id: params.id, status: 'pending' };
      },
    }),
  ];
}
