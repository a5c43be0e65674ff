// Notifications end to end under time-skipping: preferences pick recipients and channels, email goes to a
// real SMTP server, SMS through the twilio package to the Twilio sandbox, Slack to the Slack sandbox;
// prospect messages wait for quiet hours, an SMS opt-out cancels a waiting SMS, and a worker restart
// between deciding and sending still sends exactly once.
import { randomUUID } from 'node:crypto';
import { createEmailChannel } from '../../activities/notify/email';
import { createSlackChannel } from '../../activities/notify/slack';
import { createSmsChannel } from '../../activities/notify/sms';
import { KeyRing } from '../../shared/crypto';
import { startMailbox, type Mailbox } from '../../infra/local/mailbox';
import { startSlackSandbox, type SlackSandbox } from '../../infra/sandbox/slack';
import { startTwilioSandbox, type TwilioSandbox } from '../../infra/sandbox/twilio';
import { changeStatusUpdate, resendDeliverySignal } from '../../shared/journey/messages';
import { at, staffChange, startTimeSkipping, type TimeSkipping } from '../support/timeSkipping';
import { recorded, remainingMs } from '../support/wait';

let ts: TimeSkipping;
let mailbox: Mailbox;
let twilioSandbox: TwilioSandbox;
let slack: SlackSandbox;

/** A property where it is 03:00 (or `hour`) on the test clock: night waits for 08:00. */
const nightProperty = (hour = 3) => ts.propertyAt(hour);

beforeAll(async () => {
  [mailbox, twilioSandbox, slack] = await Promise.all([
    startMailbox({ smtpPort: 0, httpPort: 0 }),
    startTwilioSandbox(),
    startSlackSandbox(),
  ]);
  ts = await startTimeSkipping({
    notify: {
      channels: {
        email: createEmailChannel({ smtpUrl: mailbox.smtpUrl, from: 'leadrelay <no-reply@leadrelay.local>' }),
        sms: createSmsChannel({
          accountSid: twilioSandbox.accountSid,
          authToken: twilioSandbox.authToken,
          from: '+15005550006',
          apiBaseUrl: twilioSandbox.url,
        }),
        slack: createSlackChannel(),
      },
      defaultSlackWebhookUrl: slack.webhookUrl('default'),
      apiUrl: 'http://localhost:8080',
      keyRing: KeyRing.parse(KeyRing.generateSpec()),
    },
    restartable: true,
  });
});
afterAll(async () => {
  await ts?.stop();
  await Promise.all([mailbox?.stop(), twilioSandbox?.close(), slack?.close()]);
});

async function prefer(statusType: string, method: string, recipients: string[]) {
  await ts.pool.query(
    `INSERT INTO notification_preferences (workspace_id, status_type, notification_method, recipients)
     VALUES ($1, $2, $3, $4)`,
    [ts.workspaceId, statusType, method, JSON.stringify(recipients)],
  );
}

async function deliveries(leadId: string) {
  const { rows } = await ts.pool.query(
    'SELECT channel, recipient, status, not_before FROM notification_deliveries WHERE lead_id = $1 ORDER BY channel',
    [leadId],
  );
  return rows;
}

const change = staffChange;

test('a status change reaches the preferred staff by email and Slack, and the response counts them', async () => {
  await prefer('qualified', 'email', ['leasing@oak.example']);
  await prefer('qualified', 'slack', [slack.webhookUrl('leasing')]);
  const leadId = await ts.newLead({ email: `${randomUUID()}@example.com`, phone: '+13035550170' });
  await ts.pool.query("UPDATE leads SET first_name = 'Grace' WHERE id = $1", [leadId]);
  const handle = await ts.start(leadId);
  await handle.executeUpdate(changeStatusUpdate, { args: [change('contacted')] });
  const result = await handle.executeUpdate(changeStatusUpdate, { args: [change('qualified')] });
  expect(result.notifications_sent).toBe(2);
  const mail = await mailbox.waitFor((m) => m.to.includes('leasing@oak.example'), remainingMs());
  expect(mail.subject).toBe('Lead Qualified - Grace');
  const post = await recorded('the Slack post to leasing', slack.posts, (p) => p.path === 'leasing');
  expect(post.text).toContain('Lead Qualified - Grace');
  await ts.until(handle, (s) => s.pendingDeliveries === 0);
  const sent = (await deliveries(leadId)).map((d) => [d.channel, d.recipient, d.status]);
  expect(sent).toEqual(
    expect.arrayContaining([
      ['email', 'leasing@oak.example', 'sent'],
      ['slack', slack.webhookUrl('leasing'), 'sent'],
    ]),
  );
});

