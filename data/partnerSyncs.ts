// Partner sync rows for readers (a lead's syncs, an integration's failures) and the re-push reset.
import type pg from 'pg';
import type { PartnerName } from '../shared/lifecycle';

export interface PartnerSyncRecord {
  id: string;
  idempotency_key: string;
  lead_id: string;
  partner: PartnerName;
  integration_id: string | null;
  status: string;
  partner_value: string | null;
  outcome: 'pending' | 'success' | 'failed' | 'conflict' | 'skipped';
  response_code: number | null;
  error: string | null;
  attempts: number;
  origin: string | null;
  causation_id: string;
  external_id: string | null;
  read_back: string | null;
  response: Record<string, unknown> | null;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
}

const COLUMNS = `id, idempotency_key, lead_id, partner, integration_id, status, partner_value, outcome, response_code,
  error, attempts, origin, causation_id, external_id, read_back, response, created_at, updated_at, finished_at`;

export async function listLeadSyncs(
  pool: pg.Pool,
  workspaceId: string,
  leadId: string,
): Promise<PartnerSyncRecord[]> {
  const { rows } = await pool.query<PartnerSyncRecord>(
    `SELECT ${COLUMNS} FROM partner_syncs WHERE workspace_id = $1 AND lead_id = $2 ORDER BY created_at, id`,
    [workspaceId, leadId],
  );
  return rows;
}

/**
 * Puts finished-but-unsuccessful syncs (failed, conflict) back to pending for a re-push and answers them.
 * Pending ones are still being pushed and successful or skipped ones have nothing to redo.
 */
export async function reopenSyncs(
  pool: pg.Pool,
  filter: {
    workspaceId: string;
    leadId?: string;
    syncId?: string;
    partner?: PartnerName;
    integrationId?: string;
    limit?: number;
  },
): Promise<PartnerSyncRecord[]> {
  const { rows } = await pool.query<PartnerSyncRecord>(
    `UPDATE partner_syncs SET outcome = 'pending', error = NULL, finished_at = NULL, updated_at = now()
      WHERE id IN (
        SELECT id FROM partner_syncs
         WHERE workspace_id = $1 AND outcome IN ('failed', 'conflict')
           AND ($2::uuid IS NULL OR lead_id = $2) AND ($3::uuid IS NULL OR id = $3)
           AND ($4::text IS NULL OR partner = $4) AND ($6::uuid IS NULL OR integration_id = $6)
         ORDER BY created_at, id LIMIT $5)
      RETURNING ${COLUMNS}`,
    [
      filter.workspaceId,
      filter.leadId ?? null,
      filter.syncId ?? null,
      filter.partner ?? null,
      filter.limit ?? 1000,
      filter.integrationId ?? null,
    ],
  );
  return rows;
}

export function syncJson(row: PartnerSyncRecord) {
  return {
    id: row.id,
    partner: row.partner,
    integration_id: row.integration_id,
    status: row.status,
    partner_value: row.partner_value,
    outcome: row.outcome,
    response_code: row.response_code,
    error: row.error,
    attempts: row.attempts,
    origin: row.origin,
    causation_id: row.causation_id,
    external_id: row.external_id,
    read_back: row.read_back,
    response: row.response,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    finished_at: row.finished_at?.toISOString() ?? null,
  };
}
