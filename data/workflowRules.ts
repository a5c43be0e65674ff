// Workflow rules in Postgres (seed 001 status_workflow_rules): trigger status and conditions → actions.
// Journeys read the active ones when a run starts (activities/db/journey.ts).
import type pg from 'pg';

export interface RuleRecord {
  id: string;
  property_id: string | null;
  trigger_status: string;
  target_status: string | null;
  conditions: Record<string, unknown>;
  actions: Record<string, unknown>[];
  is_active: boolean;
  created_at: Date;
}

const COLUMNS = 'id, property_id, trigger_status, target_status, conditions, actions, is_active, created_at';

export async function createRule(
  pool: pg.Pool,
  workspaceId: string,
  input: {
    propertyId: string | null;
    triggerStatus: string;
    targetStatus?: string | null;
    conditions: Record<string, unknown>;
    actions: Record<string, unknown>[];
    isActive: boolean;
  },
): Promise<RuleRecord> {
  const { rows } = await pool.query<RuleRecord>(
    `INSERT INTO status_workflow_rules (workspace_id, property_id, trigger_status, target_status, conditions, actions,
                                       is_active)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
    [
      workspaceId,
      input.propertyId,
      input.triggerStatus,
      input.targetStatus ?? null,
      JSON.stringify(input.conditions),
      JSON.stringify(input.actions),
      input.isActive,
    ],
  );
  return rows[0]!;
}

/** The rules that apply to a property: its own and the workspace-wide ones. */
export async function listPropertyRules(
  pool: pg.Pool,
  workspaceId: string,
  propertyId: string,
): Promise<RuleRecord[]> {
  const { rows } = await pool.query<RuleRecord>(
    `SELECT ${COLUMNS} FROM status_workflow_rules
      WHERE workspace_id = $1 AND (property_id = $2 OR property_id IS NULL) ORDER BY created_at`,
    [workspaceId, propertyId],
  );
  return rows;
}

export async function setRuleActive(
  pool: pg.Pool,
  workspaceId: string,
  id: string,
  active: boolean,
): Promise<RuleRecord | undefined> {
  const { rows } = await pool.query<RuleRecord>(
    `UPDATE status_workflow_rules SET is_active = $3 WHERE workspace_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
    [workspaceId, id, active],
  );
  return rows[0];
}

export async function deleteRule(pool: pg.Pool, workspaceId: string, id: string): Promise<boolean> {
  const { rowCount } = await pool.query(
    'DELETE FROM status_workflow_rules WHERE workspace_id = $1 AND id = $2',
    [workspaceId, id],
  );
  return (rowCount ?? 0) > 0;
}
