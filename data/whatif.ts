// What the what-if reads, and only reads: a page of leads chosen by ids or a filter, and for each everything its
// journeys recorded (inputs and consequences), loaded a page at a time in one read-only snapshot.
import type pg from 'pg';
import type { InboundEvent } from '../shared/inbound';
import type { HistoryEntryType } from '../shared/journey/types';
import type { LeadRecords } from '../shared/whatif/records';
import { withTransaction } from './pool';

export interface LeadSelection {
  /** The caller's workspace; undefined only for the operator's admin token (every workspace). */
  workspaceId?: string;
  leadIds?: string[];
  propertyId?: string;
  statuses?: string[];
  source?: string;
  /** Leads active in [activeFrom, activeTo): created then, or with a history row or an inbox event then. */
  activeFrom?: string;
  activeTo?: string;
  /** Leads after this one in (created_at, id) order (`createdAt` to the microsecond, as Postgres keeps it). */
  after?: { createdAt: string; id: string };
  limit: number;
}

export interface SelectedLead {
  id: string;
  workspaceId: string;
  createdAt: string;
}

export async function selectWhatIfLeads(pool: pg.Pool, selection: LeadSelection): Promise<SelectedLead[]> {
  const { rows } = await pool.query<{ id: string; workspace_id: string; created_key: string }>(
    // The time as text keeps its microseconds (a JS Date would drop them, and a cursor would repeat a lead).
    `SELECT l.id, l.workspace_id, to_char(l.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_key
       FROM leads l
      WHERE ($1::text IS NULL OR l.workspace_id = $1)
        AND ($2::uuid[] IS NULL OR l.id = ANY($2))
        AND ($3::text IS NULL OR l.property_id = $3)
        AND ($4::text[] IS NULL OR l.status = ANY($4))
        AND ($5::text IS NULL OR l.source = $5)
        AND ($8::timestamptz IS NULL OR (l.created_at, l.id) > ($8, $9::uuid))
        AND ($7::timestamptz IS NULL OR l.created_at < $7)
        AND ($6::timestamptz IS NULL OR l.created_at >= $6
             OR EXISTS (SELECT 1 FROM status_history h
                         WHERE h.lead_id = l.id AND h.created_at >= $6 AND ($7::timestamptz IS NULL OR h.created_at < $7))
             OR EXISTS (SELECT 1 FROM inbox_events i
                         WHERE i.lead_id = l.id AND i.received_at >= $6 AND ($7::timestamptz IS NULL OR i.received_at < $7)))
      ORDER BY l.created_at, l.id
      LIMIT $10`,
    [
      selection.workspaceId ?? null,
      selection.leadIds ?? null,
      selection.propertyId ?? null,
      selection.statuses ?? null,
      selection.source ?? null,
      selection.activeFrom ?? null,
      selection.activeTo ?? null,
      selection.after?.createdAt ?? null,
      selection.after?.id ?? null,
      selection.limit,
    ],
  );
  return rows.map((row) => ({
    id: row.id,
    workspaceId: row.workspace_id,
    createdAt: row.created_key,
  }));
}

const iso = (value: Date | null) => value?.toISOString() ?? null;

function byLead<R extends { lead_id: string }>(rows: R[]): Map<string, R[]> {
  const grouped = new Map<string, R[]>();
  for (const row of rows) grouped.set(row.lead_id, [...(grouped.get(row.lead_id) ?? []), row]);
  return grouped;
}

