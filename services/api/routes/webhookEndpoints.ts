// /api/v1/webhook-endpoints (seed 002): register endpoints for event types, Standard Webhooks signing secrets
// (shown once, rotatable), a test event, and the per-attempt delivery log.
import type pg from 'pg';
import { z } from 'zod';
import { deleteEndpoint, deliveryJson, endpointJson, listEndpoints } from '../../../data/webhookEndpoints';
import type { KeyRing } from '../../../shared/crypto';
import { ALL_EVENTS, WEBHOOK_EVENT_TYPES } from '../../../shared/webhooks';
import {
  changeEndpoint,
  endpointDeliveries,
  findEndpoint,
  registerEndpoint,
  rotateEndpointSecret,
  sendTestEvent,
} from '../../../usecases/webhookEndpoints';
import { endpoint } from '../../common/endpoints';
import { principal } from '../auth';
import { byId, paged, readCursor, time, uuid } from '../schemas';

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
const CreateEndpointBody = z
  .object({
    name: z.string().min(1).max(200),
    url: endpointUrl,
    events: eventList,
    secret: signingSecret.optional(),
  })
  .strict();

const UpdateEndpointBody = z
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

const WebhookEndpoint = z
  .object({
    id: z.uuid(),
    workspace_id: z.string(),
    name: z.string(),
    url: z.string(),
    events: z.array(z.enum([...WEBHOOK_EVENT_TYPES, ALL_EVENTS])),
    status: z.enum(['active', 'disabled']),
    disabled_reason: z.string().nullable(),
    failing_since: time.nullable(),
    last_success_at: time.nullable(),
    last_failure_at: time.nullable(),
    previous_secret_expires_at: time
      .nullable()
      .meta({ description: 'after a rotation, the old secret also signs until then' }),
    created_at: time,
    updated_at: time,
  })
  .meta({ id: 'WebhookEndpoint' });
const WebhookEndpointWithSecret = WebhookEndpoint.extend({
  secret: z.string().meta({ description: 'whsec_… signing secret, shown once' }),
});

const WebhookDeliveries = z.object({
  deliveries: z.array(
    z.object({
      id: z.uuid(),
      message_id: z.uuid().meta({ description: 'also the webhook-id header, the same on every attempt' }),
      event_type: z.string(),
      lead_id: z.string().nullable(),
      attempt: z.number().int(),
      success: z.boolean(),
      status_code: z.number().int().nullable(),
      error: z.string().nullable(),
      response_body: z.string().nullable(),
      duration_ms: z.number().int(),
      next_attempt_at: time.nullable(),
      created_at: time,
    }),
  ),
  next_cursor: z.string().nullable(),
});

