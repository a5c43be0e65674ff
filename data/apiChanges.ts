// The audit log of API changes: who (an API key and its label) asked for which write, on which resource.
import type pg from 'pg';

export interface ApiChange {
  workspaceId: string;
  apiKeyId: string;
  /** The key's label: the actor. */
  actor: string;
  method: string;
  /** The route as defined (`/api/v1/leads/:id/status`), its path parameters apart. */
  route: string;
  params: Record<string, string>;
  status: number;
}

export async function recordApiChange(pool: pg.Pool, change: ApiChange): Promise<void> {
  await pool.query(
    `INSERT INTO api_changes (workspace_id, api_key_id, actor, method, route, params, status)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [
      change.workspaceId,
      change.apiKeyId,
      change.actor,
      change.method,
      change.route,
      JSON.stringify(change.params),
      change.status,
    ],
  );
}

export interface ApiChangeRow {
  id: string;
  api_key_id: string;
  actor: string;
  method: string;
  route: string;
  params: Record<string, string>;
  status: number;
  created_at: Date;
}

/** A workspace's changes, newest first, `limit` at most, before the row `before` when given (paging). */
export async function listApiChanges(
  pool: pg.Pool,
  workspaceId: string,
  options: { limit: number; before?: string },
): Promise<ApiChangeRow[]> {
  const { rows } = await pool.query<ApiChangeRow>(
    `SELECT id::text, api_key_id, actor, method, route, params, status, created_at
       FROM api_changes
      WHERE workspace_id = $1 AND ($2::bigint IS NULL OR id < $2::bigint)
      ORDER BY id DESC LIMIT $3`,
    [workspaceId, options.before ?? null, options.limit],
  );
  return rows;
}
