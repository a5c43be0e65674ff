// The ingest inbox in Postgres: every verified partner event stored once (unique per integration and partner
// event id), the rows kept beside it (calls, SMS deliveries), lead lookups, delivery bookkeeping for the
// relay, and the operators' list.
import { isUuid } from '../shared/ids';
import type pg from 'pg';
import type { InboundEvent, LeadLookup } from '../shared/inbound';
import { normalizeEmail, toE164 } from '../shared/contact';
import { withTransaction } from './pool';

export const INBOX_STATUSES = ['pending', 'delivered', 'unmatched', 'ignored', 'failed'] as const;
export type InboxStatus = (typeof INBOX_STATUSES)[number];

export interface InboxRow {
  id: string;
  workspace_id: string;
  integration_id: string;
  partner: string;
  partner_event_id: string;
  event_type: string;
  status: InboxStatus;
  normalized: InboundEvent;
  lead_id: string | null;
  attempts: number;
  last_error: string | null;
  received_at: Date;
  next_attempt_at: Date;
  delivered_at: Date | null;
  replayed_at: Date | null;
  replay_count: number;
}

const COLUMNS = `id, workspace_id, integration_id, partner, partner_event_id, event_type, status, normalized, lead_id,
  attempts, last_error, received_at, next_attempt_at, delivered_at, replayed_at, replay_count`;

/** How long a freshly stored row is left to the request that stored it before the relay may take it. */
export const IN_FLIGHT_GRACE_SECONDS = 30;

/**
 * Stores one event; a second store of the same partner event finds the first row (`inserted: false`). Rows
 * kept beside the inbox are written in the same transaction, so a crash never leaves one without the other:
 * a call's first webhook carries the journey's `call` event, later ones for the same call only update it.
 */
export async function storeInboxEvent(
  pool: pg.Pool,
  input: {
    workspaceId: string;
    integrationId: string;
    partner: string;
    event: InboundEvent;
    headers: Record<string, string>;
    rawBody: Buffer;
  },
): Promise<{ row: InboxRow; inserted: boolean }> {
  return withTransaction(pool, async (client) => {
    const normalized = await withRecord(
      client,
      input.workspaceId,
      input.partner,
      input.integrationId,
      input.event,
    );
    const status: InboxStatus = normalized.lead ? 'pending' : 'ignored';
    const inserted = await client.query<InboxRow>(
      `INSERT INTO inbox_events (workspace_id, integration_id, partner, partner_event_id, event_type, status, headers,
                                 raw_body, normalized, next_attempt_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now() + make_interval(secs => $10))
       ON CONFLICT (integration_id, partner_event_id) DO NOTHING
       RETURNING ${COLUMNS}`,
      [
        input.workspaceId,
        input.integrationId,
        input.partner,
        input.event.partnerEventId,
        input.event.eventType,
        status,
        JSON.stringify(input.headers),
        input.rawBody,
        JSON.stringify(normalized),
        IN_FLIGHT_GRACE_SECONDS,
      ],
    );
    if (inserted.rows[0]) return { row: inserted.rows[0], inserted: true };
    // A duplicate: undo the side rows' changes made above (the transaction rolls back) and report the first.
    throw new DuplicateEvent();
  }).catch(async (error: unknown) => {
    if (!(error instanceof DuplicateEvent)) throw error;
    const { rows } = await pool.query<InboxRow>(
      `SELECT ${COLUMNS} FROM inbox_events WHERE integration_id = $1 AND partner_event_id = $2`,
      [input.integrationId, input.event.partnerEventId],
    );
    return { row: rows[0]!, inserted: false };
  });
}

class DuplicateEvent extends Error {}

