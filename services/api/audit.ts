// Every change an API key makes is recorded with the key's label as its actor (data/apiChanges.ts): one hook on
// every route (services/common/endpoints.ts), so no write can forget it. Operator (admin token) and signed-link
// requests carry no key and are not a workspace's changes.
import type pg from 'pg';
import { recordApiChange } from '../../data/apiChanges';
import type { ChangeRecorder } from '../common/endpoints';

export function recordApiChanges(pool: pg.Pool): ChangeRecorder {
  return async (definition, req, status) => {
    const key = req.principal;
    if (!key) return;
    await recordApiChange(pool, {
      workspaceId: key.workspaceId,
      apiKeyId: key.keyId,
      actor: key.label,
      method: definition.method.toUpperCase(),
      route: definition.path,
      params: { ...req.params } as Record<string, string>,
      status,
    });
  };
}
