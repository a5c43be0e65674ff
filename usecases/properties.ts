// A property named in a request must be one of the workspace's: checked before anything is stored.
import type pg from 'pg';
import { getProperty } from '../data/workspaces';
import { AppError } from '../shared/errors';

/** Nothing to check when no property is named (null: the whole workspace); an unknown one names the field. */
export async function requireProperty(
  pool: pg.Pool,
  workspaceId: string,
  propertyId: string | null | undefined,
): Promise<void> {
  if (!propertyId || (await getProperty(pool, workspaceId, propertyId))) return;
  throw new AppError('validation_failed', `property ${propertyId} does not exist in this workspace`, {
    fields: [{ field: 'property_id', message: 'unknown property' }],
  });
}