/** Applies the event's side record and returns the event as the journey should see it. */
async function withRecord(
  client: pg.PoolClient,
  workspaceId: string,
  partner: string,
  integrationId: string,
  event: InboundEvent,
): Promise<InboundEvent> {
  const record = event.record;
  if (record?.kind === 'call') {
    const { rows } = await client.query<{ first: boolean }>(
      `INSERT INTO calls (workspace_id, partner, call_id, integration_id, direction, answered, duration_seconds,
                          started_at, data)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (workspace_id, partner, call_id) DO UPDATE
         SET direction = COALESCE(EXCLUDED.direction, calls.direction),
             answered = COALESCE(EXCLUDED.answered, calls.answered),
             duration_seconds = COALESCE(EXCLUDED.duration_seconds, calls.duration_seconds),
             started_at = COALESCE(calls.started_at, EXCLUDED.started_at),
             data = calls.data || EXCLUDED.data, webhooks = calls.webhooks + 1, updated_at = now()
       RETURNING (xmax = 0) AS first`,
      [
        workspaceId,
        partner,
        record.callId,
        integrationId,
        record.direction ?? null,
        record.answered ?? null,
        record.durationSeconds ?? null,
        record.startedAt ?? null,
        JSON.stringify(record.data),
      ],
    );
    if (!rows[0]?.first) {
      // The call is known: this webhook updated its record; the journey already has (or will get) the call.
      const { lead: _lead, ...rest } = event;
      return { ...rest, events: [], note: `folded into call ${record.callId}` };
    }
  }
  if (record?.kind === 'sms_delivery') {
    // Callbacks arrive out of order: a status only moves forward (queued → sent → delivered/undelivered/failed).
    await client.query(
      `UPDATE sms_deliveries
          SET status = $3, error_code = COALESCE($4, error_code), updated_at = now()
        WHERE message_sid = $1 AND workspace_id = $2
          AND (CASE $3 WHEN 'queued' THEN 0 WHEN 'accepted' THEN 0 WHEN 'sending' THEN 1 WHEN 'sent' THEN 2
                       ELSE 3 END)
              >= (CASE status WHEN 'queued' THEN 0 WHEN 'accepted' THEN 0 WHEN 'sending' THEN 1 WHEN 'sent' THEN 2
                       ELSE 3 END)`,
      [record.messageSid, workspaceId, record.status, record.errorCode ?? null],
    );
    // A notification we sent by SMS learns its fate: delivered, or failed at the carrier.
    const outcome =
      record.status === 'delivered'
        ? 'delivered'
        : ['undelivered', 'failed'].includes(record.status)
          ? 'failed'
          : null;
    if (outcome) {
      await client.query(
        `UPDATE notification_deliveries
            SET status = $3, error = COALESCE($4, error), updated_at = now()
          WHERE provider_id = $1 AND workspace_id = $2 AND channel = 'sms' AND status IN ('sent', 'delivered')`,
        [
          record.messageSid,
          workspaceId,
          outcome,
          record.errorCode ? `twilio error ${record.errorCode}` : null,
        ],
      );
    }
  }
  return event;
}

/** The first lead found by the lookups, in order, within the workspace. */
export async function findLeadId(
  pool: pg.Pool,
  workspaceId: string,
  lookups: LeadLookup[],
): Promise<string | undefined> {
  for (const lookup of lookups) {
    const found = await findOne(pool, workspaceId, lookup);
    if (found) return found;
  }
  return undefined;
}

async function findOne(pool: pg.Pool, workspaceId: string, lookup: LeadLookup): Promise<string | undefined> {
  const query = lookupQuery(lookup);
  if (!query || query.value === undefined) return undefined;
  const { rows } = await pool.query<{ lead_id: string }>(query.sql, [
    workspaceId,
    query.value,
    ...query.extra,
  ]);
  return rows[0]?.lead_id;
}

