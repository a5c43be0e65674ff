// Notification preferences a workspace sets (for its own properties), and resending a delivery that failed.
import type pg from 'pg';
import { createPreference, getDelivery, reopenDelivery } from '../data/notifications';
import { AppError } from '../shared/errors';
import { isUuid } from '../shared/ids';
import type { JourneyClient } from './journeys';
import { requireProperty } from './properties';

export async function addPreference(
  pool: pg.Pool,
  workspaceId: string,
  input: Parameters<typeof createPreference>[2],
) {
  await requireProperty(pool, workspaceId, input.propertyId);
  return createPreference(pool, workspaceId, input);
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
