// Local wall-clock time in a named time zone, as a pure function of an instant: what time-of-day rule conditions
// compare. Computed from the zone's name at each decision (never from an offset fixed earlier), so a window
// like 09:00-17:00 keeps meaning 9 to 5 across a daylight-saving change. Safe in the workflow sandbox (Intl only).

const formats = new Map<string, Intl.DateTimeFormat | null>();

function formatFor(zone: string): Intl.DateTimeFormat | null {
  let format = formats.get(zone);
  if (format === undefined) {
    try {
      format = new Intl.DateTimeFormat('en-US', {
        timeZone: zone,
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      });
    } catch {
      format = null; // not a zone this runtime knows: UTC below
    }
    formats.set(zone, format);
  }
  return format;
}

/** Minutes since local midnight in `zone` at the instant `at` (ISO); UTC when the zone is unknown. */
export function localMinutes(at: string, zone: string): number {
  const instant = new Date(Date.parse(at));
  const format = formatFor(zone);
  if (!format) return instant.getUTCHours() * 60 + instant.getUTCMinutes();
  let hour = 0;
  let minute = 0;
  for (const part of format.formatToParts(instant)) {
    if (part.type === 'hour') hour = Number(part.value) % 24;
    if (part.type === 'minute') minute = Number(part.value);
  }
  return hour * 60 + minute;
}