export function webhookEndpointEndpoints(deps: WebhookEndpointsDeps) {
  const { pool } = deps;

  return [
    endpoint({
      method: 'post',
      path: '/api/v1/webhook-endpoints',
      tag: 'webhooks',
      summary: 'Register an outbound webhook endpoint (seed 002)',
      description:
        'Deliveries are signed with Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`) using the endpoint’s secret, shown once here. Payload: `{ type, timestamp, data }`. Failed attempts retry after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h; a lead’s events arrive in order. An endpoint failing for 5 days is disabled and a staff task opened. `events` may be `*`.',
      permission: 'admin',
      body: CreateEndpointBody,
      responses: { 201: { description: 'registered', schema: WebhookEndpointWithSecret } },
      async handler({ body, req }) {
        const { endpoint: created, secret } = await registerEndpoint(pool, deps.keyRing, {
          ...body,
          workspaceId: principal(req).workspaceId,
        });
        // The secret is shown here, once; it is stored sealed and never read back through the API.
        return { ...endpointJson(created), secret };
      },
    }),
    endpoint({
      method: 'get',
      path: '/api/v1/webhook-endpoints',
      tag: 'webhooks',
      summary: 'List webhook endpoints and the event types',
      permission: 'read',
      responses: {
        200: {
          description: 'endpoints',
          schema: z.object({
            webhook_endpoints: z.array(WebhookEndpoint),
            event_types: z.array(z.string()),
          }),
        },
      },
      async handler({ req }) {
        const endpoints = await listEndpoints(pool, principal(req).workspaceId);
        return { webhook_endpoints: endpoints.map(endpointJson), event_types: WEBHOOK_EVENT_TYPES };
      },
    }),
    endpoint({
      method: 'get',
      path: '/api/v1/webhook-endpoints/:id',
      tag: 'webhooks',
      summary: 'Get a webhook endpoint',
      permission: 'read',
      responses: { 200: { description: 'the endpoint', schema: WebhookEndpoint } },
      handler: async ({ params, req }) =>
        endpointJson(await findEndpoint(pool, principal(req).workspaceId, params.id)),
    }),
    endpoint({
      method: 'patch',
      path: '/api/v1/webhook-endpoints/:id',
      tag: 'webhooks',
      summary: 'Change an endpoint; `enabled: true` re-enables a disabled one',
      permission: 'admin',
      body: UpdateEndpointBody,
      responses: { 200: { description: 'updated', schema: WebhookEndpoint } },
      async handler({ params, body, req }) {
        const updated = await byId(params.id, 'webhook endpoint', (id) =>
          changeEndpoint(pool, principal(req).workspaceId, id, body),
        );
        return endpointJson(updated);
      },
    }),
    endpoint({
      method: 'delete',
      path: '/api/v1/webhook-endpoints/:id',
      tag: 'webhooks',
      summary: 'Delete an endpoint (its queued messages are cancelled)',
      permission: 'admin',
      responses: { 204: { description: 'deleted' } },
      async handler({ params, req }) {
        await byId(params.id, 'webhook endpoint', (id) =>
          deleteEndpoint(pool, principal(req).workspaceId, id),
        );
      },
    }),
    endpoint({
      method: 'post',
      path: '/api/v1/webhook-endpoints/:id/rotate-secret',
      tag: 'webhooks',
      summary: 'Rotate the signing secret',
      description:
        'The new secret is shown once; for 24 hours deliveries carry signatures with both secrets.',
      permission: 'admin',
      body: z.object({ secret: signingSecret.optional() }).strict(),
      bodyOptional: true,
      responses: { 200: { description: 'rotated', schema: WebhookEndpointWithSecret } },
      async handler({ params, body, req }) {
        const { workspaceId } = principal(req);
        const rotated = await rotateEndpointSecret(pool, deps.keyRing, workspaceId, params.id, body.secret);
        return { ...endpointJson(rotated.endpoint), secret: rotated.secret };
      },
    }),
    endpoint({
      method: 'post',
      path: '/api/v1/webhook-endpoints/:id/test',
      tag: 'webhooks',
      summary: 'Send a webhook.test event to this endpoint',
      permission: 'update',
      responses: {
        202: {
          description: 'queued; see the deliveries',
          schema: z.object({ message_id: z.uuid(), event_type: z.literal('webhook.test') }),
        },
        409: { description: 'the endpoint is disabled' },
      },
      async handler({ params, req }) {
        const { messageId } = await sendTestEvent(pool, principal(req).workspaceId, params.id);
        return { message_id: messageId, event_type: 'webhook.test' };
      },
    }),
    endpoint({
      method: 'get',
      path: '/api/v1/webhook-endpoints/:id/deliveries',
      tag: 'webhooks',
      summary: 'Delivery log: one row per attempt',
      permission: 'read',
      query: z.object({
        success: z.enum(['true', 'false']).optional(),
        message_id: uuid.optional(),
        limit: z.coerce.number().int().min(1).max(500).default(50),
        cursor: z.string().max(500).optional(),
      }),
      responses: { 200: { description: 'attempts, newest first', schema: WebhookDeliveries } },
      async handler({ params, query, req }) {
        const rows = await endpointDeliveries(pool, principal(req).workspaceId, params.id, {
          success: query.success === undefined ? undefined : query.success === 'true',
          messageId: query.message_id,
          limit: query.limit + 1,
          cursor: readCursor(query.cursor, 'createdAt'),
        });
        const { page, next_cursor } = paged(rows, query.limit, (last) => ({
          createdAt: last.created_at.toISOString(),
          id: last.id,
        }));
        return { deliveries: page.map(deliveryJson), next_cursor };
      },
    }),
  ];
}
