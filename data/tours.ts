// Tour self-scheduling in Postgres: a property's tour settings, booked seats per slot (unique: a full slot cannot
// be overbooked by concurrent requests), a lead's booking, and releasing it when the journey cancels the tour.
import type pg from 'pg';
import type { TourHours, TourSettings } from '../shared/tours';
import { withTransaction } from './pool';

export interface PropertyTours extends TourSettings {
  propertyId: string;
  name: string;
  timezone: string;
}

export async function getTourSettings(
  pool: pg.Pool,
  workspaceId: string,
  propertyId: string,
): Promise<PropertyTours | undefined> {
  const { rows } = await pool.query<{
    id: string;
    name: string;
    timezone: string;
    tour_hours: TourHours | null;
    tour_slot_minutes: number;
    tour_capacity: number;
    tour_notice_minutes: number;
  }>(
    `SELECT id, name, timezone, tour_hours, tour_slot_minutes, tour_capacity, tour_notice_minutes
       FROM properties WHERE workspace_id = $1 AND id = $2`,
    [workspaceId, propertyId],
  );
  const row = rows[0];
  return row
    ? {
        propertyId: row.id,
        name: row.name,
        timezone: row.timezone,
        hours: row.tour_hours,
        slotMinutes: row.tour_slot_minutes,
        capacity: row.tour_capacity,
        noticeMinutes: row.tour_notice_minutes,
      }
    : undefined;
}

export async function updateTourSettings(
  pool: pg.Pool,
  workspaceId: string,
  propertyId: string,
  patch: Partial<TourSettings>,
): Promise<boolean> {
  const { rowCount } = await pool.query(
    `UPDATE properties
        SET tour_hours = CASE WHEN $3 THEN $4::jsonb ELSE tour_hours END,
            tour_slot_minutes = COALESCE($5, tour_slot_minutes), tour_capacity = COALESCE($6, tour_capacity),
            tour_notice_minutes = COALESCE($7, tour_notice_minutes), updated_at = now()
      WHERE workspace_id = $1 AND id = $2`,
    [
      workspaceId,
      propertyId,
      patch.hours !== undefined,
      patch.hours === undefined || patch.hours === null ? null : JSON.stringify(patch.hours),
      patch.slotMinutes ?? null,
      patch.capacity ?? null,
      patch.noticeMinutes ?? null,
    ],
  );
  return (rowCount ?? 0) > 0;
}

/** Booked tours per slot start (ISO) in a range. */
export async function bookedPerSlot(
  pool: pg.Pool,
  workspaceId: string,
  propertyId: string,
  range: { from: Date; to: Date },
): Promise<Map<string, number>> {
  const { rows } = await pool.query<{ starts_at: Date; count: number }>(
    `SELECT starts_at, count(*) AS count FROM tour_bookings
      WHERE workspace_id = $1 AND property_id = $2 AND status = 'booked' AND starts_at >= $3 AND starts_at < $4
      GROUP BY starts_at`,
    [workspaceId, propertyId, range.from, range.to],
  );
  return new Map(rows.map((r) => [r.starts_at.toISOString(), r.count]));
}

export interface TourBookingRecord {
  id: string;
  workspace_id: string;
  property_id: string;
  lead_id: string;
  starts_at: Date;
  ends_at: Date;
  seat: number;
  status: 'booked' | 'rescheduled' | 'cancelled' | 'held';
  cancel_reason: string | null;
  created_at: Date;
  updated_at: Date;
}

const BOOKING_COLUMNS =
  'id, workspace_id, property_id, lead_id, starts_at, ends_at, seat, status, cancel_reason, created_at, updated_at';

/**
 * Books the lowest free seat of a slot for a lead, in one transaction: the lead's earlier booking is closed first
 * (a future one is rescheduled, a past one held), then a seat is inserted. Seats are unique per slot, so of two
 * requests racing for the last seat one inserts and the other finds none left: `taken`.
 */
export async function bookTourSeat(
  pool: pg.Pool,
  booking: {
    workspaceId: string;
    propertyId: string;
    leadId: string;
    start: string;
    end: string;
    capacity: number;
  },
): Promise<{ booked: TourBookingRecord; fresh: boolean; replaced?: TourBookingRecord } | { taken: true }> {
  return withTransaction(pool, async (client) => {
    // One booking at a time per lead (a double click books once, then finds its own booking).
    await client.query(`SELECT pg_advisory_xact_lock(hashtextextended('tour:' || $1, 0))`, [booking.leadId]);
    const previous = await client.query<TourBookingRecord>(
      `SELECT ${BOOKING_COLUMNS} FROM tour_bookings WHERE lead_id = $1 AND status = 'booked' FOR UPDATE`,
      [booking.leadId],
    );
    const earlier = previous.rows[0];
    if (
      earlier &&
      earlier.starts_at.toISOString() === booking.start &&
      earlier.property_id === booking.propertyId
    ) {
      return { booked: earlier, fresh: false };
    }
    if (earlier) {
      await client.query(
        `UPDATE tour_bookings SET status = CASE WHEN starts_at > now() THEN 'rescheduled' ELSE 'held' END,
                updated_at = now()
          WHERE id = $1`,
        [earlier.id],
      );
    }
    for (let attempt = 0; attempt < booking.capacity; attempt += 1) {
      const inserted = await client.query<TourBookingRecord>(
        `INSERT INTO tour_bookings (workspace_id, property_id, lead_id, starts_at, ends_at, seat)
         SELECT $1, $2, $3, $4, $5, s.seat FROM generate_series(1, $6::int) AS s(seat)
          WHERE NOT EXISTS (SELECT 1 FROM tour_bookings b
                             WHERE b.workspace_id = $1 AND b.property_id = $2 AND b.starts_at = $4
                               AND b.seat = s.seat AND b.status = 'booked')
          ORDER BY s.seat LIMIT 1
         ON CONFLICT (workspace_id, property_id, starts_at, seat) WHERE status = 'booked' DO NOTHING
         RETURNING ${BOOKING_COLUMNS}`,
        [
          booking.workspaceId,
          booking.propertyId,
          booking.leadId,
          booking.start,
          booking.end,
          booking.capacity,
        ],
      );
      if (inserted.rows[0]) {
        return { booked: inserted.rows[0], fresh: true, ...(earlier ? { replaced: earlier } : {}) };
      }
      // Another request took the seat we picked (it committed while we waited): look again for one left.
      const left = await client.query<{ count: number }>(
        `SELECT count(*) AS count FROM tour_bookings
          WHERE workspace_id = $1 AND property_id = $2 AND starts_at = $3 AND status = 'booked'`,
        [booking.workspaceId, booking.propertyId, booking.start],
      );
      if (left.rows[0]!.count >= booking.capacity) break;
    }
    // Nothing booked: the lead keeps the tour it had.
    throw new SlotTaken();
  }).catch((error: unknown) => {
    if (error instanceof SlotTaken) return { taken: true as const };
    throw error;
  });
}

