// Quiet hours for prospect-facing messages: the default window and the stricter US state windows, as data,
// and the next moment a message may go out in a time zone.
import { DateTime } from 'luxon';

export interface Window {
  /** First allowed hour (inclusive) and the hour sending stops (exclusive), local time. */
  start: number;
  end: number;
}

export const DEFAULT_WINDOW: Window = { start: 8, end: 21 };

/** States whose telemarketing rules are stricter than the default window. */
export const STATE_WINDOWS: Record<string, Window> = {
  FL: { start: 8, end: 20 },
  OK: { start: 8, end: 20 },
  MD: { start: 8, end: 20 },
  MS: { start: 8, end: 20 },
  NJ: { start: 8, end: 20 },
  CT: { start: 9, end: 20 },
};

export function windowFor(usState: string | null | undefined): Window {
  return (usState && STATE_WINDOWS[usState.toUpperCase()]) || DEFAULT_WINDOW;
}

/** `at` itself when it falls inside the window in `zone`, else the next window's opening. */
export function nextAllowed(at: Date, zone: string, window: Window): Date {
  const local = DateTime.fromJSDate(at).setZone(zone);
  if (!local.isValid) return at;
  if (local.hour >= window.start && local.hour < window.end) return at;
  const opening = local.set({ hour: window.start, minute: 0, second: 0, millisecond: 0 });
  return (local.hour < window.start ? opening : opening.plus({ days: 1 })).toJSDate();
}