function lookupQuery(
  lookup: LeadLookup,
): { sql: string; value: string | undefined; extra: unknown[] } | undefined {
  switch (lookup.by) {
    case 'lead_id':
      if (!isUuid(lookup.leadId)) return undefined;
      return {
        sql: 'SELECT id AS lead_id FROM leads WHERE workspace_id = $1 AND id = $2',
        value: lookup.leadId,
        extra: [],
      };
    case 'external_id':
      return {
        sql: 'SELECT lead_id FROM lead_external_ids WHERE workspace_id = $1 AND external_id = $2 AND partner = $3',
        value: lookup.externalId,
        extra: [lookup.partner],
      };
    case 'email':
      return {
        sql: 'SELECT id AS lead_id FROM leads WHERE workspace_id = $1 AND email_normalized = $2',
        value: normalizeEmail(lookup.email),
        extra: [],
      };
    case 'phone':
      return {
        sql: 'SELECT id AS lead_id FROM leads WHERE workspace_id = $1 AND phone_e164 = $2 ORDER BY created_at LIMIT 1',
        value: toE164(lookup.phone),
        extra: [],
      };
    case 'sms_message':
      return {
        sql: 'SELECT lead_id FROM sms_deliveries WHERE workspace_id = $1 AND message_sid = $2 AND lead_id IS NOT NULL',
        value: lookup.messageSid,
        extra: [],
      };
  }
}

export async function setInboxLead(pool: pg.Pool, id: string, leadId: string): Promise<void> {
  await pool.query('UPDATE inbox_events SET lead_id = $2 WHERE id = $1', [id, leadId]);
}

/** Delivered (or found to need nothing): off the relay's list for good. */
export async function markInbox(
  pool: pg.Pool,
  id: string,
  status: Exclude<InboxStatus, 'pending'>,
  fields: { leadId?: string | null; error?: string } = {},
): Promise<void> {
  await pool.query(
    `UPDATE inbox_events
        SET status = $2, lead_id = COALESCE($3, lead_id), last_error = $4,
            delivered_at = CASE WHEN $2 = 'delivered' THEN now() ELSE delivered_at END
      WHERE id = $1`,
    [id, status, fields.leadId ?? null, fields.error ?? null],
  );
}

/** Not delivered this time: back to pending, due again after an exponential backoff (capped at 5 minutes). */
export async function markInboxRetry(pool: pg.Pool, id: string, error: string): Promise<void> {
  await pool.query(
    `UPDATE inbox_events
        SET status = 'pending', last_error = $2,
            next_attempt_at = now() + make_interval(secs => LEAST(300, power(2, LEAST(attempts, 9))))
      WHERE id = $1`,
    [id, error.slice(0, 2000)],
  );
}

/**
 * Takes up to `limit` due pending rows for delivery. Each is leased (due again in a minute) and counted as an
 * attempt; SKIP LOCKED lets several relays share the table without taking the same row.
 */
export async function claimDueInboxEvents(
  pool: pg.Pool,
  options: { limit: number; workspaceId?: string },
): Promise<InboxRow[]> {
  const { rows } = await pool.query<InboxRow>(
    `UPDATE inbox_events SET attempts = attempts + 1, next_attempt_at = now() + interval '60 seconds'
      WHERE id IN (
        SELECT id FROM inbox_events
         WHERE status = 'pending' AND next_attempt_at <= now() AND ($2::text IS NULL OR workspace_id = $2)
         ORDER BY next_attempt_at
         LIMIT $1
         FOR UPDATE SKIP LOCKED)
      RETURNING ${COLUMNS}`,
    [options.limit, options.workspaceId ?? null],
  );
  return rows.sort((a, b) => a.received_at.getTime() - b.received_at.getTime());
}

export interface InboxFilter {
  workspaceId?: string;
  partner?: string;
  status?: InboxStatus[];
  integrationId?: string;
  receivedFrom?: string;
  receivedTo?: string;
  limit: number;
  /** Keyset cursor: received_at and id of the last row of the previous page (newest first). */
  cursor?: { receivedAt: string; id: string };
  /** Oldest first (replay order) instead of newest first (listing order). */
  oldestFirst?: boolean;
}

