// /api/v1/webhook-endpoints (seed 002): register endpoints for event types, Standard Webhooks signing secrets
// (shown once, rotatable), a test event, and the per-attempt delivery log.
import { Router } from 'express';
import type pg from 'pg';
import { z } from 'zod';
import {
  createEndpoint,
  deleteEndpoint,
  deliveryJson,
  endpointJson,
  generateSigningSecret,
  getEndpoint,
  listDeliveries,
  listEndpoints,
  queueTestMessage,
  rotateSecret,
  updateEndpoint,
  type EndpointRecord,
} from '../../../data/webhookEndpoints';
import type { KeyRing } from '../../../shared/crypto';
import { AppError } from '../../../shared/errors';
import { ALL_EVENTS, WEBHOOK_EVENT_TYPES } from '../../../shared/webhooks';
import { parse, route } from '../../common/http';
import { principal, requirePermission } from '../auth';
import { decodeCursor, encodeCursor, invalidCursor, uuid } from '../schemas';

export interface WebhookEndpointsDeps {
  pool: pg.Pool;
  /** Seals signing secrets (LEADRELAY_ENCRYPTION_KEYS); without it endpoints cannot be created. */
  keyRing?: KeyRing;
}

/** `whsec_` and the base64 of 24 to 64 random bytes, as Standard Webhooks libraries expect. */
const signingSecret = z
  .string()
  .regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/, 'whsec_ followed by base64')
  .refine((secret) => {
    const bytes = Buffer.from(secret.slice('whsec_'.length), 'base64').length;
    return bytes >= 24 && bytes <= 64;
  }, 'the secret must encode 24 to 64 bytes');

const eventList = z
  .array(z.enum([...WEBHOOK_EVENT_TYPES, ALL_EVENTS]))
  .min(1)
  .max(50)
  .transform((events) => [...new Set(events)]);

const endpointUrl = z.url({ protocol: /^https?$/ }).max(2000);

/** Seed 002 registerEndpoint: `{ name, url, events, secret? }`. */
export const CreateEndpointBody = z
  .object({
    name: z.string().min(1).max(200),
    url: endpointUrl,
    events: eventList,
    secret: signingSecret.optional(),
  })
  .strict();

export const UpdateEndpointBody = z
  .object({
    name: z.string().min(1).max(200).optional(),
    url: endpointUrl.optional(),
    events: eventList.optional(),
    enabled: z.boolean().optional(),
  })
  .strict()
  .refine((body) => Object.values(body).some((value) => value !== undefined), {
    message: 'nothing to update',
    path: ['body'],
  });

export const RotateSecretBody = z.object({ secret: signingSecret.optional() }).strict();

export const DeliveriesQuery = z.object({
  success: z.enum(['true', 'false']).optional(),
  message_id: uuid.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(500).optional(),
});

export function webhookEndpointsRouter(deps: WebhookEndpointsDeps): Router {
  const router = Router();
  const keyRing = (): KeyRing => {
    if (!deps.keyRing) {
      throw new AppError('unavailable', 'LEADRELAY_ENCRYPTION_KEYS is not configured on this server');
    }
    return deps.keyRing;
  };
  const find = async (req: Parameters<typeof principal>[0]): Promise<EndpointRecord> => {
    const id = String(req.params.id);
    const endpoint = uuid.safeParse(id).success
      ? await getEndpoint(deps.pool, principal(req).workspaceId, id)
      : undefined;
    if (!endpoint) throw new AppError('not_found', `webhook endpoint ${id} not found`);
    return endpoint;
  };

  router.post(
    '/',
    requirePermission('admin'),
    route(async (req, res) => {
      const body = parse(CreateEndpointBody, req.body);
      const secret = body.secret ?? generateSigningSecret();
      const endpoint = await createEndpoint(deps.pool, keyRing(), {
        workspaceId: principal(req).workspaceId,
        name: body.name,
        url: body.url,
        events: body.events,
        secret,
      });
      // The secret is shown here, once; it is stored sealed and never read back through the API.
      res.status(201).json({ ...endpointJson(endpoint), secret });
    }),
  );

  router.get(
    '/',
    requirePermission('read'),
    route(async (req, res) => {
      const endpoints = await listEndpoints(deps.pool, principal(req).workspaceId);
      res.json({ webhook_endpoints: endpoints.map(endpointJson), event_types: WEBHOOK_EVENT_TYPES });
    }),
  );

  router.get(
    '/:id',
    requirePermission('read'),
    route(async (req, res) => {
      res.json(endpointJson(await find(req)));
    }),
  );

  router.patch(
    '/:id',
    requirePermission('admin'),
    route(async (req, res) => {
      const body = parse(UpdateEndpointBody, req.body);
      const endpoint = await find(req);
      const updated = await updateEndpoint(deps.pool, endpoint.workspace_id, endpoint.id, body);
      if (!updated) throw new AppError('not_found', `webhook endpoint ${endpoint.id} not found`);
      res.json(endpointJson(updated));
    }),
  );

  router.delete(
    '/:id',
    requirePermission('admin'),
    route(async (req, res) => {
      const endpoint = await find(req);
      await deleteEndpoint(deps.pool, endpoint.workspace_id, endpoint.id);
      res.status(204).end();
    }),
  );

  router.post(
    '/:id/rotate-secret',
    requirePermission('admin'),
    route(async (req, res) => {
      const body = parse(RotateSecretBody, req.body ?? {});
      const endpoint = await find(req);
      const secret = body.secret ?? generateSigningSecret();
      const rotated = await rotateSecret(deps.pool, keyRing(), endpoint.workspace_id, endpoint.id, secret);
      if (!rotated) throw new AppError('not_found', `webhook endpoint ${endpoint.id} not found`);
      res.json({ ...endpointJson(rotated), secret });
    }),
  );

  router.post(
    '/:id/test',
    requirePermission('update'),
    route(async (req, res) => {
      const endpoint = await find(req);
      if (endpoint.status !== 'active') {
        throw new AppError('conflict', 'this endpoint is disabled; enable it first', {
          status: endpoint.status,
          disabled_reason: endpoint.disabled_reason,
        });
      }
      const { messageId } = await queueTestMessage(deps.pool, endpoint);
      res.status(202).json({ message_id: messageId, event_type: 'webhook.test' });
    }),
  );

  router.get(
    '/:id/deliveries',
    requirePermission('read'),
    route(async (req, res) => {
      const query = parse(DeliveriesQuery, req.query, 'query');
      const endpoint = await find(req);
      const cursor = query.cursor ? decodeCursor(query.cursor, ['createdAt', 'id']) : undefined;
      if (cursor && (Number.isNaN(Date.parse(cursor.createdAt)) || !uuid.safeParse(cursor.id).success)) {
        throw invalidCursor();
      }
      const rows = await listDeliveries(deps.pool, endpoint.id, {
        success: query.success === undefined ? undefined : query.success === 'true',
        messageId: query.message_id,
        limit: query.limit + 1,
        cursor,
      });
      const page = rows.slice(0, query.limit);
      const last = page[page.length - 1];
      res.json({
        deliveries: page.map(deliveryJson),
        next_cursor:
          rows.length > query.limit && last
            ? encodeCursor({ createdAt: last.created_at.toISOString(), id: last.id })
            : null,
      });
    }),
  );

  return router;
}
