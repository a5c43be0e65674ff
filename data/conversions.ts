// Conversions in Postgres (seed 004): logging one exactly once, the contact's conversion state, queries.
import { createHash, randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { ConversionStatus, ConversionType } from '../shared/conversions';
import { AppError } from '../shared/errors';
import { idempotencyKey } from '../shared/ids';
import { withTransaction } from './pool';

export interface ConversionInput {
  workspaceId: string;
  leadId: string;
  conversionId?: string;
  idempotencyKey?: string;
  conversionType: ConversionType;
  value?: number;
  currency: string;
  convertedBy: string;
  convertedAt: string;
  customData: Record<string, unknown>;
  /** The request body as sent: a reused key or conversion_id with another body is refused. */
  request: unknown;
}

export interface ConversionRecord {
  id: string;
  workspace_id: string;
  lead_id: string;
  conversion_id: string | null;
  conversion_type: ConversionType;
  conversion_value: number | null;
  currency: string;
  converted_by: string;
  converted_at: Date;
  custom_data: Record<string, unknown>;
  property_id: string | null;
  created_at: Date;
}

const CONVERSION_COLUMNS = `id, workspace_id, lead_id, conversion_id, conversion_type, conversion_value, currency,
  converted_by, converted_at, custom_data, property_id, created_at`;

export function requestHash(request: unknown): string {
  return createHash('sha256').update(stableJson(request)).digest('hex');
}

/** JSON with object keys sorted, so the same body hashes the same whatever its key order. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * Logs a conversion once. With the same conversion_id or Idempotency-Key the first conversion is returned
 * (`created: false`); with another body, 409. In the same transaction: the lead's conversion state, the
 * workspace activity row and the `conversion.logged` outbox event, so each happens exactly once.
 */
export async function logConversion(
  pool: pg.Pool,
  input: ConversionInput,
): Promise<{ conversion: ConversionRecord; created: boolean }> {
  const hash = requestHash(input.request);
  const inserted = await withTransaction(pool, async (client) => {
    const { rows } = await client.query<ConversionRecord>(
      `INSERT INTO conversions (id, workspace_id, lead_id, conversion_id, idempotency_key, request_hash, conversion_type,
                                conversion_value, currency, converted_by, converted_at, custom_data, property_id)
       SELECT $1, $2, l.id, $4, $5, $6, $7, $8, $9, $10, $11, $12, l.property_id
         FROM leads l WHERE l.workspace_id = $2 AND l.id = $3
       ON CONFLICT DO NOTHING
       RETURNING ${CONVERSION_COLUMNS}`,
      [
        randomUUID(),
        input.workspaceId,
        input.leadId,
        input.conversionId ?? null,
        input.idempotencyKey ?? null,
        hash,
        input.conversionType,
        input.value ?? null,
        input.currency,
        input.convertedBy,
        input.convertedAt,
        JSON.stringify(input.customData),
      ],
    );
    const conversion = rows[0];
    if (!conversion) return undefined;
    await client.query(
      `UPDATE leads
          SET conversion_status = 'converted', conversion_count = conversion_count + 1,
              lifetime_value = lifetime_value + COALESCE($3, 0),
              converted_at = COALESCE(converted_at, $4), converted_by = $5, updated_at = now()
        WHERE workspace_id = $1 AND id = $2`,
      [input.workspaceId, input.leadId, input.value ?? null, input.convertedAt, input.convertedBy],
    );
    await client.query(
      `INSERT INTO workspace_activity (workspace_id, lead_id, action, metadata) VALUES ($1, $2, 'converted', $3)`,
      [
        input.workspaceId,
        input.leadId,
        JSON.stringify({
          conversion_id: conversion.id,
          conversion_type: conversion.conversion_type,
          conversion_value: conversion.conversion_value,
        }),
      ],
    );
    await client.query(
      `INSERT INTO outbox_events (idempotency_key, workspace_id, lead_id, event_type, data)
       VALUES ($1, $2, $3, 'conversion.logged', $4) ON CONFLICT (idempotency_key) DO NOTHING`,
      [
        idempotencyKey('conversion', conversion.id, 'conversion.logged'),
        input.workspaceId,
        input.leadId,
        JSON.stringify(conversionJson(conversion)),
      ],
    );
    return conversion;
  });
  if (inserted) return { conversion: inserted, created: true };

  // Nothing inserted: either the lead is not in this workspace, or this conversion was logged before.
  const { rows } = await pool.query<ConversionRecord & { request_hash: string }>(
    `SELECT ${CONVERSION_COLUMNS}, request_hash FROM conversions
      WHERE workspace_id = $1 AND ((conversion_id IS NOT NULL AND conversion_id = $2)
                                OR (idempotency_key IS NOT NULL AND idempotency_key = $3))
      ORDER BY created_at LIMIT 1`,
    [input.workspaceId, input.conversionId ?? null, input.idempotencyKey ?? null],
  );
  const existing = rows[0];
  if (!existing) throw new AppError('not_found', `contact ${input.leadId} not found`);
  if (existing.request_hash !== hash) {
    throw new AppError(
      'conflict',
      'this conversion_id or Idempotency-Key was already used for a different conversion',
      { conversion: existing.id },
    );
  }
  const { request_hash: _hash, ...conversion } = existing;
  return { conversion, created: false };
}

export function conversionJson(c: ConversionRecord) {
  return {
    id: c.id,
    conversion_id: c.conversion_id,
    contact_id: c.lead_id,
    lead_id: c.lead_id,
    workspace_id: c.workspace_id,
    property_id: c.property_id,
    conversion_type: c.conversion_type,
    conversion_value: c.conversion_value,
    currency: c.currency,
    converted_by: c.converted_by,
    converted_at: c.converted_at.toISOString(),
    custom_data: c.custom_data,
    created_at: c.created_at.toISOString(),
  };
}

export async function getConversion(
  pool: pg.Pool,
  workspaceId: string,
  id: string,
): Promise<ConversionRecord | undefined> {
  const { rows } = await pool.query<ConversionRecord>(
    `SELECT ${CONVERSION_COLUMNS} FROM conversions WHERE workspace_id = $1 AND id = $2`,
    [workspaceId, id],
  );
  return rows[0];
}

export interface ConversionFilter {
  leadId?: string;
  types?: ConversionType[];
  minValue?: number;
  maxValue?: number;
  from?: string;
  to?: string;
  propertyId?: string;
  limit: number;
  /** Keyset cursor: converted_at and id of the last row of the previous page. */
  cursor?: { convertedAt: string; id: string };
  /** false: no total (an export reads every page and needs none). */
  counts?: boolean;
}

/** Newest first, keyset-paged on (converted_at, id), with the total count of the filter. */
export async function listConversions(
  pool: pg.Pool,
  workspaceId: string,
  filter: ConversionFilter,
): Promise<{ rows: ConversionRecord[]; total: number }> {
  const where = ['workspace_id = $1'];
  const params: unknown[] = [workspaceId];
  const add = (sql: (n: string) => string, value: unknown) => {
    params.push(value);
    where.push(sql(`$${params.length}`));
  };
  if (filter.leadId) add((n) => `lead_id = ${n}`, filter.leadId);
  if (filter.types?.length) add((n) => `conversion_type = ANY(${n})`, filter.types);
  if (filter.minValue !== undefined) add((n) => `conversion_value >= ${n}`, filter.minValue);
  if (filter.maxValue !== undefined) add((n) => `conversion_value <= ${n}`, filter.maxValue);
  if (filter.from) add((n) => `converted_at >= ${n}`, filter.from);
  if (filter.to) add((n) => `converted_at < ${n}`, filter.to);
  if (filter.propertyId) add((n) => `property_id = ${n}`, filter.propertyId);
  const counted = [...params];
  const countWhere = where.join(' AND ');
  if (filter.cursor) {
    params.push(filter.cursor.convertedAt, filter.cursor.id);
    where.push(`(converted_at, id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
  }
  params.push(filter.limit);
  const [page, total] = await Promise.all([
    pool.query<ConversionRecord>(
      `SELECT ${CONVERSION_COLUMNS} FROM conversions WHERE ${where.join(' AND ')}
        ORDER BY converted_at DESC, id DESC LIMIT $${params.length}`,
      params,
    ),
    filter.counts === false
      ? { rows: [] as { n: number }[] }
      : pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM conversions WHERE ${countWhere}`, counted),
  ]);
  return { rows: page.rows, total: total.rows[0]?.n ?? 0 };
}

