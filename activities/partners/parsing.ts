// Body parsing shared by adapters: JSON and form bodies, zod validation into our error shape (400 naming
// every bad field), partner vocabularies checked up front (422), and small field helpers.
import { z } from 'zod';
import { AppError } from '../../shared/errors';
import { partnerValues, toCanonical, type PartnerName } from '../../shared/lifecycle';
import type { InboundRequest } from './types';

export function jsonBody(request: InboundRequest): unknown {
  try {
    return JSON.parse(request.rawBody.toString('utf8'));
  } catch {
    throw new AppError('validation_failed', 'request body is not valid JSON', {
      fields: [{ field: 'body', message: 'invalid JSON' }],
    });
  }
}

/** An application/x-www-form-urlencoded body as name → value (repeated names keep the last value). */
export function formBody(request: InboundRequest): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(request.rawBody.toString('utf8')));
}

/** Validates with zod, or throws a 400 naming every bad field (the shape of `parse()` in services/common/http). */
export function validate<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const fields = result.error.issues.map((issue) => ({
    field: issue.path.length ? issue.path.join('.') : 'body',
    message: issue.message,
  }));
  const named = [...new Set(fields.map((f) => f.field))].join(', ');
  throw new AppError('validation_failed', `invalid body: ${named}`, { fields });
}

/** A 422 naming the field when the partner's status word is not in its vocabulary (never a silent default). */
export function requireKnownStatus(partner: PartnerName, value: string, field: string): void {
  if (toCanonical(partner, value) !== undefined) return;
  const allowed = partnerValues(partner);
  throw new AppError(
    'unknown_partner_value',
    `${partner} sent status "${value}", which is not one of its statuses: ${allowed.join(', ')}`,
    { partner, value, allowed, fields: [{ field, message: `not one of ${allowed.join(', ')}` }] },
  );
}

const isoDateTime = z.iso.datetime({ offset: true });

/** An ISO-8601 time with offset, normalized to UTC ISO; a date that does not exist is refused (one issue). */
export const isoTime = z
  .string()
  .max(64)
  .transform((value, ctx) => {
    if (!isoDateTime.safeParse(value).success || Number.isNaN(Date.parse(value))) {
      ctx.addIssue({
        code: 'custom',
        message: 'an ISO 8601 date and time with offset, e.g. 2025-03-04T15:22:10Z',
      });
      return z.NEVER;
    }
    return new Date(value).toISOString();
  });

/** Unix milliseconds (number or numeric string) as ISO. */
export const epochMillis = z.coerce
  .number()
  .int()
  .min(0)
  .max(8.64e15)
  .transform((value) => new Date(value).toISOString());

export const text = (max = 500) => z.string().max(max);
export const id = z.string().min(1).max(200);

/** "Ada Lovelace" → first and last name (everything after the first space is the last name). */
export function splitName(name: string | undefined | null): { firstName?: string; lastName?: string } {
  const trimmed = name?.trim();
  if (!trimmed) return {};
  const space = trimmed.indexOf(' ');
  return space < 0
    ? { firstName: trimmed }
    : { firstName: trimmed.slice(0, space), lastName: trimmed.slice(space + 1).trim() };
}

/** The Standard Webhooks message id: stable across the sender's retries, so it is the dedupe key. */
export function standardWebhookId(request: InboundRequest): string {
  return request.headers['webhook-id'] ?? '';
}

/** Drops undefined values so stored JSON and zod outputs stay tidy. */
export function compact<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined && v !== null)) as T;
}
