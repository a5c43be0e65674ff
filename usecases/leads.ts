// A lead as staff read and change it: its record with the live journey state, its history and partner syncs,
// and a staff status change through its journey, whose refusals are recorded here, in the lead's history.
import { WorkflowNotFoundError } from '@temporalio/client';
import type pg from 'pg';
import { loadJourneyContext } from '../activities/db/journey';
import { getLead, recordRefusedAttempt, statusHistory, type LeadRecord } from '../data/leads';
import { listLeadSyncs } from '../data/partnerSyncs';
import { AppError } from '../shared/errors';
import { idempotencyKey, isUuid } from '../shared/ids';
import type { ChangeStatusRequest, ChangeStatusResult } from '../shared/journey/types';
import { allowedNext, isStatus, type LeadStatus } from '../shared/lifecycle';
import type { IntakeDeps } from './intake';

export async function findLead(pool: pg.Pool, workspaceId: string, leadId: string): Promise<LeadRecord> {
  const lead = isUuid(leadId) ? await getLead(pool, workspaceId, leadId) : undefined;
  if (!lead) throw new AppError('not_found', `lead ${leadId} not found`);
  return lead;
}

/** The lead and its journey's live state; the projection alone answers when the journey cannot. */
export async function leadWithJourney(deps: IntakeDeps, workspaceId: string, leadId: string) {
  const lead = await findLead(deps.pool, workspaceId, leadId);
  const live = await deps.journeys.state(workspaceId, lead.id).catch(() => undefined);
  return { lead, live };
}

export async function leadHistory(
  pool: pg.Pool,
  workspaceId: string,
  leadId: string,
  filter: Parameters<typeof statusHistory>[3],
) {
  const lead = await findLead(pool, workspaceId, leadId);
  return statusHistory(pool, workspaceId, lead.id, filter);
}

export async function leadSyncs(pool: pg.Pool, workspaceId: string, leadId: string) {
  const lead = await findLead(pool, workspaceId, leadId);
  return listLeadSyncs(pool, workspaceId, lead.id);
}

/** What the lifecycle refuses: each is kept in the lead's history as a `refused` entry. */
const REFUSALS = ['invalid_transition', 'missing_fields', 'status_not_available'];

/**
 * A staff status change, decided by the lead's journey (the reducer's own validation). The journey answers a
 * refusal without recording it (update validators write nothing), so it is recorded here, once per request id.
 */
export async function changeLeadStatus(
  deps: IntakeDeps,
  workspaceId: string,
  leadId: string,
  change: ChangeStatusRequest,
): Promise<ChangeStatusResult> {
  const lead = await findLead(deps.pool, workspaceId, leadId);
  try {
    return await deps.journeys.changeStatus(workspaceId, lead.id, change).catch(async (error: unknown) => {
      if (!(error instanceof WorkflowNotFoundError) || !isStatus(lead.status)) throw error;
      throw await endedJourneyRefusal(deps.pool, lead, lead.status, change.to);
    });
  } catch (error) {
    if (error instanceof AppError && REFUSALS.includes(error.code)) {
      await recordRefusedAttempt(deps.pool, {
        workspaceId,
        leadId: lead.id,
        key: idempotencyKey('refused', lead.id, change.requestId),
        fromStatus: String(error.details.from ?? lead.status),
        toStatus: change.to,
        source: change.source,
        actor: change.actor,
        reason: change.reason,
        context: { code: error.code, ...error.details },
      });
    }
    throw error;
  }
}

/**
 * A journey that has ended (its lead reached a final status) accepts no change: refused with what the lifecycle
 * allows from there, for the lead's own vertical and its workspace's pipeline.
 */
async function endedJourneyRefusal(pool: pg.Pool, lead: LeadRecord, from: LeadStatus, to: LeadStatus) {
  const { policy } = await loadJourneyContext(pool, { workspaceId: lead.workspace_id, leadId: lead.id });
  return new AppError('invalid_transition', `cannot move a lead from ${from} to ${to}`, {
    from,
    to,
    allowed: allowedNext(from, policy.vertical, policy.pipeline),
  });
}
