// The one way an activity turns a stored integration into a connection for its partner adapter: opened
// credentials, the config as the adapter's schema reads it, and the worker's HTTP settings.
import type pg from 'pg';
import { rotateCredentials, type IntegrationWithSecrets } from '../../data/integrations';
import type { KeyRing } from '../../shared/crypto';
import { PartnerError } from './http';
import type { PartnerAdapter, PartnerConnection } from './types';

export interface ConnectionDeps {
  fetch?: typeof fetch;
  partnerTimeoutMs?: number;
  /** Where rotated credentials are kept (GoHighLevel's refresh tokens), sealed with the key ring. */
  pool?: pg.Pool;
  keyRing?: KeyRing;
}

/**
 * Throws a final PartnerError (`credentials_unbound`) when the stored credentials were given for another
 * destination than the config names (data/integrations.ts): nothing is sent, staff read what to do.
 */
export function partnerConnection(
  integration: IntegrationWithSecrets,
  adapter: PartnerAdapter | undefined,
  deps: ConnectionDeps,
): PartnerConnection {
  if (integration.credentialsRefused) {
    throw new PartnerError(integration.partner, 'final', integration.credentialsRefused, {
      partnerCode: 'credentials_unbound',
    });
  }
  return {
    integrationId: integration.id,
    workspaceId: integration.workspace_id,
    propertyId: integration.property_id ?? undefined,
    config: validatedConfig(adapter?.integration.config, integration.config),
    credentials: integration.credentials,
    timeoutMs: deps.partnerTimeoutMs,
    fetch: deps.fetch,
    ...(deps.pool && deps.keyRing
      ? { credentialStore: credentialStore(deps.pool, deps.keyRing, integration.id) }
      : {}),
  };
}

function credentialStore(pool: pg.Pool, keyRing: KeyRing, integrationId: string) {
  return {
    rotate: (update: Parameters<typeof rotateCredentials>[3]) =>
      rotateCredentials(pool, keyRing, integrationId, update),
  };
}

/** The config as the adapter's schema reads it (defaults filled in); as stored when it no longer validates. */
function validatedConfig(
  schema: { safeParse(value: unknown): { success: boolean; data?: unknown } } | undefined,
  config: Record<string, unknown>,
): Record<string, unknown> {
  if (!schema) return config;
  const parsed = schema.safeParse(config);
  return parsed.success ? (parsed.data as Record<string, unknown>) : config;
}