test('without preferences staff hear on the default Slack channel', async () => {
  const leadId = await ts.newLead();
  const handle = await ts.start(leadId);
  const result = await handle.executeUpdate(changeStatusUpdate, {
    args: [change('lost', { reason: 'moved away' })],
  });
  expect(result.notifications_sent).toBe(1);
  await recorded(
    'the lost-lead Slack post on the default channel',
    slack.posts,
    (p) => p.path === 'default' && p.text.includes('moved from new to lost'),
  );
});

test('a prospect SMS at night waits for 08:00 local time, then goes exactly once even across a worker restart', async () => {
  await prefer('tour_scheduled', 'sms', ['prospect']);
  const leadId = await ts.newLead({ phone: '+13035550180', propertyId: await nightProperty() });
  const handle = await ts.start(leadId);
  await handle.executeUpdate(changeStatusUpdate, {
    args: [change('tour_scheduled', { facts: { tourAt: '2099-01-01T15:00:00Z' } })],
  });
  const planned = await deliveries(leadId);
  const sms = planned.find((d) => d.channel === 'sms')!;
  expect(sms.status).toBe('pending');
  expect(sms.not_before).toBeInstanceOf(Date);
  expect(twilioSandbox.messages.items.filter((m) => m.to === '+13035550180')).toEqual([]);

  // Decided, not sent: a new worker picks the waiting delivery up from history.
  await ts.restartWorker();
  await ts.env.sleep(6 * 60 * 60 * 1000);
  await recorded('the SMS to +13035550180', twilioSandbox.messages, (m) => m.to === '+13035550180');
  await ts.until(handle, (s) => s.pendingDeliveries === 0);
  expect(twilioSandbox.messages.items.filter((m) => m.to === '+13035550180')).toHaveLength(1);
  expect((await deliveries(leadId)).find((d) => d.channel === 'sms')!.status).toBe('sent');
  // Twilio's status callbacks will find the lead and the delivery by the message SID.
  const sid = twilioSandbox.messages.items.find((m) => m.to === '+13035550180')!.sid;
  const tracked = await ts.pool.query('SELECT lead_id FROM sms_deliveries WHERE message_sid = $1', [sid]);
  expect(tracked.rows).toEqual([{ lead_id: leadId }]);
});

test('a final failure (an archived Slack channel) is recorded once and announced as notification.failed', async () => {
  slack.archived.add('archived');
  await prefer('application', 'slack', [slack.webhookUrl('archived')]);
  const leadId = await ts.newLead();
  const handle = await ts.start(leadId);
  await handle.executeUpdate(changeStatusUpdate, { args: [change('qualified')] });
  await handle.executeUpdate(changeStatusUpdate, { args: [change('application')] });
  await ts.until(handle, (s) => s.pendingDeliveries === 0);
  const failed = (await deliveries(leadId)).filter((d) => d.recipient === slack.webhookUrl('archived'));
  expect(failed.map((d) => d.status)).toEqual(['failed']);
  const events = await ts.pool.query(
    "SELECT data->>'channel' AS channel, data->>'error' AS error FROM outbox_events WHERE lead_id = $1 AND event_type = 'notification.failed'",
    [leadId],
  );
  expect(events.rows).toEqual([{ channel: 'slack', error: 'channel_is_archived' }]);
});