export interface ContactConversion {
  contact_id: string;
  workspace_id: string;
  conversion_status: ConversionStatus;
  converted_timestamp: string | null;
  converted_by: string | null;
  sent_from_workspace: string | null;
  converted_from_workspace: string | null;
  custom_metadata: Record<string, unknown>;
  lifetime_value: number;
  conversion_count: number;
  updated_at: string;
}

interface ContactRow {
  id: string;
  workspace_id: string;
  conversion_status: ConversionStatus;
  converted_at: Date | null;
  converted_by: string | null;
  sent_from_workspace: string | null;
  converted_from_workspace: string | null;
  custom_metadata: Record<string, unknown>;
  lifetime_value: number;
  conversion_count: number;
  updated_at: Date;
}

const CONTACT_COLUMNS = `id, workspace_id, conversion_status, converted_at, converted_by, sent_from_workspace,
  converted_from_workspace, custom_metadata, lifetime_value, conversion_count, updated_at`;

function contactJson(row: ContactRow): ContactConversion {
  return {
    contact_id: row.id,
    workspace_id: row.workspace_id,
    conversion_status: row.conversion_status,
    converted_timestamp: row.converted_at?.toISOString() ?? null,
    converted_by: row.converted_by,
    sent_from_workspace: row.sent_from_workspace,
    converted_from_workspace: row.converted_from_workspace,
    custom_metadata: row.custom_metadata,
    lifetime_value: row.lifetime_value,
    conversion_count: row.conversion_count,
    updated_at: row.updated_at.toISOString(),
  };
}

