// /api/v1/api-changes: the audit log of a workspace's API changes, each with the key and its label as the actor.
import type pg from 'pg';
import { z } from 'zod';
import { listApiChanges } from '../../../data/apiChanges';
import { endpoint } from '../../common/endpoints';
import { principal } from '../auth';
import { time } from '../schemas';

const ApiChange = z
  .object({
    id: z.string(),
    api_key_id: z.string(),
    actor: z.string().meta({ description: "the API key's label" }),
    method: z.string(),
    route: z.string().meta({ description: 'the route as defined, e.g. /api/v1/leads/:id/status' }),
    params: z.record(z.string(), z.string()).meta({ description: 'the path parameters: which resource' }),
    status: z.number().int(),
    created_at: time,
  })
  .meta({ id: 'ApiChange' });

export function apiChangeEndpoints(pool: pg.Pool) {
  return [
    endpoint({
      method: 'get',
      path: '/api/v1/api-changes',
      tag: 'api keys',
      summary: "The workspace's API changes, newest first, with the key's label as actor",
      description:
        'Every write an API key made (POST, PATCH, PUT, DELETE answered 2xx), recorded before the answer was sent. Page with `next_cursor`.',
      permission: 'read',
      query: z
        .object({
          limit: z.coerce.number().int().min(1).max(200).default(50),
          cursor: z
            .string()
            .regex(/^\d{1,18}$/, 'not a cursor this API gave out')
            .optional(),
        })
        .strict(),
      responses: {
        200: {
          description: 'a page of changes',
          schema: z.object({ changes: z.array(ApiChange), next_cursor: z.string().nullable() }),
        },
      },
      async handler({ query, req }) {
        const rows = await listApiChanges(pool, principal(req).workspaceId, {
          limit: query.limit + 1,
          before: query.cursor,
        });
        const page = rows.slice(0, query.limit);
        return {
          changes: page.map((row) => ({ ...row, created_at: row.created_at.toISOString() })),
          next_cursor: rows.length > query.limit ? page.at(-1)!.id : null,
        };
      },
    }),
  ];
}
