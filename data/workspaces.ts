// Workspaces, their hashed API keys, and properties.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { AppError } from '../shared/errors';
import type { Vertical } from '../shared/lifecycle';
import { withTransaction } from './pool';

export const PERMISSIONS = ['read', 'update', 'convert', 'admin'] as const;
export type Permission = (typeof PERMISSIONS)[number];

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export async function createWorkspace(
  pool: pg.Pool,
  input: {
    workspaceId?: string;
    name: string;
    permissions: Permission[];
    timezone: string;
    rateLimitPerHour?: number;
  },
): Promise<{ workspaceId: string; apiKey: string }> {
  const workspaceId = input.workspaceId ?? `ws_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const apiKey = `lr_${randomBytes(32).toString('base64url')}`;
  await withTransaction(pool, async (client) => {
    const inserted = await client.query(
      `INSERT INTO workspaces (id, name, timezone, rate_limit_per_hour) VALUES ($1, $2, $3, COALESCE($4, 1000))
       ON CONFLICT (id) DO NOTHING`,
      [workspaceId, input.name, input.timezone, input.rateLimitPerHour ?? null],
    );
    if (inserted.rowCount === 0) {
      throw new AppError('conflict', `workspace ${workspaceId} already exists`, { field: 'workspace_id' });
    }
    await client.query(
      'INSERT INTO api_keys (id, workspace_id, key_hash, key_prefix, permissions) VALUES ($1, $2, $3, $4, $5)',
      [randomUUID(), workspaceId, hashApiKey(apiKey), apiKey.slice(0, 7), input.permissions],
    );
  });
  return { workspaceId, apiKey };
}

/** Who holds an API key: its workspace (with the time zone bare dates are read in) and permissions. */
export interface ApiKeyOwner {
  workspaceId: string;
  permissions: Permission[];
  timezone: string;
}

export async function findApiKey(pool: pg.Pool, apiKey: string): Promise<ApiKeyOwner | undefined> {
  const { rows } = await pool.query<ApiKeyOwner>(
    `SELECT k.workspace_id AS "workspaceId", k.permissions, w.timezone
       FROM api_keys k JOIN workspaces w ON w.id = k.workspace_id
      WHERE k.key_hash = $1 AND k.revoked_at IS NULL`,
    [hashApiKey(apiKey)],
  );
  return rows[0];
}

export interface WorkspaceRecord {
  workspace_id: string;
  workspace_name: string;
  timezone: string;
  rate_limit_per_hour: number;
  dashboard_rate_limit_per_hour: number;
  created_at: Date;
}

const WORKSPACE_COLUMNS =
  'id AS workspace_id, name AS workspace_name, timezone, rate_limit_per_hour, dashboard_rate_limit_per_hour, created_at';

export async function getWorkspace(pool: pg.Pool, workspaceId: string): Promise<WorkspaceRecord | undefined> {
  const { rows } = await pool.query<WorkspaceRecord>(
    `SELECT ${WORKSPACE_COLUMNS} FROM workspaces WHERE id = $1`,
    [workspaceId],
  );
  return rows[0];
}

/** Operator settings of a workspace (admin token): name, time zone, rate limits (integrations', dashboard's). */
export async function updateWorkspace(
  pool: pg.Pool,
  workspaceId: string,
  patch: { name?: string; timezone?: string; rateLimitPerHour?: number; dashboardRateLimitPerHour?: number },
): Promise<WorkspaceRecord | undefined> {
  const { rows } = await pool.query<WorkspaceRecord>(
    `UPDATE workspaces SET name = COALESCE($2, name), timezone = COALESCE($3, timezone),
            rate_limit_per_hour = COALESCE($4, rate_limit_per_hour),
            dashboard_rate_limit_per_hour = COALESCE($5, dashboard_rate_limit_per_hour)
      WHERE id = $1 RETURNING ${WORKSPACE_COLUMNS}`,
    [
      workspaceId,
      patch.name ?? null,
      patch.timezone ?? null,
      patch.rateLimitPerHour ?? null,
      patch.dashboardRateLimitPerHour ?? null,
    ],
  );
  return rows[0];
}

export interface PropertyRecord {
  property_id: string;
  workspace_id: string;
  name: string;
  timezone: string;
  vertical: Vertical;
  us_state: string | null;
  created_at: Date;
  updated_at: Date;
}

const PROPERTY_COLUMNS =
  'id AS property_id, workspace_id, name, timezone, vertical, us_state, created_at, updated_at';

export async function createProperty(
  pool: pg.Pool,
  input: {
    workspaceId: string;
    propertyId?: string;
    name: string;
    timezone: string;
    vertical: Vertical;
    usState?: string;
  },
): Promise<PropertyRecord> {
  const { rows } = await pool.query<PropertyRecord>(
    `INSERT INTO properties (workspace_id, id, name, timezone, vertical, us_state) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT DO NOTHING RETURNING ${PROPERTY_COLUMNS}`,
    [
      input.workspaceId,
      input.propertyId ?? `prop_${randomUUID().replace(/-/g, '').slice(0, 16)}`,
      input.name,
      input.timezone,
      input.vertical,
      input.usState ?? null,
    ],
  );
  if (!rows[0])
    throw new AppError('conflict', `property ${input.propertyId} already exists`, { field: 'property_id' });
  return rows[0];
}

export async function getProperty(
  pool: pg.Pool,
  workspaceId: string,
  propertyId: string,
): Promise<PropertyRecord | undefined> {
  const { rows } = await pool.query<PropertyRecord>(
    `SELECT ${PROPERTY_COLUMNS} FROM properties WHERE workspace_id = $1 AND id = $2`,
    [workspaceId, propertyId],
  );
  return rows[0];
}

export async function listProperties(pool: pg.Pool, workspaceId: string): Promise<PropertyRecord[]> {
  const { rows } = await pool.query<PropertyRecord>(
    `SELECT ${PROPERTY_COLUMNS} FROM properties WHERE workspace_id = $1 ORDER BY created_at`,
    [workspaceId],
  );
  return rows;
}
