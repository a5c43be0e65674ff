// Workflow rules a workspace sets for its properties (or all of them): a rule names a property it has.
import type pg from 'pg';
import { createRule, listPropertyRules } from '../data/workflowRules';
import { getProperty } from '../data/workspaces';
import { AppError } from '../shared/errors';
import { requireProperty } from './properties';

export async function addRule(pool: pg.Pool, workspaceId: string, input: Parameters<typeof createRule>[2]) {
  await requireProperty(pool, workspaceId, input.propertyId);
  return createRule(pool, workspaceId, input);
}

/** A property's rules, its own and the workspace-wide ones; an unknown property is not found. */
export async function propertyRules(pool: pg.Pool, workspaceId: string, propertyId: string) {
  if (!(await getProperty(pool, workspaceId, propertyId))) {
    throw new AppError('not_found', `property ${propertyId} not found`);
  }
  return listPropertyRules(pool, workspaceId, propertyId);
}
