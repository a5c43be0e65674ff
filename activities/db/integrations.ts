// Integrations in Postgres: a workspace's connection to a partner, its secrets sealed with the key ring.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { KeyRing } from '../../shared/crypto';
import type { PartnerName } from '../../shared/lifecycle';

export interface IntegrationRecord {
  id: string;
  workspace_id: string;
  partner: PartnerName;
  name: string;
  property_id: string | null;
  config: Record<string, unknown>;
  status: string;
  has_credentials: boolean;
  has_webhook_secret: boolean;
  last_sync_at: Date | null;
  last_error: string | null;
  created_at: Date;
  updated_at: Date;
}

/** An integration with its secrets opened: for the ingest path and partner adapters only, never for answers. */
export interface IntegrationWithSecrets extends IntegrationRecord {
  credentials: Record<string, string>;
  webhookSecret?: string;
}

const COLUMNS = `id, workspace_id, partner, name, property_id, config, status, last_sync_at, last_error, created_at,
  updated_at, credentials_encrypted IS NOT NULL AS has_credentials,
  webhook_secret_encrypted IS NOT NULL AS has_webhook_secret`;

const credentialsContext = (id: string) => `integration:${id}:credentials`;
const webhookSecretContext = (id: string) => `integration:${id}:webhook_secret`;

export async function createIntegration(
  pool: pg.Pool,
  keys: KeyRing,
  input: {
    workspaceId: string;
    partner: PartnerName;
    name: string;
    propertyId?: string;
    config: Record<string, unknown>;
    credentials?: Record<string, string>;
    webhookSecret?: string;
  },
): Promise<IntegrationRecord> {
  const id = randomUUID();
  const credentials =
    input.credentials && Object.keys(input.credentials).length > 0
      ? keys.seal(JSON.stringify(input.credentials), credentialsContext(id))
      : null;
  const secret = input.webhookSecret ? keys.seal(input.webhookSecret, webhookSecretContext(id)) : null;
  const { rows } = await pool.query<IntegrationRecord>(
    `INSERT INTO integrations (id, workspace_id, partner, name, property_id, config, credentials_encrypted,
                               webhook_secret_encrypted)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${COLUMNS}`,
    [
      id,
      input.workspaceId,
      input.partner,
      input.name,
      input.propertyId ?? null,
      JSON.stringify(input.config),
      credentials,
      secret,
    ],
  );
  return rows[0]!;
}

export async function listIntegrations(
  pool: pg.Pool,
  workspaceId: string,
  filter: { partner?: string } = {},
): Promise<IntegrationRecord[]> {
  const { rows } = await pool.query<IntegrationRecord>(
    `SELECT ${COLUMNS} FROM integrations
      WHERE workspace_id = $1 AND deleted_at IS NULL AND ($2::text IS NULL OR partner = $2)
      ORDER BY created_at, id`,
    [workspaceId, filter.partner ?? null],
  );
  return rows;
}

export async function getIntegration(
  pool: pg.Pool,
  workspaceId: string,
  id: string,
): Promise<IntegrationRecord | undefined> {
  const { rows } = await pool.query<IntegrationRecord>(
    `SELECT ${COLUMNS} FROM integrations WHERE workspace_id = $1 AND id = $2 AND deleted_at IS NULL`,
    [workspaceId, id],
  );
  return rows[0];
}

/** Soft delete: the row stays for the inbox events that reference it; its webhooks answer 404 from now on. */
export async function deleteIntegration(pool: pg.Pool, workspaceId: string, id: string): Promise<boolean> {
  const { rowCount } = await pool.query(
    `UPDATE integrations
        SET status = 'deleted', deleted_at = now(), updated_at = now(),
            credentials_encrypted = NULL, webhook_secret_encrypted = NULL
      WHERE workspace_id = $1 AND id = $2 AND deleted_at IS NULL`,
    [workspaceId, id],
  );
  return (rowCount ?? 0) > 0;
}

/** The integration a webhook names, secrets opened; undefined when it does not exist or was deleted. */
export async function loadIntegrationSecrets(
  pool: pg.Pool,
  keys: KeyRing,
  id: string,
): Promise<IntegrationWithSecrets | undefined> {
  const { rows } = await pool.query<
    IntegrationRecord & { credentials_encrypted: string | null; webhook_secret_encrypted: string | null }
  >(
    `SELECT ${COLUMNS}, credentials_encrypted, webhook_secret_encrypted
       FROM integrations WHERE id = $1 AND deleted_at IS NULL`,
    [id],
  );
  const row = rows[0];
  if (!row) return undefined;
  const { credentials_encrypted, webhook_secret_encrypted, ...record } = row;
  return {
    ...record,
    credentials: credentials_encrypted
      ? (JSON.parse(keys.open(credentials_encrypted, credentialsContext(row.id))) as Record<string, string>)
      : {},
    webhookSecret: webhook_secret_encrypted
      ? keys.open(webhook_secret_encrypted, webhookSecretContext(row.id))
      : undefined,
  };
}
