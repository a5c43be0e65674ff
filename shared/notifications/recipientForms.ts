// The recipients each notification method takes, checked the same on create and on change of a preference.
import { z } from 'zod';
import type { NotificationMethod } from './recipients';

export const NOTIFICATION_METHODS = [
  'email',
  'sms',
  'slack',
  'in_app',
] as const satisfies readonly NotificationMethod[];

export const RECIPIENT_FORMS: Record<NotificationMethod, { test: (r: string) => boolean; expected: string }> =
  {
    email: {
      test: (r) => r === 'prospect' || z.email().safeParse(r).success,
      expected: 'an email address or "prospect"',
    },
    sms: {
      test: (r) => r === 'prospect' || /^\+[1-9]\d{6,14}$/.test(r),
      expected: 'an E.164 phone number or "prospect"',
    },
    slack: {
      test: (r) => r === 'default' || /^https?:\/\/\S+$/.test(r),
      expected: 'a Slack incoming-webhook URL or "default"',
    },
    in_app: { test: (r) => /^[A-Za-z0-9_.@-]{1,100}$/.test(r), expected: 'a user id' },
  };

/** The recipients that do not fit the method: their index and what they must be. */
export function recipientIssues(method: string, recipients: unknown[]): { index: number; message: string }[] {
  const form = RECIPIENT_FORMS[method as NotificationMethod];
  if (!form) return [];
  return recipients.flatMap((recipient, index) =>
    typeof recipient === 'string' && !form.test(recipient)
      ? [{ index, message: `must be ${form.expected}` }]
      : [],
  );
}
