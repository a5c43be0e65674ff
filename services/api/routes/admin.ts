// /api/v1/admin: operator actions behind LEADRELAY_ADMIN_TOKEN, across every workspace.
import { Router } from 'express';
import type pg from 'pg';
import { z } from 'zod';
import { resealSecrets } from '../../../data/keyRotation';
import type { KeyRing } from '../../../shared/crypto';
import { AppError } from '../../../shared/errors';
import { parse, route } from '../../common/http';
import { requireAdminToken } from '../auth';

export const RotateKeysBody = z
  .object({
    dry_run: z.boolean().default(false).meta({ description: 'count what would be resealed, write nothing' }),
  })
  .strict();

export function adminRouter(deps: { pool: pg.Pool; keyRing?: KeyRing; adminToken?: string }): Router {
  const router = Router();
  router.use(requireAdminToken(deps.adminToken));

  // The api's own key ring decides: deploy the new key first (in front) to every process, then call this.
  router.post(
    '/rotate-keys',
    route(async (req, res) => {
      const body = parse(RotateKeysBody, req.body ?? {});
      if (!deps.keyRing) {
        throw new AppError('unavailable', 'LEADRELAY_ENCRYPTION_KEYS is not configured on this server');
      }
      res.json(await resealSecrets(deps.pool, deps.keyRing, { dryRun: body.dry_run }));
    }),
  );
  return router;
}

const tableCounts = z.object({
  checked: z.number().int(),
  resealed: z.number().int(),
  current: z.number().int(),
  failed: z.number().int(),
});

export const RotationReport = z
  .object({
    primary_key_id: z.string(),
    dry_run: z.boolean(),
    tables: z.object({ integrations: tableCounts, webhook_endpoints: tableCounts }),
    failures: z.array(z.object({ table: z.string(), column: z.string(), id: z.string(), error: z.string() })),
  })
  .meta({ id: 'KeyRotationReport' });
