// One interface for every notification channel (email, SMS, Slack): a message in, a provider id out, and
// errors that say whether trying again can help.
export type ChannelName = 'email' | 'sms' | 'slack';

export type Priority = 'low' | 'medium' | 'high' | 'urgent';

export interface OutboundMessage {
  /** The delivery's idempotency key: the same key is the same message. */
  key: string;
  /** An email address, an E.164 phone number or a Slack incoming-webhook URL. */
  to: string;
  subject: string;
  text: string;
  html?: string;
  priority: Priority;
  /** Where staff open the lead. */
  link?: string;
  /** Signed one-click unsubscribe URL (prospect email). */
  unsubscribeUrl?: string;
  /** Where the provider posts this message's delivery status (SMS: the workspace's Twilio webhook URL). */
  statusCallbackUrl?: string;
}

export interface SendResult {
  providerId?: string;
}

export interface Channel {
  readonly name: ChannelName;
  send(message: OutboundMessage): Promise<SendResult>;
}

/**
 * A failed send. `retryable` false means no retry can succeed (a bad address, an archived channel, an
 * opted-out recipient): record it and alert, don't loop. `retryAfterMs` honours the provider's Retry-After.
 */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly code: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

/** Retry-After in seconds or as an HTTP date, in milliseconds from now. */
export function retryAfterMs(header: string | undefined | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined;
}
