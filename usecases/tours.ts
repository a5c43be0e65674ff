// Tour self-scheduling: a property's free slots (tour hours minus booked tours minus busy time of its connected
// Google Calendar), booking one for a lead (a seat unique per slot: of two leads racing for the last place exactly
// one wins, the other hears the next free slots), and the journey told so it moves to tour_scheduled with its
// reminders; cancelling gives the seat back.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { partnerAdapter } from '../activities/partners';
import { partnerConnection } from '../activities/partners/connection';
import { PartnerError } from '../activities/partners/http';
import { loadIntegrationSecrets } from '../data/integrations';
import { getLead } from '../data/leads';
import {
  bookTourSeat,
  bookedPerSlot,
  calendarIntegrationId,
  cancelLeadTour,
  getLeadTour,
  getTourSettings,
  listPropertyTours,
  tourJson,
  undoBooking,
  updateTourSettings,
  type PropertyTours,
} from '../data/tours';
import type { KeyRing } from '../shared/crypto';
import { AppError } from '../shared/errors';
import { isTerminal, isStatus } from '../shared/lifecycle';
import {
  BOOKING_HORIZON_DAYS,
  MAX_RANGE_DAYS,
  freeSlots,
  slotAt,
  type FreeSlot,
  type Interval,
  type TourSettings,
} from '../shared/tours';
import type { JourneyClient } from './journeys';

export interface TourDeps {
  pool: pg.Pool;
  journeys: JourneyClient;
  /** Opens the Google Calendar integration's credentials. */
  keyRing?: KeyRing;
  fetch?: typeof fetch;
  partnerTimeoutMs?: number;
}

const DAY = 86_400_000;
/** How many next free slots a refused booking offers. */
const NEXT_SLOTS = 5;

async function propertyTours(
  deps: TourDeps,
  workspaceId: string,
  propertyId: string,
): Promise<PropertyTours> {
  const property = await getTourSettings(deps.pool, workspaceId, propertyId);
  if (!property) throw new AppError('not_found', `property ${propertyId} not found`);
  return property;
}

export function tourSettingsJson(property: PropertyTours) {
  return {
    property_id: property.propertyId,
    timezone: property.timezone,
    tour_hours: property.hours,
    tour_slot_minutes: property.slotMinutes,
    tour_capacity: property.capacity,
    tour_notice_minutes: property.noticeMinutes,
  };
}

export async function tourSettings(deps: TourDeps, workspaceId: string, propertyId: string) {
  return tourSettingsJson(await propertyTours(deps, workspaceId, propertyId));
}

export async function changeTourSettings(
  deps: TourDeps,
  workspaceId: string,
  propertyId: string,
  patch: Partial<TourSettings>,
) {
  await propertyTours(deps, workspaceId, propertyId);
  await updateTourSettings(deps.pool, workspaceId, propertyId, patch);
  return tourSettings(deps, workspaceId, propertyId);
}

/**
 * Busy time from the property's Google Calendar integration (the property's own, else the workspace's), or none
 * when there is none. The calendar not answering is a 503: slots offered blind could be double-booked.
 */
async function busyTime(
  deps: TourDeps,
  workspaceId: string,
  propertyId: string,
  range: { from: Date; to: Date },
): Promise<{ busy: Interval[]; source: string | null }> {
  const id = await calendarIntegrationId(deps.pool, workspaceId, propertyId);
  if (!id) return { busy: [], source: null };
  if (!deps.keyRing)
    throw new AppError('unavailable', 'LEADRELAY_ENCRYPTION_KEYS is needed to read the calendar');
  const integration = await loadIntegrationSecrets(deps.pool, deps.keyRing, id);
  if (!integration) return { busy: [], source: null };
  try {
    const adapter = partnerAdapter('google_calendar')!;
    const busy = await adapter.calendar!.freeBusy(
      partnerConnection(integration, adapter, { partnerTimeoutMs: deps.partnerTimeoutMs, fetch: deps.fetch }),
      { from: range.from.toISOString(), to: range.to.toISOString() },
    );
    return { busy, source: 'google_calendar' };
  } catch (error) {
    if (!(error instanceof PartnerError)) throw error;
    throw new AppError('unavailable', `the property's calendar could not be read: ${error.message}`, {
      partner: 'google_calendar',
      integration_id: id,
      partner_status: error.status ?? null,
    });
  }
}

