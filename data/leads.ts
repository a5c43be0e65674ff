// Leads in Postgres: create-or-match one person per workspace, reads, search, status history, email opt-out.
import type pg from 'pg';
import { normalizeContact } from '../shared/contact';
import { AppError } from '../shared/errors';
import { TERMINAL_STATUSES } from '../shared/lifecycle';
import type { LivePolicyRow } from './policies';

export interface LeadInput {
  workspaceId: string;
  propertyId?: string;
  source: string;
  firstName?: string;
  lastName?: string;
  email?: string;
  phone?: string;
  message?: string;
  externalIds?: Record<string, string>;
  customData?: Record<string, unknown>;
}

export interface LeadRecord {
  id: string;
  workspace_id: string;
  property_id: string | null;
  status: string;
  source: string;
  sources: string[];
  first_name: string | null;
  last_name: string | null;
  email: string | null;
  phone: string | null;
  phone_e164: string | null;
  message: string | null;
  custom_data: Record<string, unknown>;
  external_ids: Record<string, string>;
  journey: number;
  /** Last history seq of the journey applied to this projection. */
  projection_seq: number;
  status_changed_at: Date;
  next_follow_up_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const LEAD_COLUMNS = `l.id, l.workspace_id, l.property_id, l.status, l.source, l.sources, l.first_name, l.last_name,
  l.email, l.phone, l.phone_e164, l.message, l.custom_data, l.journey, l.projection_seq, l.status_changed_at,
  l.next_follow_up_at,
  l.created_at, l.updated_at,
  COALESCE((SELECT jsonb_object_agg(x.partner, x.external_id) FROM lead_external_ids x WHERE x.lead_id = l.id), '{}'::jsonb)
    AS external_ids`;

/** An inquiry's person as leadrelay_create_or_match_lead takes it: identities normalized here (E.164 needs libphonenumber). */
export function preparedLead(input: Omit<LeadInput, 'workspaceId'>): Record<string, unknown> {
  // Whatever door it came in by: trimmed, and matched by its keys (lower-case email, E.164 phone).
  const contact = normalizeContact(input);
  return {
    property_id: input.propertyId ?? null,
    source: input.source,
    first_name: input.firstName ?? null,
    last_name: input.lastName ?? null,
    email: contact.email ?? null,
    email_normalized: contact.emailKey ?? null,
    phone: contact.phone ?? null,
    phone_e164: contact.phoneE164 ?? null,
    message: input.message ?? null,
    custom_data: input.customData ?? {},
    external_ids: input.externalIds ?? {},
  };
}

/**
 * The lead this inquiry belongs to: matched by partner external id, then normalized email, then E.164
 * phone, within the workspace; created when none matches. One round trip: leadrelay_create_or_match_lead,
 * which serializes concurrent calls for one person by advisory locks on each identity (the ingest inbox
 * calls the same function, so both doors match alike). A property the workspace does not have is a 400.
 */
export async function createOrMatchLead(
  pool: pg.Pool,
  input: LeadInput,
  /** Read the live policy too when the inquiry's signal starts a run (a new lead, or one whose journey ended). */
  options: { live?: boolean } = {},
): Promise<{ lead: LeadRecord; matched: boolean; live?: LivePolicyRow }> {
  const { rows } = await pool.query<
    LeadRecord & { outcome: 'created' | 'matched' | 'unknown_property'; live?: LivePolicyRow | null }
  >(
    options.live
      ? `SELECT c.*, CASE WHEN c.outcome = 'created' OR c.status = ANY($3)
                          THEN leadrelay_live_policy($1, c.property_id) END AS live
           FROM leadrelay_create_or_match_lead($1, $2) c`
      : 'SELECT * FROM leadrelay_create_or_match_lead($1, $2)',
    [
      input.workspaceId,
      JSON.stringify(preparedLead(input)),
      ...(options.live ? [[...TERMINAL_STATUSES]] : []),
    ],
  );
  const { outcome, live, ...lead } = rows[0]!;
  if (outcome === 'unknown_property') {
    throw new AppError('validation_failed', `property ${input.propertyId} does not exist in this workspace`, {
      fields: [{ field: 'property_id', message: 'unknown property' }],
    });
  }
  return { lead, matched: outcome === 'matched', ...(live ? { live } : {}) };
}

export async function getLead(
  pool: pg.Pool,
  workspaceId: string,
  leadId: string,
): Promise<LeadRecord | undefined> {
  const { rows } = await pool.query<LeadRecord>(
    `SELECT ${LEAD_COLUMNS} FROM leads l WHERE l.workspace_id = $1 AND l.id = $2`,
    [workspaceId, leadId],
  );
  return rows[0];
}

export interface LeadFilter {
  /** These leads only (the dashboard names the leads of its live feed in one request). */
  ids?: string[];
  status?: string[];
  source?: string;
  propertyId?: string;
  createdFrom?: string;
  createdTo?: string;
  q?: string;
  limit: number;
  /** Opaque cursor from a previous page: created_at and id of its last row. */
  cursor?: { createdAt: string; id: string };
}

/** Newest first, keyset-paged on (created_at, id). */
export async function listLeads(
  pool: pg.Pool,
  workspaceId: string,
  filter: LeadFilter,
): Promise<LeadRecord[]> {
  const where = ['l.workspace_id = $1'];
  const params: unknown[] = [workspaceId];
  const add = (sql: (n: string) => string, value: unknown) => {
    params.push(value);
    where.push(sql(`$${params.length}`));
  };
  if (filter.ids) add((n) => `l.id = ANY(${n}::uuid[])`, filter.ids);
  if (filter.status?.length) add((n) => `l.status = ANY(${n})`, filter.status);
  if (filter.source) add((n) => `(l.source = ${n} OR ${n} = ANY(l.sources))`, filter.source);
  if (filter.propertyId) add((n) => `l.property_id = ${n}`, filter.propertyId);
  if (filter.createdFrom) add((n) => `l.created_at >= ${n}`, filter.createdFrom);
  if (filter.createdTo) add((n) => `l.created_at <= ${n}`, filter.createdTo);
  if (filter.q) {
    add(
      (n) =>
        `(l.first_name ILIKE ${n} OR l.last_name ILIKE ${n} OR l.email ILIKE ${n} OR l.phone ILIKE ${n} OR l.message ILIKE ${n})`,
      `%${filter.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`,
    );
  }
  if (filter.cursor) {
    params.push(filter.cursor.createdAt, filter.cursor.id);
    where.push(`(l.created_at, l.id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
  }
  params.push(filter.limit);
  const { rows } = await pool.query<LeadRecord>(
    `SELECT ${LEAD_COLUMNS} FROM leads l WHERE ${where.join(' AND ')}
      ORDER BY l.created_at DESC, l.id DESC LIMIT $${params.length}`,
    params,
  );
  return rows;
}

export interface HistoryRow {
  id: string;
  entry_type: string;
  journey: number;
  seq: number | null;
  old_status: string | null;
  new_status: string;
  status_reason: string | null;
  updated_by: string;
  actor: string | null;
  direction: string;
  context_data: Record<string, unknown>;
  event_id: string | null;
  created_at: Date;
}

export async function statusHistory(
  pool: pg.Pool,
  workspaceId: string,
  leadId: string,
  filter: { dateFrom?: string; dateTo?: string; limit: number; types: string[] },
): Promise<{ rows: HistoryRow[]; total: number }> {
  const params: unknown[] = [workspaceId, leadId, filter.types];
  const where = ['workspace_id = $1', 'lead_id = $2', 'entry_type = ANY($3)'];
  if (filter.dateFrom) {
    params.push(filter.dateFrom);
    where.push(`created_at >= $${params.length}`);
  }
  if (filter.dateTo) {
    params.push(filter.dateTo);
    where.push(`created_at <= $${params.length}`);
  }
  const total = await pool.query<{ count: number }>(
    `SELECT count(*)::int AS count FROM status_history WHERE ${where.join(' AND ')}`,
    params,
  );
  params.push(filter.limit);
  const { rows } = await pool.query<HistoryRow>(
    `SELECT id, entry_type, journey, seq, old_status, new_status, reason AS status_reason, source AS updated_by, actor,
            direction, context AS context_data, event_id, created_at
       FROM status_history WHERE ${where.join(' AND ')}
      ORDER BY created_at, journey, seq NULLS LAST, id
      LIMIT $${params.length}`,
    params,
  );
  return { rows, total: total.rows[0]?.count ?? 0 };
}

/** A staff change the lifecycle refused: kept in the audit log, nowhere in the journey. */
export async function recordRefusedAttempt(
  pool: pg.Pool,
  args: {
    workspaceId: string;
    leadId: string;
    key: string;
    fromStatus: string;
    toStatus: string;
    source: string;
    actor?: string;
    reason?: string;
    context: Record<string, unknown>;
  },
): Promise<void> {
  await pool.query(
    `INSERT INTO status_history (idempotency_key, workspace_id, lead_id, journey, seq, entry_type, old_status, new_status,
                                 reason, source, actor, direction, context)
     SELECT $1, workspace_id, id, journey, NULL, 'refused', $4, $5, $6, $7, $8, 'inbound', $9
       FROM leads WHERE workspace_id = $2 AND id = $3
     ON CONFLICT (idempotency_key) DO NOTHING`,
    [
      args.key,
      args.workspaceId,
      args.leadId,
      args.fromStatus,
      args.toStatus,
      args.reason ?? null,
      args.source,
      args.actor ?? null,
      JSON.stringify(args.context),
    ],
  );
}

/** Opts the lead out of prospect email (its unsubscribe link); repeating it changes nothing. */
export async function optOutOfEmail(
  pool: pg.Pool,
  lead: { workspaceId: string; leadId: string },
): Promise<boolean> {
  const { rowCount } = await pool.query(
    'UPDATE leads SET email_opted_out_at = COALESCE(email_opted_out_at, now()) WHERE workspace_id = $1 AND id = $2',
    [lead.workspaceId, lead.leadId],
  );
  return (rowCount ?? 0) > 0;
}
