// The notification channels the configuration enables: email when SMTP_URL is set (the start command
// sets it to the local mailbox), SMS when the Twilio variables are set, Slack always (per-recipient URLs).
import type { ActivityDeps } from '../../activities';
import { createEmailChannel } from '../../activities/notify/email';
import { createSlackChannel } from '../../activities/notify/slack';
import { createSmsChannel } from '../../activities/notify/sms';
import { publicUrls, smsConfigured, type Config } from '../../shared/config';

export function channelsFromConfig(config: Config): Omit<ActivityDeps, 'pool'> {
  const urls = publicUrls(config);
  return {
    channels: {
      ...(config.SMTP_URL
        ? { email: createEmailChannel({ smtpUrl: config.SMTP_URL, from: config.MAIL_FROM }) }
        : {}),
      ...(smsConfigured(config)
        ? {
            sms: createSmsChannel({
              accountSid: config.TWILIO_ACCOUNT_SID!,
              authToken: config.TWILIO_AUTH_TOKEN!,
              from: config.TWILIO_FROM!,
              apiBaseUrl: config.TWILIO_API_BASE_URL,
            }),
          }
        : {}),
      slack: createSlackChannel(),
    },
    defaultSlackWebhookUrl: config.SLACK_WEBHOOK_URL,
    apiUrl: urls.api,
    ingestUrl: urls.ingest,
  };
}
