// The ingest inbox in Postgres: every verified partner event stored once (unique per integration and partner
// event id), the rows kept beside it (calls, SMS deliveries), lead lookups, delivery bookkeeping for the
// relay, and the operators' list.
import { isUuid } from '../shared/ids';
import type pg from 'pg';
import type { InboundEvent, LeadLookup } from '../shared/inbound';
import { normalizeEmail, toE164 } from '../shared/contact';
import { AppError } from '../shared/errors';
import { preparedLead } from './leads';
import type { LeadProjection, LivePolicyRow } from './policies';

export const INBOX_STATUSES = ['pending', 'delivered', 'unmatched', 'ignored', 'failed'] as const;
export type InboxStatus = (typeof INBOX_STATUSES)[number];

/** What a journey signal needs of a lead (leadrelay_lead_target). */
export interface LeadTarget {
  id: string;
  workspaceId: string;
  propertyId: string | null;
  source: string;
  status: string;
  hasEmail: boolean;
  hasPhone: boolean;
  /** The lead's projection as it was read with the row (what a new run would load). */
  projection: LeadProjection;
  /** The event just created this lead: its journey has never run. */
  created?: boolean;
  /** Read with the row when its signal starts a run: the partners, rules and zone of the lead's property now. */
  live?: LivePolicyRow;
}

/** What delivering a stored event needs of its row; `lead` when it was read along (no second read). */
export interface DeliverableRow {
  id: string;
  workspace_id: string;
  partner: string;
  status: InboxStatus;
  normalized: InboundEvent;
  lead_id: string | null;
  lead?: LeadTarget;
}

