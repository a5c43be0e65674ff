// Tour self-scheduling as pure functions: a property's tour hours (per weekday, in its time zone), its slot length
// and capacity, and the free slots of a range: tour hours minus booked tours minus busy calendar time.
import { DateTime } from 'luxon';
import { z } from 'zod';

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface TourWindow {
  /** Local `HH:MM`, 24-hour. */
  start: string;
  end: string;
}

export type TourHours = Partial<Record<Weekday, TourWindow[]>>;

export interface TourSettings {
  /** null: the property does not take self-scheduled tours. */
  hours: TourHours | null;
  slotMinutes: number;
  /** Tours that may share one slot (agents giving tours at once). */
  capacity: number;
  /** How far ahead of a slot it can still be booked. */
  noticeMinutes: number;
}

export interface Interval {
  start: string;
  end: string;
}

export interface FreeSlot extends Interval {
  /** Places left in the slot. */
  available: number;
}

/** The widest range one slots question may ask (Google's free/busy refuses long ranges; people look weeks ahead). */
export const MAX_RANGE_DAYS = 31;
/** How far ahead a tour can be booked. */
export const BOOKING_HORIZON_DAYS = 180;

const clock = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a local time HH:MM (24-hour)')
  .or(z.literal('24:00'));

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

export const TourWindowSchema = z
  .object({ start: clock, end: clock })
  .strict()
  .refine((w) => minutesOf(w.end) > minutesOf(w.start), {
    message: 'end must be after start',
    path: ['end'],
  });

export const TourHoursSchema = z
  .object(Object.fromEntries(WEEKDAYS.map((day) => [day, z.array(TourWindowSchema).max(6).optional()])))
  .strict()
  .superRefine((hours, ctx) => {
    for (const [day, windows] of Object.entries(hours)) {
      const sorted = [...((windows as TourWindow[] | undefined) ?? [])].sort(
        (a, b) => minutesOf(a.start) - minutesOf(b.start),
      );
      sorted.slice(1).forEach((w, i) => {
        if (minutesOf(w.start) < minutesOf(sorted[i]!.end)) {
          ctx.addIssue({ code: 'custom', message: 'tour windows of one day must not overlap', path: [day] });
        }
      });
    }
  }) as z.ZodType<TourHours>;

export const TourSettingsBody = z
  .object({
    tour_hours: TourHoursSchema.nullable().optional(),
    tour_slot_minutes: z.number().int().min(10).max(480).optional(),
    tour_capacity: z.number().int().min(1).max(100).optional(),
    tour_notice_minutes: z
      .number()
      .int()
      .min(0)
      .max(14 * 1440)
      .optional(),
  })
  .strict();

/** Every slot that tour hours make between `from` and `to` (starts within the range), in time order. */
export function slotsBetween(settings: TourSettings, zone: string, from: Date, to: Date): Interval[] {
  const hours = settings.hours;
  if (!hours) return [];
  const slots: Interval[] = [];
  const first = DateTime.fromJSDate(from, { zone }).startOf('day');
  const last = DateTime.fromJSDate(to, { zone }).endOf('day');
  for (let day = first; day <= last; day = day.plus({ days: 1 })) {
    const weekday = WEEKDAYS[day.weekday - 1]!;
    // Wall-clock times of that day (a DST change day has 23 or 25 hours).
    const local = (hhmm: string) =>
      hhmm === '24:00'
        ? day.plus({ days: 1 })
        : day.set({ hour: Number(hhmm.slice(0, 2)), minute: Number(hhmm.slice(3, 5)) });
    for (const window of hours[weekday] ?? []) {
      const end = local(window.end);
      for (
        let start = local(window.start);
        start.plus({ minutes: settings.slotMinutes }) <= end;
        start = start.plus({ minutes: settings.slotMinutes })
      ) {
        const at = start.toJSDate();
        if (at < from || at >= to) continue;
        slots.push({
          start: at.toISOString(),
          end: start.plus({ minutes: settings.slotMinutes }).toJSDate().toISOString(),
        });
      }
    }
  }
  return slots.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
}

/**
 * The slots of the range still open: not too soon to book, not full (`booked` counts tours per slot start), and
 * not overlapping busy calendar time.
 */
export function freeSlots(args: {
  settings: TourSettings;
  zone: string;
  from: Date;
  to: Date;
  now: Date;
  booked: ReadonlyMap<string, number>;
  busy: readonly Interval[];
}): FreeSlot[] {
  const earliest = args.now.getTime() + args.settings.noticeMinutes * 60_000;
  const busy = args.busy.map((b) => [Date.parse(b.start), Date.parse(b.end)] as const);
  return slotsBetween(args.settings, args.zone, args.from, args.to).flatMap((slot) => {
    const start = Date.parse(slot.start);
    const end = Date.parse(slot.end);
    if (start < earliest) return [];
    if (busy.some(([b0, b1]) => b0 < end && b1 > start)) return [];
    const available = args.settings.capacity - (args.booked.get(slot.start) ?? 0);
    return available > 0 ? [{ ...slot, available }] : [];
  });
}

/** The slot that starts exactly at `start` under these tour hours, if any. */
export function slotAt(settings: TourSettings, zone: string, start: Date): Interval | undefined {
  const day = new Date(start.getTime() - 36 * 3_600_000);
  const next = new Date(start.getTime() + 36 * 3_600_000);
  return slotsBetween(settings, zone, day, next).find((slot) => Date.parse(slot.start) === start.getTime());
}
