// /api/v1/integrations: a workspace's partner connections. Secrets are sealed at rest and shown once, at
// creation; reads never carry secrets or credentials.
import { isUuid } from '../../../shared/ids';
import { randomBytes } from 'node:crypto';
import { Router } from 'express';
import type pg from 'pg';
import { z } from 'zod';
import {
  createIntegration,
  deleteIntegration,
  getIntegration,
  listIntegrations,
  type IntegrationRecord,
} from '../../../activities/db/integrations';
import { getProperty } from '../../../activities/db/workspaces';
import { partnerAdapter } from '../../../activities/partners';
import type { PartnerAdapter } from '../../../activities/partners/types';
import type { KeyRing } from '../../../shared/crypto';
import { AppError } from '../../../shared/errors';
import { PARTNERS } from '../../../shared/lifecycle';
import { parse, route } from '../../common/http';
import { principal, requirePermission } from '../auth';

export interface IntegrationsDeps {
  pool: pg.Pool;
  keyRing?: KeyRing;
  /** Public base URL of the ingest service, for webhook_url. */
  publicIngestUrl?: string;
}

const DEFAULT_INGEST_URL = 'http://localhost:8081';

export const CreateIntegrationBody = z
  .object({
    partner: z.enum(PARTNERS),
    name: z.string().min(1).max(200),
    property_id: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - only')
      .optional(),
    config: z.record(z.string().max(100), z.unknown()).default({}),
    credentials: z.record(z.string().max(100), z.string().max(10_000)).optional(),
  })
  .strict();

/** A Standard Webhooks secret: `whsec_` + base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** Validates the partner's config and credentials, naming fields as `config.x` / `credentials.y`. */
function checkPartnerFields(
  adapter: PartnerAdapter | undefined,
  body: z.output<typeof CreateIntegrationBody>,
): void {
  const fields: { field: string; message: string }[] = [];
  for (const [part, schema] of [
    ['config', adapter?.integration.config],
    ['credentials', adapter?.integration.credentials],
  ] as const) {
    if (!schema) continue;
    const result = schema.safeParse(part === 'config' ? body.config : (body.credentials ?? {}));
    if (!result.success) {
      for (const issue of result.error.issues) {
        fields.push({ field: [part, ...issue.path].join('.'), message: issue.message });
      }
    }
  }
  if (fields.length > 0) {
    throw new AppError(
      'validation_failed',
      `invalid body: ${[...new Set(fields.map((f) => f.field))].join(', ')}`,
      {
        fields,
      },
    );
  }
}

/** The webhook secret for a new integration, and whether to show it (only secrets we generated). */
function webhookSecretFor(
  adapter: PartnerAdapter | undefined,
  credentials: Record<string, string> | undefined,
): { secret?: string; show: boolean } {
  const policy = adapter?.integration.webhookSecret ?? { kind: 'none' };
  switch (policy.kind) {
    case 'generate':
      return { secret: generateWebhookSecret(), show: true };
    case 'credential': {
      const given = credentials?.[policy.field];
      if (given) return { secret: given, show: false };
      if (policy.generateIfMissing) return { secret: randomBytes(32).toString('base64url'), show: true };
      throw new AppError('validation_failed', `invalid body: credentials.${policy.field}`, {
        fields: [{ field: `credentials.${policy.field}`, message: 'required' }],
      });
    }
    case 'none':
      return { show: false };
  }
}

export function integrationJson(integration: IntegrationRecord, publicIngestUrl: string) {
  const adapter = partnerAdapter(integration.partner);
  return {
    id: integration.id,
    workspace_id: integration.workspace_id,
    partner: integration.partner,
    name: integration.name,
    property_id: integration.property_id,
    status: integration.status,
    config: integration.config,
    webhook_url: adapter?.inbound ? webhookUrl(publicIngestUrl, integration) : null,
    has_credentials: integration.has_credentials,
    has_webhook_secret: integration.has_webhook_secret,
    last_sync_at: integration.last_sync_at?.toISOString() ?? null,
    last_error: integration.last_error,
    created_at: integration.created_at.toISOString(),
    updated_at: integration.updated_at.toISOString(),
  };
}

export function webhookUrl(publicIngestUrl: string, integration: { partner: string; id: string }): string {
  return `${publicIngestUrl.replace(/\/+$/, '')}/webhooks/${integration.partner}/${integration.id}`;
}

export function integrationsRouter(deps: IntegrationsDeps): Router {
  const router = Router();
  const publicIngestUrl = deps.publicIngestUrl ?? DEFAULT_INGEST_URL;

  router.post(
    '/',
    requirePermission('admin'),
    route(async (req, res) => {
      const body = parse(CreateIntegrationBody, req.body);
      const { workspaceId } = principal(req);
      const adapter = partnerAdapter(body.partner);
      checkPartnerFields(adapter, body);
      if (body.property_id && !(await getProperty(deps.pool, workspaceId, body.property_id))) {
        throw new AppError(
          'validation_failed',
          `property ${body.property_id} does not exist in this workspace`,
          {
            fields: [{ field: 'property_id', message: 'unknown property' }],
          },
        );
      }
      if (!deps.keyRing) {
        throw new AppError('unavailable', 'LEADRELAY_ENCRYPTION_KEYS is not configured on this server');
      }
      const { secret, show } = webhookSecretFor(adapter, body.credentials);
      const integration = await createIntegration(deps.pool, deps.keyRing, {
        workspaceId,
        partner: body.partner,
        name: body.name,
        propertyId: body.property_id,
        config: body.config,
        credentials: body.credentials,
        webhookSecret: secret,
      });
      res.status(201).json({
        ...integrationJson(integration, publicIngestUrl),
        // Shown once: only secrets we generated. A secret the partner gave us (credentials) is never echoed.
        webhook_secret: show ? secret : null,
      });
    }),
  );

  router.get(
    '/',
    requirePermission('read'),
    route(async (req, res) => {
      const { partner } = parse(z.object({ partner: z.enum(PARTNERS).optional() }), req.query, 'query');
      const integrations = await listIntegrations(deps.pool, principal(req).workspaceId, { partner });
      res.json({ integrations: integrations.map((i) => integrationJson(i, publicIngestUrl)) });
    }),
  );

  router.get(
    '/:id',
    requirePermission('read'),
    route(async (req, res) => {
      const id = String(req.params.id);
      const integration = isUuid(id)
        ? await getIntegration(deps.pool, principal(req).workspaceId, id)
        : undefined;
      if (!integration) throw new AppError('not_found', `integration ${id} not found`);
      res.json(integrationJson(integration, publicIngestUrl));
    }),
  );

  router.delete(
    '/:id',
    requirePermission('admin'),
    route(async (req, res) => {
      const id = String(req.params.id);
      const deleted = isUuid(id) && (await deleteIntegration(deps.pool, principal(req).workspaceId, id));
      if (!deleted) throw new AppError('not_found', `integration ${id} not found`);
      res.status(204).end();
    }),
  );

  return router;
}
