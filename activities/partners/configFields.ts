// Config fields several partners share, so their setup forms (JSON Schema from these zod schemas) read alike.
import { z } from 'zod';
import { STATUSES, type LeadStatus } from '../../shared/lifecycle';

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