/** Everything the journeys of these leads recorded up to `until`, one query per table for the whole page. */
export async function loadLeadRecords(pool: pg.Pool, ids: string[], until: string): Promise<LeadRecords[]> {
  if (ids.length === 0) return [];
  // One snapshot no statement can write through: the what-if sends and writes nothing, and this makes sure of it.
  return withTransaction(pool, async (client) => {
    const q = <R extends pg.QueryResultRow>(sql: string, params: unknown[] = [ids, until]) =>
      client.query<R>(sql, params).then((r) => r.rows);
    const leads = await q<{
      id: string;
      workspace_id: string;
      property_id: string | null;
      source: string;
      journey: number;
      status: string;
      next_follow_up_at: Date | null;
      email: string | null;
      phone_e164: string | null;
      email_opted_out_at: Date | null;
      custom_data: Record<string, unknown>;
      zone: string;
    }>(
      `SELECT l.id, l.workspace_id, l.property_id, l.source, l.journey, l.status, l.next_follow_up_at, l.email,
              l.phone_e164, l.email_opted_out_at, l.custom_data, COALESCE(p.timezone, w.timezone) AS zone
         FROM leads l JOIN workspaces w ON w.id = l.workspace_id
         LEFT JOIN properties p ON p.workspace_id = l.workspace_id AND p.id = l.property_id
        WHERE l.id = ANY($1)`,
      [ids],
    );
    const history = byLead(
      await q<{
        lead_id: string;
        idempotency_key: string;
        journey: number;
        seq: number | null;
        entry_type: HistoryEntryType;
        old_status: string | null;
        new_status: string;
        reason: string | null;
        source: string;
        actor: string | null;
        context: Record<string, unknown>;
        event_id: string | null;
        created_at: Date;
      }>(
        `SELECT lead_id, idempotency_key, journey, seq, entry_type, old_status, new_status, reason, source, actor,
                context, event_id, created_at
           FROM status_history WHERE lead_id = ANY($1) AND created_at <= $2`,
      ),
    );
    const inbox = byLead(
      await q<{
        lead_id: string;
        id: string;
        partner: string;
        status: string;
        normalized: InboundEvent;
        received_at: Date;
        delivered_at: Date | null;
      }>(
        `SELECT lead_id, id, partner, status, normalized, received_at, delivered_at FROM inbox_events
          WHERE lead_id = ANY($1) AND status = 'delivered' AND received_at <= $2 ORDER BY received_at, id`,
      ),
    );
    const conversions = byLead(
      await q<{
        lead_id: string;
        id: string;
        conversion_type: string;
        conversion_value: number | null;
        converted_by: string;
        converted_at: Date;
        created_at: Date;
      }>(
        `SELECT lead_id, id, conversion_type, conversion_value, converted_by, converted_at, created_at
           FROM conversions WHERE lead_id = ANY($1) AND created_at <= $2`,
      ),
    );
    const notifications = byLead(
      await q<{
        lead_id: string;
        idempotency_key: string;
        audience: 'prospect' | 'staff';
        template: string;
        data: Record<string, unknown>;
      }>(
        `SELECT lead_id, idempotency_key, audience, template, data FROM notifications
          WHERE lead_id = ANY($1) AND created_at <= $2`,
      ),
    );
    const deliveries = byLead(
      await q<{
        lead_id: string;
        notification_key: string;
        channel: string;
        audience: string;
        recipient: string;
        template: string;
      }>(
        `SELECT lead_id, notification_key, channel, audience, recipient, template FROM notification_deliveries
          WHERE lead_id = ANY($1) AND created_at <= $2`,
      ),
    );
    const syncs = byLead(
      await q<{ lead_id: string; idempotency_key: string; partner: string; status: string }>(
        `SELECT lead_id, idempotency_key, partner, status FROM partner_syncs WHERE lead_id = ANY($1) AND created_at <= $2`,
      ),
    );
    const tasks = byLead(
      await q<{ lead_id: string; idempotency_key: string; kind: string }>(
        `SELECT lead_id, idempotency_key, kind FROM staff_tasks WHERE lead_id = ANY($1) AND created_at <= $2`,
      ),
    );
    const fees = byLead(
      await q<{
        lead_id: string;
        journey: number;
        partner: string;
        won_status: string;
        amount: number | null;
        currency: string;
      }>(
        `SELECT lead_id, journey, partner, won_status, amount, currency FROM referral_fees
          WHERE lead_id = ANY($1) AND won_at <= $2`,
      ),
    );
    const announced = byLead(
      await q<{ lead_id: string; idempotency_key: string; source: string | null }>(
        `SELECT lead_id, idempotency_key, data->>'source' AS source FROM outbox_events
          WHERE lead_id = ANY($1) AND event_type = 'lead.created' AND created_at <= $2`,
      ),
    );
    const order = new Map(ids.map((id, index) => [id, index]));
    return leads
      .sort((a, b) => order.get(a.id)! - order.get(b.id)!)
      .map((lead): LeadRecords => ({
        workspaceId: lead.workspace_id,
        leadId: lead.id,
        propertyId: lead.property_id,
        source: lead.source,
        journey: lead.journey,
        status: lead.status,
        nextFollowUpAt: iso(lead.next_follow_up_at),
        email: lead.email,
        phone: lead.phone_e164,
        emailOptedOut: lead.email_opted_out_at !== null,
        customData: lead.custom_data,
        zone: lead.zone,
        journeySources: journeySources(announced.get(lead.id) ?? []),
        history: (history.get(lead.id) ?? []).map((row) => ({
          key: row.idempotency_key,
          journey: row.journey,
          seq: row.seq,
          type: row.entry_type,
          oldStatus: row.old_status,
          newStatus: row.new_status,
          reason: row.reason,
          source: row.source,
          actor: row.actor,
          context: row.context,
          eventId: row.event_id,
          at: row.created_at.toISOString(),
        })),
        inbox: (inbox.get(lead.id) ?? []).map((row) => ({
          id: row.id,
          partner: row.partner,
          status: row.status,
          normalized: row.normalized,
          receivedAt: row.received_at.toISOString(),
          deliveredAt: iso(row.delivered_at),
        })),
        conversions: (conversions.get(lead.id) ?? []).map((row) => ({
          id: row.id,
          type: row.conversion_type,
          value: row.conversion_value,
          convertedBy: row.converted_by,
          convertedAt: row.converted_at.toISOString(),
          createdAt: row.created_at.toISOString(),
        })),
        notifications: (notifications.get(lead.id) ?? []).map((row) => ({
          key: row.idempotency_key,
          audience: row.audience,
          template: row.template,
          data: row.data,
        })),
        deliveries: (deliveries.get(lead.id) ?? []).map((row) => ({
          notificationKey: row.notification_key,
          channel: row.channel,
          audience: row.audience,
          recipient: row.recipient,
          template: row.template,
        })),
        syncs: (syncs.get(lead.id) ?? []).map((row) => ({
          key: row.idempotency_key,
          partner: row.partner,
          status: row.status,
        })),
        tasks: (tasks.get(lead.id) ?? []).map((row) => ({ key: row.idempotency_key, kind: row.kind })),
        fees: (fees.get(lead.id) ?? []).map((row) => ({
          journey: row.journey,
          partner: row.partner,
          wonStatus: row.won_status,
          amount: row.amount,
          currency: row.currency,
        })),
      }));
  });
}

/** Each journey's source from its `lead.created` event, whose key names the journey (`…:j<n>:…`). */
function journeySources(rows: { idempotency_key: string; source: string | null }[]): Record<number, string> {
  const sources: Record<number, string> = {};
  for (const row of rows) {
    const journey = /:j(\d+):/.exec(row.idempotency_key)?.[1];
    if (journey && row.source) sources[Number(journey)] = row.source;
  }
  return sources;
}
