// Staff notifications to Slack through incoming webhooks (`@slack/webhook`), as Block Kit with a plain
// `text` fallback. 429 retries after Retry-After; other 4xx are a misconfigured channel: final.
import { IncomingWebhook } from '@slack/webhook';
import { RECEIVER_ANSWER_LIMIT, capAnswer, egressRefusalOf, guardedFetch } from '../egress';
import { DeliveryError, retryAfterMs, type Channel, type OutboundMessage, type SendResult } from './channel';

const PRIORITY_EMOJI = {
  low: ':white_circle:',
  medium: ':large_blue_circle:',
  high: ':large_orange_circle:',
  urgent: ':red_circle:',
};

/**
 * Text for mrkdwn with Slack's three control characters escaped: values from leads and partners (a name
 * `<!channel>`, a disguised `<https://evil|bank>` link) stay inert text. Our templates carry no mrkdwn links.
 */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function slackBlocks(message: OutboundMessage): unknown[] {
  return [
    { type: 'header', text: { type: 'plain_text', text: message.subject.slice(0, 150) } },
    { type: 'section', text: { type: 'mrkdwn', text: escapeMrkdwn(message.text.slice(0, 3000)) } },
    {
      type: 'context',
      elements: [
        { type: 'mrkdwn', text: `${PRIORITY_EMOJI[message.priority]} priority *${message.priority}*` },
      ],
    },
    ...(message.link
      ? [
          {
            type: 'actions',
            elements: [
              { type: 'button', text: { type: 'plain_text', text: 'Open lead' }, url: message.link },
            ],
          },
        ]
      : []),
  ];
}

export function createSlackChannel(options: { timeoutMs?: number } = {}): Channel {
  return {
    name: 'slack',
    async send(message: OutboundMessage): Promise<SendResult> {
      // The library's errors drop response headers: keep this call's Retry-After ourselves.
      let retryAfter: string | null = null;
      const webhook = new IncomingWebhook(message.to, {
        timeout: options.timeoutMs ?? 10_000,
        fetch: async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
          const response = await guardedFetch(input, init);
          retryAfter = response.headers.get('retry-after');
          return capAnswer(response, RECEIVER_ANSWER_LIMIT);
        },
      } as never);
      try {
        await webhook.send({
          text: escapeMrkdwn(`${message.subject}\n${message.text}`),
          blocks: slackBlocks(message) as never,
        });
        return {};
      } catch (error) {
        const refused = egressRefusalOf(error);
        if (refused) throw new DeliveryError(`Slack webhook: ${refused.message}`, false, 'egress_refused');
        const e = error as { statusCode?: number; body?: string; message?: string };
        const status = e.statusCode ?? 0;
        const body = typeof e.body === 'string' ? e.body.trim() : '';
        const retryable = status === 0 || status === 429 || status >= 500;
        throw new DeliveryError(
          `Slack webhook failed: ${status || 'no answer'} ${body || e.message}`,
          retryable,
          body || `http_${status}`,
          retryAfterMs(retryAfter),
        );
      }
    },
  };
}
