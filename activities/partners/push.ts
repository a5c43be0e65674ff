// Pushing one status change to one partner: the `pushStatusToPartner` activity behind every `push_partner`
// effect. The sync row (written pending with the decision) records the outcome; retryable partner errors go
// back to Temporal with the partner's Retry-After, final ones are recorded and open a staff task.
import { ApplicationFailure } from '@temporalio/activity';
import type pg from 'pg';
import type { KeyRing } from '../../shared/crypto';
import { idempotencyKey } from '../../shared/ids';
import type { LeadStatus, PartnerName } from '../../shared/lifecycle';
import { loadIntegrationSecrets } from '../../data/integrations';
import { withTransaction } from '../../data/pool';
import { sameStage } from './adConversions';
import { PartnerError } from './http';
import { partnerAdapter } from './index';
import { partnerConnection } from './connection';
import type { PartnerLead, PushResult } from './types';

export interface PushDeps {
  pool: pg.Pool;
  keyRing?: KeyRing;
  fetch?: typeof fetch;
  /** Per-request timeout towards partners (ms). */
  partnerTimeoutMs?: number;
  /** Called once per finished push (metrics). */
  onOutcome?: (partner: PartnerName, outcome: SyncOutcome) => void;
}

export type SyncOutcome = 'success' | 'failed' | 'conflict' | 'skipped';

export interface PushArgs {
  workspaceId: string;
  leadId: string;
  /** The sync row's idempotency key (the `push_partner` effect's key). */
  syncKey: string;
}

export interface PushAnswer {
  outcome: SyncOutcome | 'pending';
  detail?: string;
}

interface SyncRow {
  id: string;
  partner: PartnerName;
  status: LeadStatus;
  partner_value: string | null;
  causation_id: string;
  origin: string | null;
  outcome: string;
  attempts: number;
  created_at: Date;
}

interface LeadRow {
  id: string;
  property_id: string | null;
  first_name: string | null;
  last_name: string | null;
  email: string | null;
  phone: string | null;
  message: string | null;
  source: string;
  created_at: Date;
  status_reason: string | null;
  custom_data: Record<string, unknown>;
  external_ids: Record<string, string>;
  conversion_value: number | null;
}

