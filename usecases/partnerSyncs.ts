// Re-pushing partner syncs: reset the failed rows to pending, then hand each to its lead's journey, which
// pushes it through that partner's ordered queue (starting the journey's run again if it had ended).
import type pg from 'pg';
import { reopenSyncs, type PartnerSyncRecord } from '../data/partnerSyncs';
import type { JourneyClient } from './journeys';

export async function repushSyncs(
  deps: { pool: pg.Pool; journeys: JourneyClient },
  filter: Parameters<typeof reopenSyncs>[1],
): Promise<PartnerSyncRecord[]> {
  const reopened = await reopenSyncs(deps.pool, filter);
  for (const sync of reopened) {
    await deps.journeys.repush(filter.workspaceId, sync.lead_id, {
      syncKey: sync.idempotency_key,
      partner: sync.partner,
    });
  }
  return reopened;
}