export async function getContactConversion(
  pool: pg.Pool,
  workspaceId: string,
  leadId: string,
): Promise<ContactConversion | undefined> {
  const { rows } = await pool.query<ContactRow>(
    `SELECT ${CONTACT_COLUMNS} FROM leads WHERE workspace_id = $1 AND id = $2`,
    [workspaceId, leadId],
  );
  return rows[0] ? contactJson(rows[0]) : undefined;
}

export interface ContactConversionPatch {
  conversionStatus?: ConversionStatus;
  convertedBy?: string;
  sentFromWorkspace?: string;
  convertedFromWorkspace?: string;
  /** Merged key by key into what is there (a key set to null is removed). */
  customMetadata?: Record<string, unknown>;
}

/** Seed 004 `PATCH /contacts/:id/conversion`: status, attribution labels and metadata, with an activity row. */
export async function updateContactConversion(
  pool: pg.Pool,
  workspaceId: string,
  leadId: string,
  patch: ContactConversionPatch,
): Promise<ContactConversion | undefined> {
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<ContactRow & { previous_status: ConversionStatus }>(
      `UPDATE leads l
          SET conversion_status = COALESCE($3, l.conversion_status),
              converted_by = COALESCE($4, l.converted_by),
              sent_from_workspace = COALESCE($5, l.sent_from_workspace),
              converted_from_workspace = COALESCE($6, l.converted_from_workspace),
              custom_metadata = jsonb_strip_nulls(l.custom_metadata || $7::jsonb),
              converted_at = CASE WHEN $3 = 'converted' THEN COALESCE(l.converted_at, now()) ELSE l.converted_at END,
              updated_at = now()
         FROM (SELECT id, conversion_status AS previous_status FROM leads WHERE workspace_id = $1 AND id = $2 FOR UPDATE) old
        WHERE l.id = old.id
        RETURNING ${CONTACT_COLUMNS.split(',')
          .map((c) => `l.${c.trim()}`)
          .join(', ')}, old.previous_status`,
      [
        workspaceId,
        leadId,
        patch.conversionStatus ?? null,
        patch.convertedBy ?? null,
        patch.sentFromWorkspace ?? null,
        patch.convertedFromWorkspace ?? null,
        JSON.stringify(patch.customMetadata ?? {}),
      ],
    );
    const row = rows[0];
    if (!row) return undefined;
    const changes = Object.fromEntries(
      Object.entries({
        conversion_status: patch.conversionStatus,
        previous_status: patch.conversionStatus ? row.previous_status : undefined,
        converted_by: patch.convertedBy,
        sent_from_workspace: patch.sentFromWorkspace,
        converted_from_workspace: patch.convertedFromWorkspace,
        custom_metadata_keys: patch.customMetadata ? Object.keys(patch.customMetadata) : undefined,
      }).filter(([, value]) => value !== undefined),
    );
    await client.query(
      `INSERT INTO workspace_activity (workspace_id, lead_id, action, metadata) VALUES ($1, $2, 'updated', $3)`,
      [workspaceId, leadId, JSON.stringify(changes)],
    );
    if (patch.sentFromWorkspace) {
      await client.query(
        `INSERT INTO workspace_activity (workspace_id, lead_id, action, metadata) VALUES ($1, $2, 'sent', $3)`,
        [workspaceId, leadId, JSON.stringify({ sent_from_workspace: patch.sentFromWorkspace })],
      );
    }
    const contact = contactJson(row);
    await client.query(
      `INSERT INTO outbox_events (idempotency_key, workspace_id, lead_id, event_type, data)
       VALUES ($1, $2, $3, 'contact.conversion_updated', $4)`,
      [
        idempotencyKey('contact', leadId, 'conversion_updated', randomUUID()),
        workspaceId,
        leadId,
        JSON.stringify({ ...contact, changes }),
      ],
    );
    return contact;
  });
}
