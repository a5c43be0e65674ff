// Each notification channel against a real peer: email over SMTP to the local mailbox, SMS through the
// twilio package to the Twilio sandbox, Slack through @slack/webhook to the Slack sandbox; and a delivery
// sent once however its activity attempts overlap.
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type pg from 'pg';
import { DeliveryError, type OutboundMessage } from '../../activities/notify/channel';
import { sendDelivery, type DeliveryDeps } from '../../activities/notify/deliver';
import { createEmailChannel } from '../../activities/notify/email';
import { createSlackChannel } from '../../activities/notify/slack';
import { createSmsChannel } from '../../activities/notify/sms';
import { startMailbox, type Mailbox } from '../../infra/local/mailbox';
import { startSlackSandbox, type SlackSandbox } from '../../infra/sandbox/slack';
import { startTwilioSandbox, type TwilioSandbox } from '../../infra/sandbox/twilio';
import { createOrMatchLead } from '../../data/leads';
import { createPool } from '../../data/pool';
import { createWorkspace } from '../../data/workspaces';
import { testStack } from '../setup/stack';
import { recorded, remainingMs, waitFor } from '../support/wait';

let mailbox: Mailbox;
let twilioSandbox: TwilioSandbox;
let slack: SlackSandbox;

beforeAll(async () => {
  [mailbox, twilioSandbox, slack] = await Promise.all([
    startMailbox({ smtpPort: 0, httpPort: 0 }),
    startTwilioSandbox(),
    startSlackSandbox(),
  ]);
});
afterAll(async () => {
  await Promise.all([mailbox?.stop(), twilioSandbox?.close(), slack?.close()]);
});

const message = (overrides: Partial<OutboundMessage> = {}): OutboundMessage => ({
  key: `k-${Math.round(Math.random() * 1e9)}`,
  to: 'ada@example.com',
  subject: 'Tour tomorrow at 10:00',
  text: 'See you at Oak Apartments tomorrow at 10:00.',
  html: '<p>See you at <b>Oak Apartments</b> tomorrow at 10:00.</p>',
  priority: 'high',
  ...overrides,
});

async function failureOf(promise: Promise<unknown>): Promise<DeliveryError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DeliveryError);
  return error as DeliveryError;
}