export interface InboxRow extends DeliverableRow {
  integration_id: string;
  partner_event_id: string;
  event_type: string;
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

/**
 * How long a freshly stored row is left to the process that stored it before any relay may take it: longer
 * than a signal may take (its deadline), short enough that a row whose process died is delivered promptly.
 */
export const IN_FLIGHT_GRACE_SECONDS = 10;

/** Columns of leadrelay_lead_target beside a row. */
interface TargetColumns {
  lead_id: string | null;
  lead_property_id: string | null;
  lead_source: string | null;
  lead_status: string | null;
  has_email: boolean | null;
  has_phone: boolean | null;
  lead_projection: {
    journey: number;
    seq: number;
    sources: string[];
    created_at: string;
    status_changed_at: string;
    live?: LivePolicyRow;
  } | null;
}

function targetOf(workspaceId: string, row: TargetColumns, matched?: boolean | null): LeadTarget | undefined {
  if (!row.lead_id || row.lead_source === null || !row.lead_projection) return undefined;
  const p = row.lead_projection;
  const target: LeadTarget = {
    id: row.lead_id,
    workspaceId,
    propertyId: row.lead_property_id,
    source: row.lead_source,
    status: row.lead_status ?? 'new',
    hasEmail: row.has_email === true,
    hasPhone: row.has_phone === true,
    projection: {
      propertyId: row.lead_property_id,
      status: row.lead_status ?? 'new',
      journey: p.journey,
      seq: p.seq,
      source: row.lead_source,
      sources: p.sources,
      hasEmail: row.has_email === true,
      hasPhone: row.has_phone === true,
      createdAt: new Date(p.created_at),
      statusChangedAt: new Date(p.status_changed_at),
    },
    ...(p.live ? { live: p.live } : {}),
  };
  return matched === false ? { ...target, created: true } : target;
}

interface PreparedLookup {
  by: LeadLookup['by'];
  value: string;
  partner?: string;
}

/** Lookups as the SQL functions take them: email normalized, phone in E.164, ids that cannot match dropped. */
export function preparedLookups(lookups: LeadLookup[] | undefined): PreparedLookup[] {
  return (lookups ?? []).flatMap((lookup): PreparedLookup[] => {
    switch (lookup.by) {
      case 'lead_id':
        return isUuid(lookup.leadId) ? [{ by: lookup.by, value: lookup.leadId }] : [];
      case 'external_id':
        return [{ by: lookup.by, value: lookup.externalId, partner: lookup.partner }];
      case 'email': {
        const value = normalizeEmail(lookup.email);
        return value ? [{ by: lookup.by, value }] : [];
      }
      case 'phone': {
        const value = toE164(lookup.phone);
        return value ? [{ by: lookup.by, value }] : [];
      }
      case 'sms_message':
        return [{ by: lookup.by, value: lookup.messageSid }];
    }
  });
}

/** An inquiry's contact as leadrelay_create_or_match_lead takes it (the source defaults to the partner). */
function preparedContact(event: InboundEvent, partner: string): Record<string, unknown> | undefined {
  const contact = event.lead?.create;
  if (!contact) return undefined;
  return preparedLead({
    propertyId: contact.propertyId,
    source: contact.source ?? partner,
    firstName: contact.firstName,
    lastName: contact.lastName,
    email: contact.email,
    phone: contact.phone,
    message: contact.message,
    externalIds: contact.externalIds,
    customData: contact.customData,
  });
}

export interface ReceivedEvent {
  row: DeliverableRow;
  /** The same partner event was stored before (by an earlier delivery): nothing was written now. */
  duplicate: boolean;
  /** The inquiry matched a lead that existed (false: created), for inquiries only. */
  matched?: boolean;
  /** Unmatched events that were waiting for this inquiry's lead, now linked to it and pending, oldest first. */
  waiting: DeliverableRow[];
}

interface ReceivedColumns extends TargetColumns {
  ord: number;
  role: 'event' | 'waiting';
  outcome: 'stored' | 'duplicate' | 'unknown_property';
  inbox_id: string;
  status: InboxStatus;
  normalized: InboundEvent | null;
  matched: boolean | null;
  property_id: string | null;
}

/** A webhook's (or a poll's) events as they arrived, with the request they came in. */
export interface IncomingEvents {
  workspaceId: string;
  integrationId: string;
  partner: string;
  events: InboundEvent[];
  headers: Record<string, string>;
  rawBody: Buffer;
}

/**
 * Stores a webhook's events in one round trip (leadrelay_receive_events): per event its side record, its lead
 * (created, matched or found) and the inbox row, unique per partner event id, with what the journey signal
 * needs. A property the workspace does not have stores nothing (`unknownProperty`).
 */
export async function receiveInboxEvents(
  pool: pg.Pool,
  input: IncomingEvents & { graceSeconds?: number },
): Promise<{ events: ReceivedEvent[] } | { unknownProperty: string }> {
  const events = input.events.map((event) => ({
    partner_event_id: event.partnerEventId,
    event_type: event.eventType,
    normalized: event,
    create: preparedContact(event, input.partner),
    find: event.lead?.create ? undefined : preparedLookups(event.lead?.find),
    record: event.record,
  }));
  const call = () =>
    pool.query<ReceivedColumns>('SELECT * FROM leadrelay_receive_events($1, $2, $3, $4, $5, $6, $7)', [
      input.workspaceId,
      input.integrationId,
      input.partner,
      JSON.stringify(input.headers),
      input.rawBody,
      JSON.stringify(events),
      input.graceSeconds ?? IN_FLIGHT_GRACE_SECONDS,
    ]);
  // A writer that does not take the event's lock (an older ingest during a rollout) can win the race for the
  // unique key: the second call then finds its row as a duplicate.
  const { rows } = await call().catch((error: unknown) => {
    if ((error as { code?: string }).code === '23505') return call();
    throw error;
  });
  const unknown = rows.find((row) => row.outcome === 'unknown_property');
  if (unknown) return { unknownProperty: unknown.property_id ?? '' };
  const received: ReceivedEvent[] = [];
  for (const row of rows) {
    const deliverable: DeliverableRow = {
      id: row.inbox_id,
      workspace_id: input.workspaceId,
      partner: input.partner,
      status: row.status,
      normalized: row.normalized ?? input.events[row.ord - 1]!,
      lead_id: row.lead_id,
      lead: targetOf(input.workspaceId, row, row.matched),
    };
    if (row.role === 'waiting') {
      received[received.length - 1]!.waiting.push(deliverable);
      continue;
    }
    received.push({
      row: deliverable,
      duplicate: row.outcome === 'duplicate',
      ...(row.matched !== null ? { matched: row.matched } : {}),
      waiting: [],
    });
  }
  return { events: received };
}

/**
 * Stores one event (receiveInboxEvents); a second store of the same partner event finds the first row
 * (`inserted: false`). A property the workspace does not have is a 400 naming property_id.
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
): Promise<{ row: DeliverableRow; inserted: boolean; waiting: DeliverableRow[] }> {
  const result = await receiveInboxEvents(pool, { ...input, events: [input.event] });
  if ('unknownProperty' in result) throw unknownProperty(result.unknownProperty);
  const [first] = result.events;
  return { row: first!.row, inserted: !first!.duplicate, waiting: first!.waiting };
}

export function unknownProperty(propertyId: string): AppError {
  return new AppError('validation_failed', `property ${propertyId} does not exist in this workspace`, {
    fields: [{ field: 'property_id', message: 'unknown property' }],
  });
}

/**
 * A stored event's lead resolved again (leadrelay_resolve_inbox_event): linked and pending, or unmatched; after
 * an inquiry, the events waiting for its lead, linked and pending too.
 */
export async function resolveInboxLead(
  pool: pg.Pool,
  row: DeliverableRow,
  graceSeconds = IN_FLIGHT_GRACE_SECONDS,
): Promise<{ lead?: LeadTarget; waiting: DeliverableRow[] }> {
  const event = row.normalized;
  const { rows } = await pool.query<ReceivedColumns>(
    'SELECT * FROM leadrelay_resolve_inbox_event($1, $2, $3, $4)',
    [
      row.id,
      JSON.stringify(preparedContact(event, row.partner) ?? null),
      JSON.stringify(preparedLookups(event.lead?.find)),
      graceSeconds,
    ],
  );
  const [own, ...waiting] = rows;
  return {
    lead: own ? targetOf(row.workspace_id, own, own.matched) : undefined,
    waiting: waiting.map((w) => ({
      id: w.inbox_id,
      workspace_id: row.workspace_id,
      partner: row.partner,
      status: w.status,
      normalized: w.normalized!,
      lead_id: w.lead_id,
      lead: targetOf(row.workspace_id, w),
    })),
  };
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

/** Every journey event of these rows signalled: off the relay's list for good. */
export async function markDelivered(pool: pg.Pool, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await pool.query(
    `UPDATE inbox_events SET status = 'delivered', last_error = NULL, delivered_at = now()
      WHERE id = ANY($1::uuid[])`,
    [ids],
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
  const { rows } = await pool.query<InboxRow & TargetColumns>(
    `WITH claimed AS (
       UPDATE inbox_events SET attempts = attempts + 1, next_attempt_at = now() + interval '60 seconds'
        WHERE id IN (
          SELECT id FROM inbox_events
           WHERE status = 'pending' AND next_attempt_at <= now() AND ($2::text IS NULL OR workspace_id = $2)
           ORDER BY next_attempt_at
           LIMIT $1
           FOR UPDATE SKIP LOCKED)
       RETURNING ${COLUMNS})
     SELECT claimed.*, t.lead_property_id, t.lead_source, t.lead_status, t.has_email, t.has_phone, t.lead_projection
       FROM claimed LEFT JOIN LATERAL leadrelay_lead_target(claimed.lead_id) t ON true`,
    [options.limit, options.workspaceId ?? null],
  );
  return rows
    .map(({ lead_property_id, lead_source, lead_status, has_email, has_phone, lead_projection, ...row }) => ({
      ...row,
      lead: targetOf(row.workspace_id, {
        lead_id: row.lead_id,
        lead_property_id,
        lead_source,
        lead_status,
        has_email,
        has_phone,
        lead_projection,
      }),
    }))
    .sort((a, b) => a.received_at.getTime() - b.received_at.getTime());
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
