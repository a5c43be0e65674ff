// Outbound webhook endpoints as a workspace manages them: signing secrets made when none is given (shown once),
// a test event to an active endpoint, and an endpoint's log of delivery attempts.
import type pg from 'pg';
import {
  createEndpoint,
  generateSigningSecret,
  getEndpoint,
  listDeliveries,
  queueTestMessage,
  rotateSecret,
  updateEndpoint,
  type EndpointRecord,
} from '../data/webhookEndpoints';
import { requireKeyRing, type KeyRing } from '../shared/crypto';
import { requireEgressUrl } from '../shared/egress';
import { AppError } from '../shared/errors';
import { isUuid } from '../shared/ids';

export async function findEndpoint(pool: pg.Pool, workspaceId: string, id: string): Promise<EndpointRecord> {
  const endpoint = isUuid(id) ? await getEndpoint(pool, workspaceId, id) : undefined;
  if (!endpoint) throw new AppError('not_found', `webhook endpoint ${id} not found`);
  return endpoint;
}

export async function registerEndpoint(
  pool: pg.Pool,
  keyRing: KeyRing | undefined,
  input: { workspaceId: string; name: string; url: string; events: string[]; secret?: string },
): Promise<{ endpoint: EndpointRecord; secret: string }> {
  requireEgressUrl('url', input.url);
  const secret = input.secret ?? generateSigningSecret();
  return { endpoint: await createEndpoint(pool, requireKeyRing(keyRing), { ...input, secret }), secret };
}

/** Changes an endpoint; a new URL must point where requests may go, like a new endpoint's. */
export async function changeEndpoint(
  pool: pg.Pool,
  workspaceId: string,
  id: string,
  patch: Parameters<typeof updateEndpoint>[3],
): Promise<EndpointRecord | undefined> {
  requireEgressUrl('url', patch.url);
  return updateEndpoint(pool, workspaceId, id, patch);
}

export async function rotateEndpointSecret(
  pool: pg.Pool,
  keyRing: KeyRing | undefined,
  workspaceId: string,
  id: string,
  given?: string,
): Promise<{ endpoint: EndpointRecord; secret: string }> {
  const current = await findEndpoint(pool, workspaceId, id);
  const secret = given ?? generateSigningSecret();
  const rotated = await rotateSecret(pool, requireKeyRing(keyRing), workspaceId, current.id, secret);
  if (!rotated) throw new AppError('not_found', `webhook endpoint ${id} not found`);
  return { endpoint: rotated, secret };
}

/** A `webhook.test` event for this endpoint alone; a disabled endpoint takes none until it is enabled. */
export async function sendTestEvent(pool: pg.Pool, workspaceId: string, id: string) {
  const endpoint = await findEndpoint(pool, workspaceId, id);
  if (endpoint.status !== 'active') {
    throw new AppError('conflict', 'this endpoint is disabled; enable it first', {
      status: endpoint.status,
      disabled_reason: endpoint.disabled_reason,
    });
  }
  return queueTestMessage(pool, endpoint);
}

export async function endpointDeliveries(
  pool: pg.Pool,
  workspaceId: string,
  id: string,
  filter: Parameters<typeof listDeliveries>[2],
) {
  const endpoint = await findEndpoint(pool, workspaceId, id);
  return listDeliveries(pool, endpoint.id, filter);
}