export async function pushStatusToPartner(deps: PushDeps, args: PushArgs): Promise<PushAnswer> {
  const sync = await loadSync(deps.pool, args);
  if (!sync) {
    throw ApplicationFailure.create({
      type: 'sync_not_found',
      message: `no partner sync ${args.syncKey} for lead ${args.leadId}`,
      nonRetryable: true,
    });
  }
  // A retried or replayed activity whose push already finished does nothing twice.
  if (sync.outcome !== 'pending') return { outcome: sync.outcome as SyncOutcome };

  const adapter = partnerAdapter(sync.partner);
  const lead = await loadLead(deps.pool, args, sync.causation_id);
  const integration = lead
    ? await findIntegration(deps, args.workspaceId, sync.partner, lead.property_id)
    : undefined;
  if (!adapter?.outbound)
    return finish(deps, sync, args, { outcome: 'skipped', detail: 'partner takes no pushes' });
  if (!lead) return finish(deps, sync, args, { outcome: 'skipped', detail: 'lead no longer exists' });
  if (!integration) {
    return finish(deps, sync, args, {
      outcome: 'skipped',
      detail: `no active ${sync.partner} integration with credentials for this lead's property`,
    });
  }

  const external = await deps.pool.query<{ external_id: string; created_by_us: boolean }>(
    `SELECT external_id, created_by_us FROM lead_external_ids
      WHERE workspace_id = $1 AND lead_id = $2 AND partner = $3
      ORDER BY created_by_us DESC, created_at LIMIT 1`,
    [args.workspaceId, args.leadId, sync.partner],
  );
  const partnerLead: PartnerLead = {
    leadId: lead.id,
    firstName: lead.first_name ?? undefined,
    lastName: lead.last_name ?? undefined,
    email: lead.email ?? undefined,
    phone: lead.phone ?? undefined,
    message: lead.message ?? undefined,
    source: lead.source,
    propertyId: lead.property_id ?? undefined,
    createdAt: lead.created_at.toISOString(),
    externalId: external.rows[0]?.external_id,
    createdByUs: external.rows[0]?.created_by_us ?? false,
    externalIds: lead.external_ids,
    customData: lead.custom_data,
    ...(lead.conversion_value !== null ? { conversionValue: lead.conversion_value } : {}),
  };
  // Conversions to ad platforms go once per lead and stage, whatever journey or event reaches it again.
  if (adapter.outbound.oncePerStage) {
    const sent = await earlierSuccess(deps.pool, sync, args);
    if (sent) {
      return finish(deps, sync, args, {
        outcome: 'skipped',
        detail: `already sent for this lead (sync ${sent})`,
      });
    }
  }
  let result: PushResult;
  try {
    // Inside the try: credentials given for another destination fail the push for good, with the reason.
    result = await adapter.outbound.pushStatus(partnerConnection(integration, adapter, deps), {
      lead: partnerLead,
      status: sync.status,
      // Empty when the partner has no default word: the adapter maps it from config or answers skipped.
      value: sync.partner_value ?? '',
      reason: lead.status_reason ?? undefined,
      occurredAt: sync.created_at.toISOString(),
      origin: sync.origin ?? 'system',
      causationId: sync.causation_id,
      idempotencyKey: args.syncKey,
    });
  } catch (error) {
    if (!(error instanceof PartnerError)) throw error;
    if (error.kind === 'retryable') {
      await deps.pool.query(
        `UPDATE partner_syncs SET attempts = attempts + 1, response_code = $2, error = $3, updated_at = now(),
                integration_id = $4
          WHERE id = $1`,
        [sync.id, error.status ?? null, error.message, integration.id],
      );
      throw ApplicationFailure.create({
        type: 'partner_unavailable',
        message: error.message,
        // The partner said when to come back; without that the activity's backoff decides.
        nextRetryDelay: error.details.retryAfterMs,
      });
    }
    return finish(
      deps,
      sync,
      args,
      { outcome: 'failed', code: error.status, detail: error.message },
      integration.id,
    );
  }

  switch (result.outcome) {
    case 'success':
      return finish(
        deps,
        sync,
        args,
        {
          outcome: 'success',
          code: result.code,
          externalId: result.externalId,
          createdRecord: result.createdRecord,
          readBack: result.readBack,
          response: result.response,
        },
        integration.id,
      );
    case 'not_applied':
      return finish(
        deps,
        sync,
        args,
        {
          outcome: 'failed',
          code: result.code,
          externalId: result.externalId,
          detail: `${sync.partner} accepted the write but did not apply it: ${result.detail}`,
          task: 'partner_write_not_applied',
        },
        integration.id,
      );
    case 'conflict':
      return finish(
        deps,
        sync,
        args,
        { outcome: 'conflict', code: result.code, externalId: result.externalId, detail: result.detail },
        integration.id,
      );
    case 'skipped':
      return finish(deps, sync, args, { outcome: 'skipped', detail: result.detail }, integration.id);
  }
}

/**
 * The push could not finish after all retries (the partner was down past the activity's schedule-to-close):
 * recorded as failed with a staff task, like a final error.
 */
export async function abandonPartnerSync(deps: PushDeps, args: PushArgs & { error: string }): Promise<void> {
  const sync = await loadSync(deps.pool, args);
  if (!sync || sync.outcome !== 'pending') return;
  await finish(deps, sync, args, { outcome: 'failed', detail: `gave up: ${args.error}` });
}

interface Finish {
  outcome: SyncOutcome;
  code?: number;
  detail?: string;
  externalId?: string;
  createdRecord?: boolean;
  readBack?: 'confirmed' | 'not_supported';
  response?: Record<string, unknown>;
  /** The staff task kind; failed and conflict outcomes open one by default. */
  task?: string;
}