test('STOP while an SMS waits for quiet hours cancels it', async () => {
  const leadId = await ts.newLead({ phone: '+13035550190', propertyId: await nightProperty() });
  const handle = await ts.start(leadId);
  await handle.executeUpdate(changeStatusUpdate, {
    args: [change('tour_scheduled', { facts: { tourAt: '2099-01-01T15:00:00Z' } })],
  });
  await ts.send(handle, {
    kind: 'sms_opt_out',
    eventId: randomUUID(),
    occurredAt: at(),
    source: 'partner:twilio',
  });
  await ts.until(handle, (s) => s.pendingDeliveries === 0);
  expect((await deliveries(leadId)).find((d) => d.channel === 'sms')!.status).toBe('skipped');
  await ts.env.sleep(12 * 60 * 60 * 1000);
  expect(twilioSandbox.messages.items.filter((m) => m.to === '+13035550190')).toEqual([]);
});

test('prospect email carries the signed one-click unsubscribe link; an unsubscribed lead gets no email', async () => {
  await prefer('lost', 'email', ['prospect']);
  const address = `${randomUUID()}@example.com`;
  const leadId = await ts.newLead({ email: address, propertyId: await nightProperty(12) });
  const handle = await ts.start(leadId);
  await handle.executeUpdate(changeStatusUpdate, {
    args: [change('lost', { reason: 'chose another place' })],
  });
  const mail = await mailbox.waitFor((m) => m.to.includes(address), remainingMs());
  expect(mail.headers['list-unsubscribe']).toMatch(/^<http:\/\/localhost:8080\/unsubscribe\/[^>]+>$/);
  expect(mail.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');
  expect(mail.text).toContain('Unsubscribe: http://localhost:8080/unsubscribe/');

  const other = `${randomUUID()}@example.com`;
  const quietLead = await ts.newLead({ email: other, propertyId: await nightProperty(12) });
  await ts.pool.query('UPDATE leads SET email_opted_out_at = now() WHERE id = $1', [quietLead]);
  const quietHandle = await ts.start(quietLead);
  await quietHandle.executeUpdate(changeStatusUpdate, { args: [change('lost')] });
  await ts.until(quietHandle, (s) => s.pendingDeliveries === 0);
  expect((await deliveries(quietLead)).filter((d) => d.channel === 'email')).toEqual([]);
});

test('a delivery whose retries run out is failed and announced; a resend after the outage sends it once', async () => {
  slack.down.add('flaky');
  await prefer('qualified', 'slack', [slack.webhookUrl('flaky')]);
  const leadId = await ts.newLead();
  const handle = await ts.start(leadId);
  await handle.executeUpdate(changeStatusUpdate, { args: [change('qualified')] });
  // 30 attempts, 5 s doubling to 10 minutes apart: about four hours of Slack answering 503.
  await ts.env.sleep(6 * 60 * 60 * 1000);
  await ts.until(handle, (s) => s.pendingDeliveries === 0);
  const [failed] = await ts.rowsOf(
    `SELECT idempotency_key, status, attempts, error FROM notification_deliveries
      WHERE lead_id = $1 AND recipient = $2`,
    [leadId, slack.webhookUrl('flaky')],
  );
  expect(failed).toMatchObject({ status: 'failed', attempts: 30, error: expect.stringMatching(/503/) });
  const events = await ts.pool.query(
    "SELECT data->>'error' AS error FROM outbox_events WHERE lead_id = $1 AND event_type = 'notification.failed'",
    [leadId],
  );
  expect(events.rows).toEqual([{ error: 'retries_exhausted' }]);
  expect(slack.posts.items.filter((post) => post.path === 'flaky')).toEqual([]);

  // What the api's resend does: reopen the row, then hand it to the journey.
  slack.down.delete('flaky');
  await ts.pool.query(
    "UPDATE notification_deliveries SET status = 'pending', error = NULL WHERE idempotency_key = $1",
    [failed!.idempotency_key],
  );
  await handle.signal(resendDeliverySignal, {
    deliveryKey: String(failed!.idempotency_key),
    channel: 'slack',
  });
  await ts.rowsOf("SELECT 1 FROM notification_deliveries WHERE idempotency_key = $1 AND status = 'sent'", [
    failed!.idempotency_key,
  ]);
  await ts.until(handle, (s) => s.pendingDeliveries === 0);
  expect(slack.posts.items.filter((post) => post.path === 'flaky')).toHaveLength(1);
});
