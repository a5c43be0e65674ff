// The ingest service's HTTP app: partner webhooks under /webhooks/<partner>/<integrationId>, health.
// Each POST, in order: size limit → integration → signature → validation → inbox → lead → signal → answer.
import { isUuid } from '../../shared/ids';
import express, { type Express, type Request } from 'express';
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import type { Logger } from 'pino';
import { storable } from '../../data/inbox';
import {
  IntegrationCache,
  loadIntegrationSecrets,
  type IntegrationWithSecrets,
} from '../../data/integrations';
import { inboundAdapter } from '../../activities/partners';
import type { InboundAdapter, InboundEvent, InboundRequest } from '../../activities/partners/types';
import type { KeyRing } from '../../shared/crypto';
import { AppError } from '../../shared/errors';
import type { Gate } from '../../shared/gate';
import type { PolicyCache } from '../../data/policies';
import { errorHandler, mountHealth, notFoundHandler, route } from '../common/http';
import { receiveWebhook, type WebhookDeps } from '../../usecases/inbox';
import type { JourneyClient } from '../../usecases/journeys';
import type { SignalQueue } from '../../usecases/signalQueue';
import { webhookMetrics } from '../common/metrics';

export interface IngestDeps {
  pool: pg.Pool;
  temporal: Client;
  journeys: JourneyClient;
  logger: Logger;
  /** Opens integration secrets (LEADRELAY_ENCRYPTION_KEYS). */
  keyRing: KeyRing;
  /** Integrations with their secrets, kept until Postgres notifies a change; none: read per request. */
  integrations?: IntegrationCache;
  /** Journey policies, kept likewise: a lead's first journey starts with its context (usecases/inbox.ts). */
  policies?: PolicyCache;
  /** Admission to the database section, sized to the pool (main.ts); none: straight to the pool. */
  gate?: Gate;
  /** Signals in flight, each lead in order (main.ts); none: signalled inline. */
  signals?: SignalQueue;
  /** How long a webhook waits for its turn to signal before it is answered 202 (default 2 s). */
  signalWaitMs?: number;
  /** Public base URL of ingest (publicUrls(config).ingest): what Twilio and HubSpot sign. */
  publicUrl?: string;
  /** Largest accepted body (default 256 KB); larger answers 413. */
  bodyLimit?: string | number;
  /** How long a signal may take before the answer is 202 and the relay takes over (default 5 s). */
  signalTimeoutMs?: number;
}

export const DEFAULT_BODY_LIMIT = '256kb';

/** Headers never kept in the inbox. */
const UNSTORED_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);

export function createIngestApp(deps: IngestDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  mountHealth(app, deps, { service: 'ingest', inboxBacklog: true });
  const rawBody = express.raw({ type: () => true, limit: deps.bodyLimit ?? DEFAULT_BODY_LIMIT });
  const webhooks: WebhookDeps = deps;

  app.get(
    '/webhooks/:partner/:integrationId',
    route(async (req, res) => {
      const { adapter, integration } = await target(deps, req);
      if (!adapter.handshake) throw new AppError('not_found', `no route GET ${req.path}`);
      const challenge = adapter.handshake(inboundRequest(req, deps.publicUrl), secretsOf(integration));
      res.type('text/plain').send(challenge);
    }),
  );

  app.post(
    '/webhooks/:partner/:integrationId',
    webhookMetrics((partner) => inboundAdapter(partner) !== undefined),
    rawBody,
    route(async (req, res) => {
      const { adapter, integration } = await target(deps, req);
      const request = inboundRequest(req, deps.publicUrl);
      adapter.verify(request, secretsOf(integration));
      const events = adapter.parse(request, {
        integrationId: integration.id,
        workspaceId: integration.workspace_id,
        propertyId: integration.property_id ?? undefined,
        config: integration.config,
      });
      // In order: events of one webhook reach a lead's journey in the order the partner listed them.
      const results = await receiveWebhook(webhooks, {
        workspaceId: integration.workspace_id,
        integrationId: integration.id,
        partner: integration.partner,
        events: events.map((event) => storable(withIntegrationProperty(event, integration))),
        headers: storedHeaders(req),
        rawBody: request.rawBody,
      });

      const settled = results.every((r) => r.status === 'delivered' || r.status === 'ignored' || r.duplicate);
      res.locals.duplicate = results.length > 0 && results.every((r) => r.duplicate);
      res.status(settled ? 200 : 202);
      const reply = adapter.reply?.();
      if (reply) {
        res.type(reply.contentType).send(reply.body);
        return;
      }
      res.json({
        accepted: true,
        duplicate: results.length > 0 && results.every((r) => r.duplicate),
        lead_id: results.find((r) => r.lead_id)?.lead_id ?? null,
        status: results.length === 1 ? results[0]!.status : undefined,
        ...(results.length > 1 || results.length === 0 ? { events: results } : {}),
      });
    }),
  );

  app.use(notFoundHandler());
  app.use(errorHandler(deps.logger));
  return app;
}

/** The adapter and integration the URL names; 404 for an unknown partner, integration or a mismatch. */
async function target(
  deps: IngestDeps,
  req: Request,
): Promise<{ adapter: InboundAdapter; integration: IntegrationWithSecrets }> {
  const partner = String(req.params.partner);
  const integrationId = String(req.params.integrationId);
  const adapter = inboundAdapter(partner);
  const notFound = new AppError('not_found', `no webhook integration ${partner}/${integrationId}`);
  if (!adapter || !isUuid(integrationId)) throw notFound;
  const integration = deps.integrations
    ? await deps.integrations.get(integrationId)
    : await loadIntegrationSecrets(deps.pool, deps.keyRing, integrationId);
  if (!integration || integration.partner !== partner) throw notFound;
  return { adapter, integration };
}

function secretsOf(integration: IntegrationWithSecrets) {
  return {
    webhookSecret: integration.webhookSecret,
    credentials: integration.credentials,
    config: integration.config,
  };
}

function inboundRequest(req: Request, publicUrl: string | undefined): InboundRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.query)) if (typeof value === 'string') query[name] = value;
  const urls = new Set<string>();
  if (publicUrl) urls.add(`${publicUrl.replace(/\/+$/, '')}${req.originalUrl}`);
  const forwardedHost = headers['x-forwarded-host']?.split(',')[0]?.trim();
  const forwardedProto = headers['x-forwarded-proto']?.split(',')[0]?.trim();
  if (forwardedHost) urls.add(`${forwardedProto ?? req.protocol}://${forwardedHost}${req.originalUrl}`);
  if (headers.host) urls.add(`${req.protocol}://${headers.host}${req.originalUrl}`);
  return {
    method: req.method,
    rawBody: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
    headers,
    query,
    urls: [...urls],
    now: new Date(),
  };
}

function storedHeaders(req: Request): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || UNSTORED_HEADERS.has(name.toLowerCase())) continue;
    kept[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return kept;
}

/** An inquiry that names no property belongs to the integration's property, if it has one. */
function withIntegrationProperty(event: InboundEvent, integration: IntegrationWithSecrets): InboundEvent {
  const create = event.lead?.create;
  if (!create || create.propertyId || !integration.property_id) return event;
  return { ...event, lead: { ...event.lead, create: { ...create, propertyId: integration.property_id } } };
}
