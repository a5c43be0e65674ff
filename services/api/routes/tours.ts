// Tour self-scheduling (seed 002 calendar integration): a property's tour settings and free slots, its tour
// calendar, and a lead's booked tour (book, read, cancel).
import { z } from 'zod';
import { TourHoursSchema, TourSettingsBody } from '../../../shared/tours';
import {
  bookTour,
  cancelTour,
  changeTourSettings,
  leadTour,
  propertyTourCalendar,
  tourSettings,
  tourSlots,
  type TourDeps,
} from '../../../usecases/tours';
import { endpoint } from '../../common/endpoints';
import { principal } from '../auth';
import { isoDate, resourceId, time, uuid } from '../schemas';

const tag = 'tours';
const PropertyPath = z.object({ id: resourceId });
const LeadPath = z.object({ id: uuid });
const Range = z.object({
  from: isoDate.optional().meta({ description: 'default now' }),
  to: isoDate.optional().meta({ description: 'default two weeks after from; at most 31 days after it' }),
});

const TourSettings = z
  .object({
    property_id: z.string(),
    timezone: z.string(),
    tour_hours: TourHoursSchema.nullable().meta({ description: 'null: no self-scheduled tours' }),
    tour_slot_minutes: z.number().int(),
    tour_capacity: z.number().int(),
    tour_notice_minutes: z.number().int(),
  })
  .meta({ id: 'TourSettings' });

const Slot = z.object({ start: time, end: time, available: z.number().int() });
const TourSlots = z
  .object({
    property_id: z.string(),
    timezone: z.string(),
    from: time,
    to: time,
    slot_minutes: z.number().int(),
    capacity: z.number().int(),
    self_scheduling: z.boolean(),
    busy_source: z
      .string()
      .nullable()
      .meta({ description: 'google_calendar when its busy time was taken out' }),
    slots: z.array(Slot),
  })
  .meta({ id: 'TourSlots' });

const Tour = z
  .object({
    id: z.uuid(),
    lead_id: z.uuid(),
    property_id: z.string(),
    start: time,
    end: time,
    seat: z.number().int(),
    status: z.string(),
    cancel_reason: z.string().nullable(),
    created_at: time,
    updated_at: time,
  })
  .meta({ id: 'Tour' });

const actor = z.string().min(1).max(200).optional();

export function tourEndpoints(deps: TourDeps) {
  const workspaceOf = (req: Parameters<typeof principal>[0]) => principal(req).workspaceId;
  // The dashboard and integrations call with an API key; a named actor is recorded as staff, else the key's label.
  const who = (name: string | undefined, req: Parameters<typeof principal>[0]) =>
    name
      ? { source: 'staff' as const, actor: name }
      : { source: 'api' as const, actor: principal(req).label };
  return [
    endpoint({
      method: 'get',
      path: '/api/v1/properties/:id/tour-settings',
      tag,
      summary: 'A property’s tour hours, slot length, capacity per slot and notice',
      permission: 'read',
      params: PropertyPath,
      responses: { 200: { description: 'tour settings', schema: TourSettings } },
      async handler({ params, req }) {
        return tourSettings(deps, workspaceOf(req), params.id);
      },
    }),
    endpoint({
      method: 'patch',
      path: '/api/v1/properties/:id/tour-settings',
      tag,
      summary: 'Change a property’s tour settings (tour_hours null turns self-scheduling off)',
      permission: 'admin',
      params: PropertyPath,
      body: TourSettingsBody.refine((body) => Object.keys(body).length > 0, {
        message: 'nothing to update',
        path: ['body'],
      }),
      responses: { 200: { description: 'changed', schema: TourSettings } },
      async handler({ params, body, req }) {
        return changeTourSettings(deps, workspaceOf(req), params.id, {
          ...(body.tour_hours !== undefined ? { hours: body.tour_hours } : {}),
          ...(body.tour_slot_minutes !== undefined ? { slotMinutes: body.tour_slot_minutes } : {}),
          ...(body.tour_capacity !== undefined ? { capacity: body.tour_capacity } : {}),
          ...(body.tour_notice_minutes !== undefined ? { noticeMinutes: body.tour_notice_minutes } : {}),
        });
      },
    }),
    endpoint({
      method: 'get',
      path: '/api/v1/properties/:id/tour-slots',
      tag,
      summary:
        'Free tour slots: tour hours minus booked tours minus busy time of a connected Google Calendar',
      description:
        '503 when the connected calendar cannot be read: slots offered without it could be double-booked.',
      permission: 'read',
      params: PropertyPath,
      query: Range,
      responses: { 200: { description: 'free slots', schema: TourSlots } },
      async handler({ params, query, req }) {
        return tourSlots(deps, workspaceOf(req), params.id, query);
      },
    }),
    endpoint({
      method: 'get',
      path: '/api/v1/properties/:id/tours',
      tag,
      summary: 'A property’s tour calendar: booked tours in a range with their leads',
      permission: 'read',
      params: PropertyPath,
      query: Range.extend({
        include_cancelled: z
          .enum(['true', 'false'])
          .transform((v) => v === 'true')
          .optional(),
      }),
      responses: {
        200: {
          description: 'the calendar',
          schema: TourSettings.extend({
            from: time,
            to: time,
            tours: z.array(
              Tour.extend({ lead_name: z.string().nullable(), lead_status: z.string() }).loose(),
            ),
          }),
        },
      },
      async handler({ params, query, req }) {
        return propertyTourCalendar(deps, workspaceOf(req), params.id, query);
      },
    }),
    endpoint({
      method: 'post',
      path: '/api/v1/leads/:id/tour',
      tag,
      summary: 'Book a tour slot for a lead: its journey moves to tour_scheduled with its reminders',
      description:
        'start must be a free slot’s start. A full slot (two leads racing for its last place: one wins) or one the calendar shows busy is 409 slot_taken with details.next, the next free slots; a start that is no slot is 400 with them too. Booking again reschedules.',
      permission: 'update',
      params: LeadPath,
      body: z
        .object({
          start: z.iso.datetime({ offset: true }),
          property_id: resourceId.optional().meta({ description: 'only for a lead without a property' }),
          actor,
        })
        .strict(),
      responses: {
        201: {
          description: 'booked',
          schema: Tour.extend({ rescheduled_from: time.nullable() }),
        },
      },
      async handler({ params, body, req }) {
        const { actor: name, ...booking } = body;
        return bookTour(deps, workspaceOf(req), params.id, booking, who(name, req));
      },
    }),
    endpoint({
      method: 'get',
      path: '/api/v1/leads/:id/tour',
      tag,
      summary: 'The lead’s booked self-scheduled tour, or null',
      permission: 'read',
      params: LeadPath,
      responses: { 200: { description: 'the tour', schema: z.object({ tour: Tour.nullable() }) } },
      async handler({ params, req }) {
        return leadTour(deps, workspaceOf(req), params.id);
      },
    }),
    endpoint({
      method: 'delete',
      path: '/api/v1/leads/:id/tour',
      tag,
      summary: 'Cancel the lead’s upcoming tour: the seat is freed, the journey goes back to qualified',
      permission: 'update',
      params: LeadPath,
      body: z.object({ reason: z.string().min(1).max(500).optional(), actor }).strict(),
      bodyOptional: true,
      responses: { 200: { description: 'cancelled', schema: Tour } },
      async handler({ params, body, req }) {
        return cancelTour(deps, workspaceOf(req), params.id, body, who(body.actor, req));
      },
    }),
  ];
}