class SlotTaken extends Error {}

/** The lead's booked tour (upcoming, or begun and not yet closed), if any. */
export async function getLeadTour(
  pool: pg.Pool,
  workspaceId: string,
  leadId: string,
): Promise<TourBookingRecord | undefined> {
  const { rows } = await pool.query<TourBookingRecord>(
    `SELECT ${BOOKING_COLUMNS} FROM tour_bookings WHERE workspace_id = $1 AND lead_id = $2 AND status = 'booked'`,
    [workspaceId, leadId],
  );
  return rows[0];
}

/** Cancels a lead's booked tour that has not begun; answers it, or undefined when there was none. */
export async function cancelLeadTour(
  queryable: pg.Pool | pg.PoolClient,
  workspaceId: string,
  leadId: string,
  reason: string,
): Promise<TourBookingRecord | undefined> {
  const { rows } = await queryable.query<TourBookingRecord>(
    `UPDATE tour_bookings SET status = 'cancelled', cancel_reason = $3, updated_at = now()
      WHERE workspace_id = $1 AND lead_id = $2 AND status = 'booked' AND starts_at > now()
      RETURNING ${BOOKING_COLUMNS}`,
    [workspaceId, leadId, reason],
  );
  return rows[0];
}

/** Puts back a booking that its journey could not be told of (the request failed): the seat is free again. */
export async function undoBooking(
  pool: pg.Pool,
  booked: TourBookingRecord,
  replaced: TourBookingRecord | undefined,
): Promise<void> {
  await withTransaction(pool, async (client) => {
    await client.query(`UPDATE tour_bookings SET status = 'cancelled', cancel_reason = $2 WHERE id = $1`, [
      booked.id,
      'not recorded: the journey could not be reached',
    ]);
    if (replaced) {
      await client.query(`UPDATE tour_bookings SET status = 'booked' WHERE id = $1 AND status <> 'booked'`, [
        replaced.id,
      ]);
    }
  });
}

export interface TourListItem extends TourBookingRecord {
  first_name: string | null;
  last_name: string | null;
  lead_status: string;
}

/** Tours of a property in a range (booked, and cancelled or rescheduled ones when asked), for its calendar. */
export async function listPropertyTours(
  pool: pg.Pool,
  workspaceId: string,
  propertyId: string,
  range: { from: Date; to: Date; includeCancelled: boolean },
): Promise<TourListItem[]> {
  const { rows } = await pool.query<TourListItem>(
    `SELECT ${BOOKING_COLUMNS.split(', ')
      .map((c) => `b.${c}`)
      .join(', ')}, l.first_name, l.last_name, l.status AS lead_status
       FROM tour_bookings b JOIN leads l ON l.id = b.lead_id
      WHERE b.workspace_id = $1 AND b.property_id = $2 AND b.starts_at >= $3 AND b.starts_at < $4
        AND ($5 OR b.status IN ('booked', 'held'))
      ORDER BY b.starts_at, b.seat`,
    [workspaceId, propertyId, range.from, range.to, range.includeCancelled],
  );
  return rows;
}

export function tourJson(tour: TourBookingRecord) {
  return {
    id: tour.id,
    lead_id: tour.lead_id,
    property_id: tour.property_id,
    start: tour.starts_at.toISOString(),
    end: tour.ends_at.toISOString(),
    seat: tour.seat,
    status: tour.status,
    cancel_reason: tour.cancel_reason,
    created_at: tour.created_at.toISOString(),
    updated_at: tour.updated_at.toISOString(),
  };
}

/** The property's Google Calendar integration (its own, else the workspace's) with credentials, if any. */
export async function calendarIntegrationId(
  pool: pg.Pool,
  workspaceId: string,
  propertyId: string,
): Promise<string | undefined> {
  const { rows } = await pool.query<{ id: string }>(
    `SELECT id FROM integrations
      WHERE workspace_id = $1 AND partner = 'google_calendar' AND status IN ('active', 'error') AND deleted_at IS NULL
        AND (property_id IS NULL OR property_id = $2) AND credentials_encrypted IS NOT NULL
      ORDER BY (property_id IS NOT NULL) DESC, created_at LIMIT 1`,
    [workspaceId, propertyId],
  );
  return rows[0]?.id;
}