describe('email', () => {
  test('delivers text and HTML with one-click unsubscribe headers and a Message-ID fixed by the key', async () => {
    const email = createEmailChannel({ smtpUrl: mailbox.smtpUrl, from: 'Oak Leasing <leasing@oak.example>' });
    const sent = message({ unsubscribeUrl: 'https://leads.example.com/u/abc' });
    const result = await email.send(sent);
    const received = await mailbox.waitFor(
      (m) => m.subject === sent.subject && m.to.includes('ada@example.com'),
      remainingMs(),
    );
    expect(received.text).toContain('Oak Apartments');
    expect(received.html).toContain('<b>Oak Apartments</b>');
    expect(received.headers['list-unsubscribe']).toBe('<https://leads.example.com/u/abc>');
    expect(received.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');
    expect(received.headers['message-id']).toBe(result.providerId);
    const again = await email.send(sent);
    expect(again.providerId).toBe(result.providerId);
    email.close();
  });

  test('a server that cannot be reached is a retryable failure', async () => {
    const email = createEmailChannel({ smtpUrl: 'smtp://127.0.0.1:9', from: 'x@example.com' });
    const error = await failureOf(email.send(message()));
    expect(error.retryable).toBe(true);
    email.close();
  });
});

describe('sms', () => {
  const channel = () =>
    createSmsChannel({
      accountSid: twilioSandbox.accountSid,
      authToken: twilioSandbox.authToken,
      from: '+15005550006',
      apiBaseUrl: twilioSandbox.url,
    });

  test('sends through the twilio package to the sandbox and returns the message SID', async () => {
    const result = await channel().send(message({ to: '+13035550100', text: 'Reminder: tour at 10:00' }));
    const received = await recorded(
      'the SMS at the Twilio sandbox',
      twilioSandbox.messages,
      (m) => m.sid === result.providerId,
    );
    expect(received).toMatchObject({
      to: '+13035550100',
      from: '+15005550006',
      body: 'Reminder: tour at 10:00',
    });
  });

  test('an opted-out recipient (21610) is final, a 429 is retryable with its Retry-After', async () => {
    twilioSandbox.optedOut.add('+13035550111');
    const optedOut = await failureOf(channel().send(message({ to: '+13035550111' })));
    expect(optedOut).toMatchObject({ retryable: false, code: 'opted_out' });
    twilioSandbox.failures.push({
      status: 429,
      code: 20429,
      message: 'Too Many Requests',
      retryAfterSeconds: 7,
    });
    const limited = await failureOf(channel().send(message({ to: '+13035550112' })));
    expect(limited).toMatchObject({ retryable: true, retryAfterMs: 7000 });
  });

  test('wrong credentials are a final failure', async () => {
    const wrong = createSmsChannel({
      accountSid: twilioSandbox.accountSid,
      authToken: 'nope-nope-nope-nope',
      from: '+15005550006',
      apiBaseUrl: twilioSandbox.url,
    });
    const error = await failureOf(wrong.send(message({ to: '+13035550113' })));
    expect(error.retryable).toBe(false);
  });
});

describe('slack', () => {
  test('posts Block Kit with a text fallback, the priority and a link to the lead', async () => {
    await createSlackChannel().send(
      message({
        to: slack.webhookUrl('leasing'),
        priority: 'urgent',
        link: 'http://localhost:8080/app/leads/1',
      }),
    );
    const post = await recorded('the Slack post to leasing', slack.posts, (p) => p.path === 'leasing');
    expect(post.text).toContain('Tour tomorrow at 10:00');
    expect(JSON.stringify(post.blocks)).toContain('priority *urgent*');
    expect(JSON.stringify(post.blocks)).toContain('http://localhost:8080/app/leads/1');
  });

  test("a lead's <!channel> and disguised links arrive escaped, inert", async () => {
    await createSlackChannel().send(
      message({
        to: slack.webhookUrl('escaped'),
        subject: 'New lead <!channel>',
        text: 'Name: <!channel> & <https://evil.example|your bank>',
      }),
    );
    const post = await recorded('the Slack post to escaped', slack.posts, (p) => p.path === 'escaped');
    const section = (post.blocks as { type: string; text?: { text: string } }[]).find(
      (b) => b.type === 'section',
    );
    expect(section?.text?.text).toBe('Name: &lt;!channel&gt; &amp; &lt;https://evil.example|your bank&gt;');
    expect(post.text).toContain('New lead &lt;!channel&gt;');
    expect(post.text).not.toContain('<!channel>');
  });

  test('an archived channel is final; 429 is retryable after Retry-After', async () => {
    slack.archived.add('old');
    const archived = await failureOf(createSlackChannel().send(message({ to: slack.webhookUrl('old') })));
    expect(archived).toMatchObject({ retryable: false, code: 'channel_is_archived' });
    slack.failures.push({ status: 429, body: 'rate_limited', retryAfterSeconds: 2 });
    const limited = await failureOf(createSlackChannel().send(message({ to: slack.webhookUrl('busy') })));
    expect(limited).toMatchObject({ retryable: true, retryAfterMs: 2000 });
  });
});

describe('sending a delivery', () => {
  let pool: pg.Pool;
  let workspaceId: string;
  let leadId: string;
  const deps = (): DeliveryDeps => ({
    pool,
    apiUrl: 'http://127.0.0.1:9',
    channels: {
      sms: createSmsChannel({
        accountSid: twilioSandbox.accountSid,
        authToken: twilioSandbox.authToken,
        from: '+15005550006',
        apiBaseUrl: twilioSandbox.url,
      }),
    },
  });

  beforeAll(async () => {
    pool = createPool(testStack().databaseUrl, 4);
    ({ workspaceId } = await createWorkspace(pool, {
      name: 'Claims',
      permissions: ['admin'],
      timezone: 'UTC',
    }));
    ({
      lead: { id: leadId },
    } = await createOrMatchLead(pool, {
      workspaceId,
      source: 'website',
      email: `${randomUUID()}@example.com`,
    }));
  });
  afterAll(async () => {
    await pool?.end();
  });

  async function pendingSms(to: string): Promise<string> {
    const key = randomUUID();
    await pool.query(
      `INSERT INTO notification_deliveries (idempotency_key, notification_key, workspace_id, lead_id, channel, audience,
                                            recipient, template, subject, body, priority)
       VALUES ($1, $1, $2, $3, 'sms', 'prospect', $4, 'tour_reminder_24h', '', 'Your tour is tomorrow.', 'normal')`,
      [key, workspaceId, leadId, to],
    );
    return key;
  }

  test('an attempt still sending (timed out by Temporal) holds the delivery: its retry sends nothing', async () => {
    const to = '+13035550181';
    const deliveryKey = await pendingSms(to);
    let release!: () => void;
    twilioSandbox.hold = new Promise((resolve) => (release = resolve));
    const first = sendDelivery(deps(), { deliveryKey, smsOptedOut: false });
    await waitFor('the first attempt to claim the delivery', async () => {
      const { rows } = await pool.query(
        'SELECT claimed_until FROM notification_deliveries WHERE idempotency_key = $1',
        [deliveryKey],
      );
      return rows[0]?.claimed_until;
    });
    const retry = await sendDelivery(deps(), { deliveryKey, smsOptedOut: false }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(retry).toBeInstanceOf(ApplicationFailure);
    expect(retry).toMatchObject({ type: 'delivery_in_progress', nonRetryable: false });
    release();
    twilioSandbox.hold = undefined;
    expect(await first).toMatchObject({ status: 'sent' });
    expect(await sendDelivery(deps(), { deliveryKey, smsOptedOut: false })).toEqual({ status: 'sent' });
    expect(twilioSandbox.messages.items.filter((m) => m.to === to)).toHaveLength(1);
  });

  test('a claim left by a worker that died mid-send expires, and the retry sends', async () => {
    const to = '+13035550182';
    const deliveryKey = await pendingSms(to);
    await pool.query(
      `UPDATE notification_deliveries SET claimed_until = now() - interval '1 second' WHERE idempotency_key = $1`,
      [deliveryKey],
    );
    expect(await sendDelivery(deps(), { deliveryKey, smsOptedOut: false })).toMatchObject({ status: 'sent' });
    expect(twilioSandbox.messages.items.filter((m) => m.to === to)).toHaveLength(1);
  });
});