async function finish(
  deps: PushDeps,
  sync: SyncRow,
  args: PushArgs,
  result: Finish,
  integrationId?: string,
): Promise<PushAnswer> {
  const task =
    result.task ??
    (result.outcome === 'failed'
      ? 'partner_sync_failed'
      : result.outcome === 'conflict'
        ? 'partner_sync_conflict'
        : undefined);
  const finished = await withTransaction(deps.pool, async (client) => {
    const updated = await client.query(
      `UPDATE partner_syncs
          SET outcome = $2, response_code = COALESCE($3, response_code), error = $4, external_id = $5,
              read_back = $6, integration_id = COALESCE($7, integration_id), attempts = attempts + 1,
              response = COALESCE($8, response), finished_at = now(), updated_at = now()
        WHERE id = $1 AND outcome = 'pending'`,
      [
        sync.id,
        result.outcome,
        result.code ?? null,
        result.outcome === 'success' ? null : (result.detail ?? null),
        result.externalId ?? null,
        result.readBack ?? null,
        integrationId ?? null,
        result.response ? JSON.stringify(result.response) : null,
      ],
    );
    if ((updated.rowCount ?? 0) === 0) return false;
    if (result.externalId) {
      // The partner's id of this lead: later pushes update that record instead of creating another.
      await client.query(
        `INSERT INTO lead_external_ids (workspace_id, partner, external_id, lead_id, created_by_us)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (workspace_id, partner, external_id) DO NOTHING`,
        [args.workspaceId, sync.partner, result.externalId, args.leadId, result.createdRecord === true],
      );
    }
    if (integrationId) {
      await client.query(
        `UPDATE integrations SET last_sync_at = now(), last_error = $2, updated_at = now() WHERE id = $1`,
        [integrationId, result.outcome === 'failed' ? (result.detail ?? 'failed') : null],
      );
    }
    if (task) {
      await client.query(
        `INSERT INTO staff_tasks (idempotency_key, workspace_id, lead_id, kind, details)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (idempotency_key) DO NOTHING`,
        [
          idempotencyKey(args.syncKey, 'task', task),
          args.workspaceId,
          args.leadId,
          task,
          JSON.stringify({
            partner: sync.partner,
            status: sync.status,
            partner_value: sync.partner_value,
            response_code: result.code ?? null,
            error: result.detail ?? null,
            sync_id: sync.id,
            causation_id: sync.causation_id,
          }),
        ],
      );
    }
    return true;
  });
  if (finished) deps.onOutcome?.(sync.partner, result.outcome);
  return { outcome: result.outcome, detail: result.detail };
}

async function loadSync(pool: pg.Pool, args: PushArgs): Promise<SyncRow | undefined> {
  const { rows } = await pool.query<SyncRow>(
    `SELECT id, partner, status, partner_value, causation_id, origin, outcome, attempts, created_at
       FROM partner_syncs WHERE idempotency_key = $1 AND workspace_id = $2 AND lead_id = $3`,
    [args.syncKey, args.workspaceId, args.leadId],
  );
  return rows[0];
}

async function loadLead(pool: pg.Pool, args: PushArgs, causationId: string): Promise<LeadRow | undefined> {
  const { rows } = await pool.query<LeadRow>(
    `SELECT l.id, l.property_id, l.first_name, l.last_name, l.email, l.phone, l.message, l.source, l.created_at,
            l.custom_data,
            (SELECT h.reason FROM status_history h
              WHERE h.lead_id = l.id AND h.event_id = $3 AND h.entry_type = 'applied' LIMIT 1) AS status_reason,
            COALESCE((SELECT jsonb_object_agg(x.partner, x.external_id) FROM lead_external_ids x WHERE x.lead_id = l.id),
                     '{}'::jsonb) AS external_ids,
            (SELECT c.conversion_value FROM conversions c
              WHERE c.lead_id = l.id AND c.conversion_value IS NOT NULL
              ORDER BY c.converted_at DESC, c.created_at DESC LIMIT 1) AS conversion_value
       FROM leads l WHERE l.workspace_id = $1 AND l.id = $2`,
    [args.workspaceId, args.leadId, causationId],
  );
  return rows[0];
}

/** A push of the same stage to this partner that already succeeded for the lead (its id), if any. */
async function earlierSuccess(pool: pg.Pool, sync: SyncRow, args: PushArgs): Promise<string | undefined> {
  const { rows } = await pool.query<{ id: string }>(
    `SELECT id FROM partner_syncs
      WHERE workspace_id = $1 AND lead_id = $2 AND partner = $3 AND status = ANY($4) AND outcome = 'success'
        AND id <> $5
      ORDER BY created_at LIMIT 1`,
    [args.workspaceId, args.leadId, sync.partner, sameStage(sync.status), sync.id],
  );
  return rows[0]?.id;
}

/** The integration a lead's pushes to a partner go to: its property's, else the workspace-wide one. */
async function findIntegration(
  deps: PushDeps,
  workspaceId: string,
  partner: PartnerName,
  propertyId: string | null,
) {
  const { rows } = await deps.pool.query<{ id: string }>(
    `SELECT id FROM integrations
      WHERE workspace_id = $1 AND partner = $2 AND status IN ('active', 'error') AND deleted_at IS NULL
        AND (property_id IS NULL OR property_id = $3)
        AND credentials_encrypted IS NOT NULL AND COALESCE(config->>'push_status', 'true') <> 'false'
      ORDER BY (property_id IS NOT NULL) DESC, created_at LIMIT 1`,
    [workspaceId, partner, propertyId],
  );
  const id = rows[0]?.id;
  if (!id) return undefined;
  if (!deps.keyRing) throw new Error('LEADRELAY_ENCRYPTION_KEYS is required to open partner credentials');
  return loadIntegrationSecrets(deps.pool, deps.keyRing, id);
}
