// API key lifecycle rules: a key can only create, rotate or revoke keys whose permissions it holds itself
// (`admin` holds them all), so no key can widen what it, or a key it makes, may do.
import type pg from 'pg';
import {
  getApiKey,
  insertApiKey,
  listApiKeys,
  revokeApiKey,
  rotateApiKey,
  type ApiKeyRecord,
} from '../data/apiKeys';
import { PERMISSIONS, type ApiKeyOwner, type Permission } from '../data/workspaces';
import { AppError } from '../shared/errors';

/** Longest a rotated key may keep working. */
export const MAX_GRACE_SECONDS = 7 * 24 * 3600;
/** Grace when a rotation states none: a day, as for webhook signing secrets. */
export const DEFAULT_GRACE_SECONDS = 24 * 3600;

function held(caller: ApiKeyOwner): readonly Permission[] {
  return caller.permissions.includes('admin') ? PERMISSIONS : caller.permissions;
}

/** 403 naming the field unless the caller holds every permission asked for. */
function requireSubset(caller: ApiKeyOwner, wanted: readonly Permission[], field: string): void {
  const missing = wanted.filter((permission) => !held(caller).includes(permission));
  if (missing.length === 0) return;
  throw new AppError(
    'forbidden',
    `this API key cannot grant permissions it does not hold: ${missing.join(', ')}`,
    {
      fields: [{ field, message: `not held by the calling key: ${missing.join(', ')}` }],
      not_held: missing,
    },
  );
}

export async function createApiKey(
  pool: pg.Pool,
  caller: ApiKeyOwner,
  input: { label: string; permissions: Permission[] },
): Promise<{ key: ApiKeyRecord; apiKey: string }> {
  requireSubset(caller, input.permissions, 'permissions');
  return insertApiKey(pool, { workspaceId: caller.workspaceId, ...input });
}

export function apiKeys(pool: pg.Pool, caller: ApiKeyOwner): Promise<ApiKeyRecord[]> {
  return listApiKeys(pool, caller.workspaceId);
}

/** The caller's workspace's working key by id, one the caller may manage; 404 otherwise. */
async function manageable(pool: pg.Pool, caller: ApiKeyOwner, id: string): Promise<ApiKeyRecord> {
  const key = await getApiKey(pool, caller.workspaceId, id);
  if (!key) throw new AppError('not_found', `api key ${id} not found`);
  requireSubset(caller, key.permissions, 'id');
  return key;
}

export async function revokeKey(pool: pg.Pool, caller: ApiKeyOwner, id: string): Promise<void> {
  await manageable(pool, caller, id);
  if (!(await revokeApiKey(pool, caller.workspaceId, id))) {
    throw new AppError('not_found', `api key ${id} not found`);
  }
}

export async function rotateKey(pool: pg.Pool, caller: ApiKeyOwner, id: string, graceSeconds: number) {
  await manageable(pool, caller, id);
  const rotated = await rotateApiKey(pool, caller.workspaceId, id, graceSeconds);
  if (!rotated) throw new AppError('not_found', `api key ${id} not found`);
  return rotated;
}
