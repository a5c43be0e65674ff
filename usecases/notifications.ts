// Notification preferences a workspace sets (for its own properties), and resending a delivery that failed.
import type pg from 'pg';
import {
  createPreference,
  getDelivery,
  getPreference,
  reopenDelivery,
  updatePreference,
} from '../data/notifications';
import { requireEgressUrl } from '../shared/egress';
import { AppError } from '../shared/errors';
import { recipientIssues } from '../shared/notifications/recipientForms';
import { isUuid } from '../shared/ids';
import type { JourneyClient } from './journeys';
import { requireProperty } from './properties';

export async function addPreference(
  pool: pg.Pool,
  workspaceId: string,
  input: Parameters<typeof createPreference>[2],
) {
  checkRecipients(input.method, input.recipients);
  await requireProperty(pool, workspaceId, input.propertyId);
  return createPreference(pool, workspaceId, input);
}

/**
 * Recipients fit their method (400 naming `<field>.<i>`), and a Slack webhook URL points where requests may go
 * (422 `egress_refused`): the same on create and change of a preference and in a rule's send_notification.
 */
export function checkRecipients(
  method: string,
  recipients: string[] | undefined,
  field = 'recipients',
): void {
  if (!recipients) return;
  const issues = recipientIssues(method, recipients);
  if (issues.length > 0) {
    const fields = issues.map(({ index, message }) => ({ field: `${field}.${index}`, message }));
    throw new AppError('validation_failed', `invalid body: ${fields.map((f) => f.field).join(', ')}`, {
      fields,
    });
  }
  recipients.forEach((recipient, i) => {
    if (/^https?:/i.test(recipient)) requireEgressUrl(`${field}.${i}`, recipient);
  });
}

/** Changes a preference: new recipients are checked against its method as on create. */
export async function changePreference(
  pool: pg.Pool,
  workspaceId: string,
  id: string,
  patch: Parameters<typeof updatePreference>[3],
) {
  const current = isUuid(id) ? await getPreference(pool, workspaceId, id) : undefined;
  if (!current) return undefined;
  checkRecipients(current.notification_method, patch.recipients);
  return updatePreference(pool, workspaceId, current.id, patch);
}

/**
 * A failed or skipped delivery goes back to pending, and its lead's journey sends it again under the same
 * idempotency key (only a journey sends, so a delivery of no lead is not resent).
 */
export async function resendNotification(
  deps: { pool: pg.Pool; journeys: JourneyClient },
  workspaceId: string,
  id: string,
): Promise<void> {
  const delivery = isUuid(id) ? await getDelivery(deps.pool, workspaceId, id) : undefined;
  if (!delivery) throw new AppError('not_found', `notification ${id} not found`);
  if (!delivery.lead_id) {
    throw new AppError('conflict', `notification ${id} belongs to no lead; only a lead's journey resends`, {
      status: delivery.status,
    });
  }
  const reopened = await reopenDelivery(deps.pool, workspaceId, id);
  if (!reopened) {
    throw new AppError(
      'conflict',
      `notification ${id} is ${delivery.status}; only failed or skipped notifications are resent`,
      { status: delivery.status },
    );
  }
  await deps.journeys.resend(workspaceId, delivery.lead_id, {
    deliveryKey: reopened.idempotency_key,
    channel: reopened.channel,
  });
}
