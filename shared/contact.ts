// Normalized contact identities: how one person is recognised across sources. Every door a contact comes in by
// (the API, each partner adapter, polls, imports) goes through these functions: the request schemas' fields
// below, and `normalizeContact` in create-or-match, so " Dana@Example.com " matches dana@example.com everywhere.
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import { z } from 'zod';

/** Spaces (also non-breaking and zero-width ones) that forms and partner exports leave around a value. */
const EDGE_SPACE = /^(?:\s|\u200b|\u200c|\u200d|\u2060|\ufeff)+|(?:\s|\u200b|\u200c|\u200d|\u2060|\ufeff)+$/g;

/** The value without the spaces around it; undefined when nothing is left. */
export function trimContactText(value: string | undefined | null): string | undefined {
  const trimmed = value?.replace(EDGE_SPACE, '');
  return trimmed ? trimmed : undefined;
}

/** The matching key of an email: trimmed and lower-cased. */
export function normalizeEmail(email: string | undefined | null): string | undefined {
  return trimContactText(email)?.toLowerCase();
}

/** E.164 form of a phone number (default region US), or undefined when it is not a valid number. */
export function toE164(
  phone: string | undefined | null,
  defaultCountry: CountryCode = 'US',
): string | undefined {
  const trimmed = trimContactText(phone);
  if (!trimmed) return undefined;
  const parsed = parsePhoneNumberFromString(trimmed, defaultCountry);
  return parsed?.isValid() ? parsed.number : undefined;
}

const emailFormat = z.email();

export interface NormalizedContact {
  /** The email as given, trimmed; absent when it is not an email address. */
  email?: string;
  /** Its matching key (lower case). */
  emailKey?: string;
  /** The phone in E.164 when it is a valid number, else as given (trimmed): a number we cannot read is kept. */
  phone?: string;
  /** The E.164 matching key; absent when the number is not valid. */
  phoneE164?: string;
}

/** The one normalization of a contact's email and phone, whatever door it came in by. */
export function normalizeContact(input: { email?: string | null; phone?: string | null }): NormalizedContact {
  const result: NormalizedContact = {};
  const email = trimContactText(input.email);
  if (email && emailFormat.safeParse(email).success) {
    result.email = email;
    result.emailKey = email.toLowerCase();
  }
  const phone = trimContactText(input.phone);
  if (phone) {
    const e164 = toE164(phone);
    result.phone = e164 ?? phone;
    if (e164) result.phoneE164 = e164;
  }
  return result;
}

/** An email field for request schemas: trimmed first, then checked (a trailing space is not an error). */
export const emailField = z
  .string()
  .max(400)
  .transform((value) => trimContactText(value) ?? '')
  .pipe(z.email().max(320));

/** A phone number field for request schemas: trimmed, any form libphonenumber reads as valid, kept as E.164. */
export const phoneField = z
  .string()
  .max(60)
  .transform((value, ctx) => {
    const e164 = toE164(value);
    if (e164) return e164;
    ctx.addIssue({ code: 'custom', message: 'not a valid phone number' });
    return z.NEVER;
  });
