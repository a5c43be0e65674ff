// Date ranges of queries and analytics: a bare date means that whole day in the workspace's time zone.
import { DateTime } from 'luxon';

export interface Range {
  /** Inclusive start, ISO instant. */
  from: string;
  /** Exclusive end, ISO instant. */
  to: string;
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** Start of a bare date in the zone, or the instant itself. */
function instant(value: string, zone: string, endOfDay: boolean): DateTime {
  if (DATE_ONLY.test(value)) {
    const day = DateTime.fromISO(value, { zone }).startOf('day');
    return endOfDay ? day.plus({ days: 1 }) : day;
  }
  return DateTime.fromISO(value, { setZone: true });
}

/**
 * `[from, to)` as instants. A bare `to_date` includes that whole day. Without `from`, the range starts
 * `defaultDays` before its end (or at the epoch when `defaultDays` is undefined); without `to`, it ends now.
 */
export function resolveRange(
  args: { from?: string; to?: string; zone: string; defaultDays?: number },
  now: Date = new Date(),
): Range {
  const to = args.to ? instant(args.to, args.zone, true) : DateTime.fromJSDate(now);
  const from = args.from
    ? instant(args.from, args.zone, false)
    : args.defaultDays === undefined
      ? DateTime.fromMillis(0)
      : to.minus({ days: args.defaultDays });
  return { from: from.toUTC().toISO()!, to: to.toUTC().toISO()! };
}
