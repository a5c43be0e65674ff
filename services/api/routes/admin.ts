// /api/v1/admin: operator actions behind LEADRELAY_ADMIN_TOKEN, across every workspace.
import type pg from 'pg';
import { z } from 'zod';
import { resealSecrets } from '../../../data/keyRotation';
import { requireKeyRing, type KeyRing } from '../../../shared/crypto';
import { endpoint } from '../../common/endpoints';

const tableCounts = z.object({
  checked: z.number().int(),
  resealed: z.number().int(),
  current: z.number().int(),
  failed: z.number().int(),
});

const RotationReport = z
  .object({
    primary_key_id: z.string(),
    dry_run: z.boolean(),
    tables: z.object({ integrations: tableCounts, webhook_endpoints: tableCounts }),
    failures: z.array(z.object({ table: z.string(), column: z.string(), id: z.string(), error: z.string() })),
  })
  .meta({ id: 'KeyRotationReport' });

export function adminEndpoints(deps: { pool: pg.Pool; keyRing?: KeyRing }) {
  return [
    endpoint({
      method: 'post',
      path: '/api/v1/admin/rotate-keys',
      tag: 'admin',
      summary: 'Re-seal every stored secret with the first key of LEADRELAY_ENCRYPTION_KEYS',
      description:
        'Integration credentials and webhook secrets, outbound webhook signing secrets. Idempotent; counts per table; values no key opens are listed, not changed. Same as `npm run rotate-keys`.',
      auth: 'admin_token',
      body: z
        .object({
          dry_run: z
            .boolean()
            .default(false)
            .meta({ description: 'count what would be resealed, write nothing' }),
        })
        .strict(),
      bodyOptional: true,
      responses: { 200: { description: 'the pass', schema: RotationReport } },
      // The api's own key ring decides: deploy the new key first (in front) to every process, then call this.
      handler: ({ body }) => resealSecrets(deps.pool, requireKeyRing(deps.keyRing), { dryRun: body.dry_run }),
    }),
  ];
}
