// Outbound webhooks as data: the event types an endpoint may subscribe to, the retry schedule and when a
// failing endpoint is disabled. Imported by workflow code: no Node modules here.

/** Events leadrelay sends (Standard Webhooks payload `{ type, timestamp, data }`). */
export const WEBHOOK_EVENT_TYPES = [
  'lead.created',
  'lead.status_changed',
  'conversion.logged',
  'contact.conversion_updated',
  'referral_fee.created',
  'referral_fee.status_changed',
  'notification.failed',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Sent by `POST /webhook-endpoints/:id/test` to that endpoint only, whatever it subscribes to. */
export const TEST_EVENT_TYPE = 'webhook.test';

/** Subscribes to every event type, including ones added later. */
export const ALL_EVENTS = '*';

/**
 * Seconds to wait before each retry after a failed attempt (the Standard Webhooks reference schedule):
 * 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h — eight attempts over about 28 hours.
 */
export const RETRY_SCHEDULE_SECONDS: readonly number[] = [5, 300, 1800, 7200, 18000, 36000, 36000];

/** A Retry-After longer than this is capped: the schedule, not the receiver, bounds the wait. */
export const MAX_RETRY_AFTER_SECONDS = 36000;

/** An endpoint failing every attempt for this long (no success in between) is disabled and its owner told. */
export const DISABLE_AFTER_FAILING_MS = 5 * 24 * 3600 * 1000;

/** How long a rotated-out secret still signs (beside the new one) so receivers can switch without a gap. */
export const PREVIOUS_SECRET_HOURS = 24;

/** The wait before the next attempt: the schedule's, or longer when the receiver asked (Retry-After), capped. */
export function retryDelaySeconds(scheduled: number, retryAfterSeconds?: number): number {
  if (retryAfterSeconds === undefined || !(retryAfterSeconds > scheduled)) return scheduled;
  return Math.min(retryAfterSeconds, MAX_RETRY_AFTER_SECONDS);
}
