// Email through nodemailer over SMTP (the local mailbox by default), with text and HTML parts and the
// one-click unsubscribe headers (RFC 8058) for prospect mail.
import { createHash } from 'node:crypto';
import nodemailer, { type Transporter } from 'nodemailer';
import { DeliveryError, type Channel, type OutboundMessage, type SendResult } from './channel';

export function createEmailChannel(options: { smtpUrl: string; from: string }): Channel & { close(): void } {
  // Bounded waits (nodemailer's defaults allow minutes): a send ends well within the activity's timeout and
  // the delivery's claim (deliver.ts), so a timed-out attempt never sends beside its retry.
  const transport: Transporter = nodemailer.createTransport({
    url: options.smtpUrl,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
  return {
    name: 'email',
    async send(message: OutboundMessage): Promise<SendResult> {
      // The same delivery always carries the same Message-ID, so a resend after a crash is recognisable.
      const messageId = `<${createHash('sha256').update(message.key).digest('hex').slice(0, 32)}@leadrelay>`;
      const headers: Record<string, string> = { 'X-Priority': message.priority === 'urgent' ? '1' : '3' };
      if (message.unsubscribeUrl) {
        headers['List-Unsubscribe'] = `<${message.unsubscribeUrl}>`;
        headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
      }
      try {
        const info = await transport.sendMail({
          from: options.from,
          to: message.to,
          subject: message.subject,
          text: message.text,
          html: message.html,
          messageId,
          headers,
        });
        return { providerId: info.messageId };
      } catch (error) {
        const e = error as { responseCode?: number; code?: string; message?: string };
        // 5xx is the server's final no (bad mailbox, rejected); connection trouble and 4xx may pass later.
        const permanent = typeof e.responseCode === 'number' && e.responseCode >= 500;
        throw new DeliveryError(
          `email to ${message.to} failed: ${e.message}`,
          !permanent,
          e.code ?? `smtp_${e.responseCode ?? 'error'}`,
        );
      }
    },
    close: () => transport.close(),
  };
}
