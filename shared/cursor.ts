// Keyset cursors over (a time, a row id): what the api and the what-if hand out, and the one strict reading of
// them, so a forged or damaged cursor is a field error and never reaches Postgres as a value it cannot cast.
import { z } from 'zod';

const CursorTime = z.iso
  .datetime({ offset: true })
  // Postgres refuses what JavaScript still parses (year 0, 30 February): a real row's time is in this range.
  .refine((at) => {
    const ms = Date.parse(at);
    return (
      ms >= 0 && ms < Date.UTC(10_000, 0, 1) && new Date(ms).toISOString().slice(0, 10) === at.slice(0, 10)
    );
  });
const CursorId = z.guid();

export function encodeCursor(value: Record<string, string>): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** The cursor's time (under `timeKey`) and id, or undefined when it is not one this code gave out. */
export function decodeCursor<K extends string>(
  cursor: string,
  timeKey: K,
): Record<K | 'id', string> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString());
  } catch {
    return undefined;
  }
  const parsed = z.object({ [timeKey]: CursorTime, id: CursorId }).safeParse(value);
  return parsed.success ? (parsed.data as Record<K | 'id', string>) : undefined;
}