export async function listInboxEvents(pool: pg.Pool, filter: InboxFilter): Promise<InboxRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: (n: string) => string, value: unknown) => {
    params.push(value);
    where.push(sql(`$${params.length}`));
  };
  if (filter.workspaceId) add((n) => `workspace_id = ${n}`, filter.workspaceId);
  if (filter.partner) add((n) => `partner = ${n}`, filter.partner);
  if (filter.status?.length) add((n) => `status = ANY(${n})`, filter.status);
  if (filter.integrationId) add((n) => `integration_id = ${n}`, filter.integrationId);
  if (filter.receivedFrom) add((n) => `received_at >= ${n}`, filter.receivedFrom);
  if (filter.receivedTo) add((n) => `received_at <= ${n}`, filter.receivedTo);
  const order = filter.oldestFirst ? 'ASC' : 'DESC';
  if (filter.cursor) {
    params.push(filter.cursor.receivedAt, filter.cursor.id);
    const op = filter.oldestFirst ? '>' : '<';
    where.push(`(received_at, id) ${op} ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
  }
  params.push(filter.limit);
  const { rows } = await pool.query<InboxRow>(
    `SELECT ${COLUMNS} FROM inbox_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY received_at ${order}, id ${order} LIMIT $${params.length}`,
    params,
  );
  return rows;
}

export async function getInboxEvent(
  pool: pg.Pool,
  id: string,
  workspaceId?: string,
): Promise<(InboxRow & { raw_body: Buffer; headers: Record<string, string> }) | undefined> {
  const { rows } = await pool.query<InboxRow & { raw_body: Buffer; headers: Record<string, string> }>(
    `SELECT ${COLUMNS}, raw_body, headers FROM inbox_events WHERE id = $1 AND ($2::text IS NULL OR workspace_id = $2)`,
    [id, workspaceId ?? null],
  );
  return rows[0];
}

export async function markInboxReplayed(pool: pg.Pool, id: string): Promise<void> {
  await pool.query(
    'UPDATE inbox_events SET replayed_at = now(), replay_count = replay_count + 1, attempts = attempts + 1 WHERE id = $1',
    [id],
  );
}

/**
 * Unmatched events waiting for a lead with one of these partner ids (a status that arrived before its
 * referral): oldest first.
 */
export async function unmatchedForExternalIds(
  pool: pg.Pool,
  workspaceId: string,
  externalIds: Record<string, string>,
): Promise<InboxRow[]> {
  const lookups = Object.entries(externalIds).map(([partner, externalId]) =>
    JSON.stringify([{ by: 'external_id', partner, externalId }]),
  );
  if (lookups.length === 0) return [];
  const { rows } = await pool.query<InboxRow>(
    `SELECT ${COLUMNS} FROM inbox_events
      WHERE workspace_id = $1 AND status = 'unmatched'
        AND EXISTS (SELECT 1 FROM unnest($2::jsonb[]) AS l(lookup) WHERE normalized->'lead'->'find' @> l.lookup)
      ORDER BY received_at, id
      LIMIT 100`,
    [workspaceId, lookups],
  );
  return rows;
}

/** The lead a call belongs to, once its first webhook is delivered. */
export async function setCallLead(
  pool: pg.Pool,
  workspaceId: string,
  partner: string,
  callId: string,
  leadId: string,
): Promise<void> {
  await pool.query(
    `UPDATE calls SET lead_id = $4 WHERE workspace_id = $1 AND partner = $2 AND call_id = $3 AND lead_id IS NULL`,
    [workspaceId, partner, callId, leadId],
  );
}

/**
 * Strings Postgres cannot hold (NUL, lone UTF-16 surrogates) are replaced before anything is stored: a
 * hostile body must earn a 4xx or be stored faithfully, never a 500.
 */
export function storable(event: InboundEvent): InboundEvent {
  return JSON.parse(
    JSON.stringify(event, (_key, value: unknown) =>
      typeof value === 'string'
        ? value
            .replaceAll('\u0000', '')
            .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
        : value,
    ),
  ) as InboundEvent;
}
