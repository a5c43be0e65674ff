// zod pieces shared by the api's routes: ids, dates, comma-separated lists, the error body.
import { z } from 'zod';
import { AppError } from '../../shared/errors';

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

export const ErrorBody = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      details: z.record(z.string(), z.unknown()),
    }),
  })
  .meta({ id: 'Error' });

/** A workspace id in a body or query may only name the caller's own workspace; any other is not found. */
export function ownWorkspace(callerWorkspaceId: string, named: string | undefined): void {
  if (named !== undefined && named !== callerWorkspaceId) {
    throw new AppError('not_found', `workspace ${named} not found`);
  }
}

export function encodeCursor(parts: Record<string, string>): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

export function decodeCursor<K extends string>(cursor: string, keys: K[]): Record<K, string> {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as Record<string, unknown>;
    if (keys.every((key) => typeof value[key] === 'string')) return value as Record<K, string>;
  } catch {
    // Reported below as a field error.
  }
  throw invalidCursor();
}

export function invalidCursor(): AppError {
  return new AppError('validation_failed', 'invalid query: cursor', {
    fields: [{ field: 'cursor', message: 'not a cursor returned by this API' }],
  });
}