async function openSlots(
  deps: TourDeps,
  workspaceId: string,
  property: PropertyTours,
  range: { from: Date; to: Date },
): Promise<{ slots: FreeSlot[]; busySource: string | null }> {
  const [booked, busy] = await Promise.all([
    bookedPerSlot(deps.pool, workspaceId, property.propertyId, range),
    busyTime(deps, workspaceId, property.propertyId, range),
  ]);
  const slots = freeSlots({
    settings: property,
    zone: property.timezone,
    from: range.from,
    to: range.to,
    now: new Date(),
    booked,
    busy: busy.busy,
  });
  return { slots, busySource: busy.source };
}

function rangeOf(from: string | undefined, to: string | undefined): { from: Date; to: Date } {
  const start = from ? new Date(from) : new Date();
  const end = to ? new Date(to) : new Date(start.getTime() + 14 * DAY);
  if (end <= start) {
    throw new AppError('validation_failed', 'to must be after from', {
      fields: [{ field: 'to', message: 'must be after from' }],
    });
  }
  if (end.getTime() - start.getTime() > MAX_RANGE_DAYS * DAY) {
    throw new AppError('validation_failed', `a range of at most ${MAX_RANGE_DAYS} days`, {
      fields: [{ field: 'to', message: `at most ${MAX_RANGE_DAYS} days after from` }],
    });
  }
  return { from: start, to: end };
}

const slotJson = (slot: FreeSlot) => ({ start: slot.start, end: slot.end, available: slot.available });

/** The free slots of a property between two times (default: the next two weeks). */
export async function tourSlots(
  deps: TourDeps,
  workspaceId: string,
  propertyId: string,
  query: { from?: string; to?: string },
) {
  const property = await propertyTours(deps, workspaceId, propertyId);
  const range = rangeOf(query.from, query.to);
  const { slots, busySource } = await openSlots(deps, workspaceId, property, range);
  return {
    property_id: property.propertyId,
    timezone: property.timezone,
    from: range.from.toISOString(),
    to: range.to.toISOString(),
    slot_minutes: property.slotMinutes,
    capacity: property.capacity,
    self_scheduling: property.hours !== null,
    busy_source: busySource,
    slots: slots.map(slotJson),
  };
}

/** The next free slots after a moment (what a refused booking offers instead). */
async function nextSlots(deps: TourDeps, workspaceId: string, property: PropertyTours, after: Date) {
  const from = new Date(Math.max(after.getTime(), Date.now()));
  const { slots } = await openSlots(deps, workspaceId, property, {
    from,
    to: new Date(from.getTime() + MAX_RANGE_DAYS * DAY),
  });
  return slots.slice(0, NEXT_SLOTS).map(slotJson);
}

/**
 * Books a tour for a lead at a slot's start. A slot that is full, or busy in the property's calendar, is 409
 * `slot_taken` with the next free slots; a start that is no slot is 422 with them too. Booking again reschedules.
 */
