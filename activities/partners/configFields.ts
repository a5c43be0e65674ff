// Config fields several partners share, so their setup forms (JSON Schema from these zod schemas) read alike, and
// the checks an outbound call makes of an integration's config and credentials before any request.
import { z } from 'zod';
import { STATUSES, type LeadStatus, type PartnerName } from '../../shared/lifecycle';
import { PartnerError } from './http';
import type { PartnerConnection } from './types';

/** One optional value per canonical status: a plain object with a field per status, so forms can render it. */
export function perStatus(maxLength: number, describe: (status: LeadStatus) => string) {
  return z
    .object(
      Object.fromEntries(
        STATUSES.map((status) => [
          status,
          z.string().min(1).max(maxLength).optional().describe(describe(status)),
        ]),
      ),
    )
    .strict();
}

/** Minutes between two polls of the partner (the integration's Temporal Schedule). */
export function pollIntervalMinutes(description: string) {
  return z.number().int().min(5).max(1440).default(15).describe(description);
}

/** How far back the first poll of a new integration looks. */
export const pollLookbackHours = z
  .number()
  .int()
  .min(1)
  .max(720)
  .default(24)
  .describe('How far back the first poll looks');

/** The integration's config as the adapter's schema reads it (defaults filled); a final error names what it refuses. */
export function configOf<T extends z.ZodType>(
  partner: PartnerName,
  schema: T,
  connection: PartnerConnection,
) {
  const parsed = schema.safeParse(connection.config);
  if (parsed.success) return parsed.data;
  const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.')))].join(', ');
  throw new PartnerError(partner, 'final', `${partner} config invalid: ${fields}`, { partnerCode: 'config' });
}

/** A final error naming the credentials or config fields a call needs and the integration lacks. */
export function requireFields(partner: PartnerName, kind: 'credentials' | 'config', missing: string[]): void {
  if (missing.length === 0) return;
  throw new PartnerError(partner, 'final', `${partner} ${kind} missing: ${missing.join(', ')}`, {
    partnerCode: `${kind}_missing`,
  });
}
