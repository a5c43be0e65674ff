// Re-pushing partner syncs: reset the failed rows to pending, then hand each to its lead's journey, which
// pushes it through that partner's ordered queue (starting the journey's run again if it had ended).
import type pg from 'pg';
import { listLeadSyncs, reopenSyncs, type PartnerSyncRecord } from '../data/partnerSyncs';
import { AppError } from '../shared/errors';
import { isUuid } from '../shared/ids';
import type { JourneyClient } from './journeys';
import { findLead } from './leads';

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

/** Staff re-push one of a lead's syncs; only a failed or conflicting one is pushed again. */
export async function repushLeadSync(
  deps: { pool: pg.Pool; journeys: JourneyClient },
  workspaceId: string,
  leadId: string,
  syncId: string,
): Promise<PartnerSyncRecord> {
  const lead = await findLead(deps.pool, workspaceId, leadId);
  const sync = isUuid(syncId)
    ? (await listLeadSyncs(deps.pool, workspaceId, lead.id)).find((row) => row.id === syncId)
    : undefined;
  if (!sync) throw new AppError('not_found', `partner sync ${syncId} not found for lead ${lead.id}`);
  const [reopened] = await repushSyncs(deps, { workspaceId, leadId: lead.id, syncId: sync.id });
  if (!reopened) {
    throw new AppError(
      'conflict',
      `partner sync ${sync.id} is ${sync.outcome}; only failed or conflict syncs are re-pushed`,
      { outcome: sync.outcome },
    );
  }
  return reopened;
}
