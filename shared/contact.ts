// Normalized contact identities: how one person is recognised across sources.
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import { z } from 'zod';

export function normalizeEmail(email: string | undefined | null): string | undefined {
  const trimmed = email?.trim().toLowerCase();
  return trimmed ? trimmed : undefined;
}

/** E.164 form of a phone number (default region US), or undefined when it is not a valid number. */
export function toE164(
  phone: string | undefined | null,
  defaultCountry: CountryCode = 'US',
): string | undefined {
  if (!phone?.trim()) return undefined;
  const parsed = parsePhoneNumberFromString(phone.trim(), defaultCountry);
  return parsed?.isValid() ? parsed.number : undefined;
}

/** A phone number field for request schemas: any form libphonenumber reads as a valid (US-default) number. */
export const phoneField = z
  .string()
  .max(40)
  .refine((value) => toE164(value) !== undefined, 'not a valid phone number');
