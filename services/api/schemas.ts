// zod pieces shared by the api's routes: ids, dates, comma-separated lists, the error body, pages, not found.
import { z } from 'zod';
import { AppError } from '../../shared/errors';
import { isUuid } from '../../shared/ids';
import { STATUSES } from '../../shared/lifecycle';

export const uuid = z.uuid();

export const slug = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only');

export const resourceId = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits and _ . : - only');

/** An ISO date-time with offset, or a bare date (a whole day in the workspace's time zone). */
export const isoDate = z.iso.datetime({ offset: true }).or(z.iso.date());

/** `a,b,c` in a query string, each checked against the enum. */
export function csvList<const T extends readonly [string, ...string[]]>(values: T) {
  return z
    .string()
    .transform((value) => value.split(',').filter(Boolean))
    .pipe(z.array(z.enum(values)).min(1))
    .meta({ description: `comma-separated: ${values.join(', ')}` });
}

/** `?format=` of a list: json (a page, the default), or csv / xlsx (every row the filters select, streamed). */
export const exportFormat = z
  .enum(['json', 'csv', 'xlsx'])
  .optional()
  .meta({ description: 'json (default: a page), csv or xlsx (every row the filters select, streamed)' });

export const ErrorBody = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      details: z.record(z.string(), z.unknown()),
    }),
  })
  .meta({ id: 'Error' });

// Pieces of answer shapes.
export const time = z.iso.datetime({ offset: true });
export const json = z.record(z.string(), z.unknown());
export const status = z.enum(STATUSES);

export const IDEMPOTENCY_KEY = {
  name: 'Idempotency-Key',
  description: 'Repeating a request with the same key applies it once and answers the first result.',
};

/** A workspace id in a body or query may only name the caller's own workspace; any other is not found. */
export function ownWorkspace(callerWorkspaceId: string, named: string | undefined): void {
  if (named !== undefined && named !== callerWorkspaceId) {
    throw new AppError('not_found', `workspace ${named} not found`);
  }
}

/** The value, or a 404 naming what was asked for (`lead 123`) when there is none (or a delete found none). */
export function found<T>(value: T | undefined | false, what: string): T {
  if (value === undefined || value === false) throw new AppError('not_found', `${what} not found`);
  return value;
}

/** The row a path id names (an id that is no UUID names none), or a 404 naming what was asked for. */
export async function byId<T>(
  id: string,
  what: string,
  load: (id: string) => Promise<T | undefined | false>,
): Promise<T> {
  return found(isUuid(id) ? await load(id) : undefined, `${what} ${id}`);
}

/** Keyset pages: the rows fetched with limit + 1, cut to the limit, and the cursor of the next page. */
export function paged<T>(rows: T[], limit: number, cursorOf: (last: T) => Record<string, string>) {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  const next = rows.length > limit && last ? cursorOf(last) : undefined;
  return { page, next_cursor: next ? Buffer.from(JSON.stringify(next)).toString('base64url') : null };
}

/** A cursor `paged` gave out, over (a time, a row id); a forged or damaged one is a field error. */
export function readCursor<K extends string>(
  cursor: string | undefined,
  timeKey: K,
): Record<K | 'id', string> | undefined {
  if (cursor === undefined) return undefined;
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as Record<string, unknown>;
    const at = value[timeKey];
    if (typeof at === 'string' && !Number.isNaN(Date.parse(at)) && uuid.safeParse(value.id).success) {
      return value as Record<K | 'id', string>;
    }
  } catch {
    // Reported below as a field error.
  }
  throw new AppError('validation_failed', 'invalid query: cursor', {
    fields: [{ field: 'cursor', message: 'not a cursor returned by this API' }],
  });
}
