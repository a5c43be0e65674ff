// IANA time zones as every input takes them (workspace, property, a lead's custom_data.timezone): checked once at
// the edge, so no report or notification later fails on a zone that cannot be.
import { z } from 'zod';

/** Whether the runtime knows the zone (IANA names, e.g. America/Chicago; UTC). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export const TIME_ZONE_MESSAGE = 'not an IANA time zone, e.g. America/Chicago';

export const TimeZone = z.string().max(100).refine(isTimeZone, TIME_ZONE_MESSAGE);

/** A lead's custom_data: free JSON, but a `timezone` in it must be a time zone (notifications read it). */
export const CustomData = z
  .record(z.string(), z.unknown())
  .refine(
    (data) => data.timezone === undefined || (typeof data.timezone === 'string' && isTimeZone(data.timezone)),
    {
      message: TIME_ZONE_MESSAGE,
      path: ['timezone'],
    },
  );
