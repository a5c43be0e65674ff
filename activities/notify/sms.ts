// SMS through the `twilio` package; TWILIO_API_BASE_URL points it at a sandbox (tests, demo) by
// rewriting the host of every request the SDK makes.
import twilio from 'twilio';
import { DeliveryError, retryAfterMs, type Channel, type OutboundMessage, type SendResult } from './channel';

/** Twilio's code for a recipient who replied STOP: final, and the lead is opted out. */
export const TWILIO_OPTED_OUT = 21610;

export function createSmsChannel(options: {
  accountSid: string;
  authToken: string;
  from: string;
  apiBaseUrl?: string;
  statusCallbackUrl?: string;
}): Channel {
  const base = options.apiBaseUrl ? new URL(options.apiBaseUrl) : undefined;
  // 30 s per request: a send ends well within the activity's timeout and the delivery's claim (deliver.ts).
  const requestClient = new twilio.RequestClient({ timeout: 30_000 });
  const sender = options.from.startsWith('MG')
    ? { messagingServiceSid: options.from }
    : { from: options.from };
  /**
   * A client per send whose HTTP client points the SDK at a sandbox when asked and remembers this call's
   * Retry-After (the SDK's errors drop the response headers).
   */
  const clientFor = (seen: { retryAfter?: string }) =>
    twilio(options.accountSid, options.authToken, {
      httpClient: {
        request: async (opts: Parameters<typeof requestClient.request>[0]) => {
          const uri = new URL(opts.uri);
          if (base) {
            uri.protocol = base.protocol;
            uri.host = base.host;
          }
          const response = await requestClient.request({ ...opts, uri: uri.toString() });
          const headers = (response.headers ?? {}) as Record<string, string>;
          seen.retryAfter = headers['retry-after'];
          return response;
        },
      } as never,
    });
  return {
    name: 'sms',
    async send(message: OutboundMessage): Promise<SendResult> {
      const seen: { retryAfter?: string } = {};
      const statusCallback = message.statusCallbackUrl ?? options.statusCallbackUrl;
      try {
        const sent = await clientFor(seen).messages.create({
          to: message.to,
          body: message.text,
          ...sender,
          // Per message: the sending workspace's Twilio webhook; the channel-wide URL only as a fallback.
          ...(statusCallback ? { statusCallback } : {}),
        });
        return { providerId: sent.sid };
      } catch (error) {
        const e = error as {
          status?: number;
          code?: number;
          message?: string;
          headers?: Record<string, string>;
        };
        if (e.code === TWILIO_OPTED_OUT) {
          throw new DeliveryError(`${message.to} has opted out of SMS`, false, 'opted_out');
        }
        const status = e.status ?? 0;
        const retryable = status === 0 || status === 429 || status >= 500;
        throw new DeliveryError(
          `SMS to ${message.to} failed: ${e.message ?? 'no answer'}`,
          retryable,
          e.code ? `twilio_${e.code}` : `http_${status}`,
          status === 429 ? retryAfterMs(seen.retryAfter) : undefined,
        );
      }
    },
  };
}
