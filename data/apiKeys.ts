// A workspace's API keys over their lifecycle: created with a label and permissions, listed (never the key or
// its hash), revoked, and rotated with a grace period during which the old key still works.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { withTransaction } from './pool';
import { mintApiKey, type Permission } from './workspaces';

export interface ApiKeyRecord {
  id: string;
  prefix: string;
  label: string;
  permissions: Permission[];
  created_at: Date;
  last_used_at: Date | null;
  /** Set by a rotation: the key stops working then. */
  expires_at: Date | null;
}

const COLUMNS = 'id, key_prefix AS prefix, label, permissions, created_at, last_used_at, expires_at';
const LIVE = 'revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())';

export async function insertApiKey(
  db: pg.Pool | pg.PoolClient,
  input: { workspaceId: string; label: string; permissions: Permission[]; rotatedFrom?: string },
): Promise<{ key: ApiKeyRecord; apiKey: string }> {
  const minted = mintApiKey();
  const { rows } = await db.query<ApiKeyRecord>(
    `INSERT INTO api_keys (id, workspace_id, key_hash, key_prefix, permissions, label, rotated_from)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
    [
      randomUUID(),
      input.workspaceId,
      minted.hash,
      minted.prefix,
      input.permissions,
      input.label,
      input.rotatedFrom ?? null,
    ],
  );
  return { key: rows[0]!, apiKey: minted.key };
}

/** The workspace's working keys, oldest first (revoked and expired ones are gone). */
export async function listApiKeys(pool: pg.Pool, workspaceId: string): Promise<ApiKeyRecord[]> {
  const { rows } = await pool.query<ApiKeyRecord>(
    `SELECT ${COLUMNS} FROM api_keys WHERE workspace_id = $1 AND ${LIVE} ORDER BY created_at, id`,
    [workspaceId],
  );
  return rows;
}

export async function getApiKey(
  pool: pg.Pool,
  workspaceId: string,
  id: string,
): Promise<ApiKeyRecord | undefined> {
  const { rows } = await pool.query<ApiKeyRecord>(
    `SELECT ${COLUMNS} FROM api_keys WHERE workspace_id = $1 AND id = $2 AND ${LIVE}`,
    [workspaceId, id],
  );
  return rows[0];
}

/** Revokes a working key; false when there is none by that id. */
export async function revokeApiKey(pool: pg.Pool, workspaceId: string, id: string): Promise<boolean> {
  const { rowCount } = await pool.query(
    `UPDATE api_keys SET revoked_at = now() WHERE workspace_id = $1 AND id = $2 AND ${LIVE}`,
    [workspaceId, id],
  );
  return rowCount === 1;
}

/**
 * A new key with the old one's label and permissions; the old one works until `graceSeconds` from now (or
 * its earlier end, if an earlier rotation set one). Undefined when no working key has that id.
 */
export async function rotateApiKey(
  pool: pg.Pool,
  workspaceId: string,
  id: string,
  graceSeconds: number,
): Promise<{ key: ApiKeyRecord; apiKey: string; previous: ApiKeyRecord } | undefined> {
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<ApiKeyRecord>(
      `UPDATE api_keys
          SET expires_at = LEAST(COALESCE(expires_at, 'infinity'), now() + make_interval(secs => $3))
        WHERE workspace_id = $1 AND id = $2 AND ${LIVE}
        RETURNING ${COLUMNS}`,
      [workspaceId, id, graceSeconds],
    );
    const previous = rows[0];
    if (!previous) return undefined;
    const created = await insertApiKey(client, {
      workspaceId,
      label: previous.label,
      permissions: previous.permissions,
      rotatedFrom: previous.id,
    });
    return { ...created, previous };
  });
}