export async function bookTour(
  deps: TourDeps,
  workspaceId: string,
  leadId: string,
  body: { start: string; property_id?: string },
  actor: { source: 'staff' | 'api'; actor?: string },
) {
  const lead = await getLead(deps.pool, workspaceId, leadId);
  if (!lead) throw new AppError('not_found', `lead ${leadId} not found`);
  if (isStatus(lead.status) && isTerminal(lead.status)) {
    throw new AppError('invalid_transition', `A lead that is ${lead.status} cannot book a tour.`, {
      from: lead.status,
      to: 'tour_scheduled',
      allowed: [],
    });
  }
  const propertyId = lead.property_id ?? body.property_id;
  if (!propertyId) {
    throw new AppError('validation_failed', 'the lead has no property: name one with property_id', {
      fields: [{ field: 'property_id', message: 'required for a lead without a property' }],
    });
  }
  if (lead.property_id && body.property_id && body.property_id !== lead.property_id) {
    throw new AppError('validation_failed', `the lead belongs to property ${lead.property_id}`, {
      fields: [{ field: 'property_id', message: `the lead's property is ${lead.property_id}` }],
    });
  }
  const property = await propertyTours(deps, workspaceId, propertyId);
  const start = new Date(body.start);
  const slot = slotAt(property, property.timezone, start);
  const tooSoon = start.getTime() < Date.now() + property.noticeMinutes * 60_000;
  const tooLate = start.getTime() > Date.now() + BOOKING_HORIZON_DAYS * DAY;
  if (!slot || tooSoon || tooLate) {
    const why = !property.hours
      ? 'this property takes no self-scheduled tours'
      : !slot
        ? `no tour slot starts at ${start.toISOString()}`
        : tooSoon
          ? `tours need ${property.noticeMinutes} minutes' notice`
          : `tours can be booked up to ${BOOKING_HORIZON_DAYS} days ahead`;
    throw new AppError('validation_failed', why, {
      fields: [{ field: 'start', message: why }],
      next: property.hours ? await nextSlots(deps, workspaceId, property, new Date()) : [],
    });
  }
  const taken = async () =>
    new AppError('slot_taken', `the tour slot at ${slot.start} is no longer free`, {
      start: slot.start,
      next: await nextSlots(deps, workspaceId, property, start),
    });
  // The calendar is asked again at booking: staff may have filled the hour since the slots were listed.
  const { busy } = await busyTime(deps, workspaceId, propertyId, {
    from: new Date(slot.start),
    to: new Date(slot.end),
  });
  if (busy.length > 0) throw await taken();
  const seat = await bookTourSeat(deps.pool, {
    workspaceId,
    propertyId,
    leadId: lead.id,
    start: slot.start,
    end: slot.end,
    capacity: property.capacity,
  });
  if ('taken' in seat) throw await taken();
  const { booked, fresh, replaced } = seat;
  try {
    await deps.journeys.send(
      {
        workspaceId,
        leadId: lead.id,
        propertyId: lead.property_id ?? undefined,
        source: lead.source,
        status: lead.status,
      },
      {
        kind: 'tour_booked',
        tourAt: slot.start,
        tourEndAt: slot.end,
        ...(replaced ? { rescheduled: true } : {}),
        eventId: `tour:${booked.id}`,
        occurredAt: booked.created_at.toISOString(),
        source: actor.source,
        ...(actor.actor ? { actor: actor.actor } : {}),
      },
    );
  } catch (error) {
    // A booking its journey never heard of would hold a seat with no reminders: give it back (a repeated request
    // for the booking the lead already had leaves it; its journey took it the first time).
    if (fresh) await undoBooking(deps.pool, booked, replaced);
    throw error;
  }
  return { ...tourJson(booked), rescheduled_from: replaced ? replaced.starts_at.toISOString() : null };
}

/** The lead's booked self-scheduled tour, or null. */
export async function leadTour(deps: TourDeps, workspaceId: string, leadId: string) {
  const lead = await getLead(deps.pool, workspaceId, leadId);
  if (!lead) throw new AppError('not_found', `lead ${leadId} not found`);
  const tour = await getLeadTour(deps.pool, workspaceId, lead.id);
  return { tour: tour ? tourJson(tour) : null };
}

/** Cancels the lead's upcoming self-scheduled tour and tells the journey (back to qualified, reminders off). */
export async function cancelTour(
  deps: TourDeps,
  workspaceId: string,
  leadId: string,
  body: { reason?: string },
  actor: { source: 'staff' | 'api'; actor?: string },
) {
  const lead = await getLead(deps.pool, workspaceId, leadId);
  if (!lead) throw new AppError('not_found', `lead ${leadId} not found`);
  const reason = body.reason ?? 'cancelled';
  const cancelled = await cancelLeadTour(deps.pool, workspaceId, lead.id, reason);
  if (!cancelled) throw new AppError('not_found', `lead ${leadId} has no upcoming booked tour`);
  await deps.journeys.send(
    {
      workspaceId,
      leadId: lead.id,
      propertyId: lead.property_id ?? undefined,
      source: lead.source,
      status: lead.status,
    },
    {
      kind: 'tour_cancelled',
      reason,
      eventId: `tour-cancelled:${cancelled.id}:${randomUUID()}`,
      occurredAt: new Date().toISOString(),
      source: actor.source,
      ...(actor.actor ? { actor: actor.actor } : {}),
    },
  );
  return tourJson(cancelled);
}

/** A property's tours in a range, for its tour calendar (lead names included: the caller reads leads anyway). */
export async function propertyTourCalendar(
  deps: TourDeps,
  workspaceId: string,
  propertyId: string,
  query: { from?: string; to?: string; include_cancelled?: boolean },
) {
  const property = await propertyTours(deps, workspaceId, propertyId);
  const range = rangeOf(query.from, query.to);
  const tours = await listPropertyTours(deps.pool, workspaceId, propertyId, {
    ...range,
    includeCancelled: query.include_cancelled ?? false,
  });
  return {
    ...tourSettingsJson(property),
    from: range.from.toISOString(),
    to: range.to.toISOString(),
    tours: tours.map((t) => ({
      ...tourJson(t),
      lead_name: [t.first_name, t.last_name].filter(Boolean).join(' ') || null,
      lead_status: t.lead_status,
    })),
  };
}
