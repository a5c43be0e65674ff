// /api/v1/api-keys: a workspace's keys over their lifecycle (SPEC section 7): create (shown once), list (never
// the key), revoke (401 at once), rotate with a bounded grace period for the old key.
import type pg from 'pg';
import { z } from 'zod';
import type { ApiKeyRecord } from '../../../data/apiKeys';
import { PERMISSIONS } from '../../../data/workspaces';
import {
  apiKeys,
  createApiKey,
  DEFAULT_GRACE_SECONDS,
  MAX_GRACE_SECONDS,
  revokeKey,
  rotateKey,
} from '../../../usecases/apiKeys';
import { endpoint } from '../../common/endpoints';
import { principal, type RecentMisses } from '../auth';
import { byId, time } from '../schemas';

const permissions = z
  .array(z.enum(PERMISSIONS))
  .min(1)
  .transform((list) => [...new Set(list)]);

const ApiKey = z
  .object({
    id: z.uuid(),
    prefix: z.string().meta({ description: 'the first characters of the key, to recognise it' }),
    label: z.string(),
    permissions: z.array(z.enum(PERMISSIONS)),
    created_at: time,
    last_used_at: time.nullable().meta({ description: 'to the minute' }),
    expires_at: time.nullable().meta({ description: 'set by a rotation: the key stops working then' }),
  })
  .meta({ id: 'ApiKey' });

const CreatedApiKey = z.object({
  id: z.uuid(),
  api_key: z.string().meta({ description: 'the key itself, shown once; only its hash is stored' }),
  prefix: z.string(),
  label: z.string(),
  permissions: z.array(z.enum(PERMISSIONS)),
  created_at: time,
});

function keyJson(key: ApiKeyRecord): z.input<typeof ApiKey> {
  return {
    id: key.id,
    prefix: key.prefix,
    label: key.label,
    permissions: key.permissions,
    created_at: key.created_at.toISOString(),
    last_used_at: key.last_used_at?.toISOString() ?? null,
    expires_at: key.expires_at?.toISOString() ?? null,
  };
}

function createdJson({ key, apiKey }: { key: ApiKeyRecord; apiKey: string }): z.input<typeof CreatedApiKey> {
  return {
    id: key.id,
    api_key: apiKey,
    prefix: key.prefix,
    label: key.label,
    permissions: key.permissions,
    created_at: key.created_at.toISOString(),
  };
}

const MANAGE =
  'The calling key needs `update` and must hold every permission of the key it creates, rotates or revokes (`admin` holds them all); otherwise 403 naming the field.';

export function apiKeyEndpoints(deps: { pool: pg.Pool; misses: RecentMisses }) {
  const { pool, misses } = deps;
  return [
    endpoint({
      method: 'post',
      path: '/api/v1/api-keys',
      tag: 'api keys',
      summary: 'Create an API key (shown once)',
      description: MANAGE,
      permission: 'update',
      body: z.object({ label: z.string().trim().min(1).max(200), permissions }).strict(),
      responses: { 201: { description: 'created', schema: CreatedApiKey } },
      async handler({ body, req }) {
        const created = await createApiKey(pool, principal(req), body);
        // A key answered 401 a moment ago may be this one (vanishingly unlikely, but then it must work now).
        misses.clear();
        return createdJson(created);
      },
    }),
    endpoint({
      method: 'get',
      path: '/api/v1/api-keys',
      tag: 'api keys',
      summary: 'List the workspace’s working keys (never the key or its hash)',
      permission: 'read',
      responses: {
        200: { description: 'keys, oldest first', schema: z.object({ api_keys: z.array(ApiKey) }) },
      },
      handler: async ({ req }) => ({ api_keys: (await apiKeys(pool, principal(req))).map(keyJson) }),
    }),
    endpoint({
      method: 'delete',
      path: '/api/v1/api-keys/:id',
      tag: 'api keys',
      summary: 'Revoke a key: it answers 401 from the next request',
      description: MANAGE,
      permission: 'update',
      responses: { 204: { description: 'revoked' } },
      async handler({ params, req }) {
        await byId(params.id, 'api key', async (id) => (await revokeKey(pool, principal(req), id), true));
      },
    }),
    endpoint({
      method: 'post',
      path: '/api/v1/api-keys/:id/rotate',
      tag: 'api keys',
      summary: 'Rotate a key: a new key with the same label and permissions',
      description: `The old key keeps working for \`grace_seconds\` (default ${DEFAULT_GRACE_SECONDS}, at most ${MAX_GRACE_SECONDS}; 0 ends it now); \`previous_key.expires_at\` says until when. ${MANAGE}`,
      permission: 'update',
      body: z
        .object({
          grace_seconds: z.number().int().min(0).max(MAX_GRACE_SECONDS).default(DEFAULT_GRACE_SECONDS),
        })
        .strict(),
      bodyOptional: true,
      responses: {
        201: {
          description: 'the new key, shown once',
          schema: CreatedApiKey.extend({
            previous_key: z.object({ id: z.uuid(), expires_at: time }),
          }),
        },
      },
      async handler({ params, body, req }) {
        const rotated = await byId(params.id, 'api key', (id) =>
          rotateKey(pool, principal(req), id, body.grace_seconds),
        );
        misses.clear();
        return {
          ...createdJson(rotated),
          previous_key: { id: rotated.previous.id, expires_at: rotated.previous.expires_at!.toISOString() },
        };
      },
    }),
  ];
}
