// Twilio (inbound SMS, STOP/START, delivery callbacks; X-Twilio-Signature) and Calendly (tours, reschedules;
// Calendly-Webhook-Signature) webhooks against the real stack, and Twilio status callbacks that arrive before the
// worker has recorded the send they are about. Twilio requests are signed with the twilio
// package's getExpectedTwilioSignature; Calendly's exactly per its published algorithm with node:crypto.
import { createHmac, randomBytes } from 'node:crypto';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks';
import { sendDelivery, type DeliveryDeps } from '../../activities/notify/deliver';
import { createSmsChannel } from '../../activities/notify/sms';
import { startTwilioSandbox, type TwilioSandbox } from '../../infra/sandbox/twilio';
import { relayOnce } from '../../services/ingest/relay';
import { call, registerWorkspace, startHarness, type Harness } from '../support/harness';
import {
  createIntegration,
  fixture,
  fixtureText,
  historyRows,
  inboxRows,
  journeyWhere,
  post,
  uniqueEmail,
  type CreatedIntegration,
} from '../support/ingest';

let harness: Harness;
let key: string;
let workspaceId: string;
let twilio: CreatedIntegration;
let calendly: CreatedIntegration;
const AUTH_TOKEN = 'f4d2c0a8e6b4c2a0f8e6d4c2b0a89876';

beforeAll(async () => {
  harness = await startHarness();
  ({ apiKey: key, workspaceId } = await registerWorkspace(harness.apiUrl));
  await call(`${harness.apiUrl}/api/v1/properties`, 'POST', key, {
    property_id: 'maple',
    name: 'Maple Commons',
    timezone: 'America/Denver',
    vertical: 'multifamily',
  });
  twilio = await createIntegration(harness, key, {
    partner: 'twilio',
    property_id: 'maple',
    credentials: { auth_token: AUTH_TOKEN, account_sid: 'ACae0e2a4f9d7c6b5a4a3b2c1d0e9f8a7b' },
  });
  calendly = await createIntegration(harness, key, { partner: 'calendly', property_id: 'maple' });
});
afterAll(async () => {
  await harness?.stop();
});

const sid = () => `SM${randomBytes(16).toString('hex')}`;
/** A fresh, valid US number (Denver 720; an exchange that is not N11 or 555). */
function freshPhone(): string {
  const bytes = randomBytes(4);
  let exchange = 200 + (bytes.readUInt16BE(0) % 700);
  if (exchange % 100 === 11 || exchange === 555) exchange = 234;
  return `+1720${exchange}${String(bytes.readUInt16BE(2) % 10000).padStart(4, '0')}`;
}

/** A Twilio form fixture with fields replaced, signed by the twilio package for the webhook URL. */
function twilioRequest(name: string, overrides: Record<string, string> = {}, token = AUTH_TOKEN) {
  const params = new URLSearchParams(fixtureText('twilio', name).trim());
  for (const [field, value] of Object.entries(overrides)) params.set(field, value);
  const body = params.toString();
  const signature = getExpectedTwilioSignature(token, twilio.webhook_url, Object.fromEntries(params));
  return {
    body,
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
  };
}

async function postTwilio(name: string, overrides: Record<string, string> = {}, token = AUTH_TOKEN) {
  const request = twilioRequest(name, overrides, token);
  return post(twilio.webhook_url, request.body, request.headers);
}

async function leadWithPhone(phone: string): Promise<string> {
  const answer = await call(`${harness.apiUrl}/api/v1/leads`, 'POST', key, { source: 'website', phone });
  expect(answer.status).toBe(201);
  await journeyWhere(harness, workspaceId, answer.body.id, (s) => s.counters.events > 0);
  return answer.body.id;
}

const TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';

describe('Twilio', () => {
  test('an inbound SMS from a new number creates a lead, reaches its journey, and is answered with TwiML', async () => {
    const messageSid = sid();
    const phone = freshPhone();
    const answer = await postTwilio('inbound-sms.txt', {
      MessageSid: messageSid,
      SmsSid: messageSid,
      From: phone,
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^text\/xml/);
    expect(answer.text).toBe(TWIML);
    const [row] = (await inboxRows(harness, twilio.id)).filter((r) => r.partner_event_id === messageSid);
    expect(row).toMatchObject({ status: 'delivered', event_type: 'sms.inbound' });
    const state = await journeyWhere(
      harness,
      workspaceId,
      row.lead_id,
      (s) => s.lastEventId === `inbox/${row.id}/1`,
    );
    expect(state).toMatchObject({ status: 'new', source: 'twilio', smsOptedOut: false, propertyId: 'maple' });
    const lead = await call(`${harness.apiUrl}/api/v1/leads/${row.lead_id}`, 'GET', key);
    expect(lead.body).toMatchObject({
      phone,
      message: 'Hi, is the 2 bedroom on the third floor still available?',
    });
  });

  test.each([
    ['STOP', 'STOP'],
    ['stop', undefined],
    ['Unsubscribe', undefined],
    ['REVOKE', undefined],
    ['optout', undefined],
    [' Quit ', undefined],
  ])('"%s" opts a known lead out of SMS; START opts them back in', async (body, optOutType) => {
    const phone = freshPhone();
    const leadId = await leadWithPhone(phone);
    const stop = await postTwilio('stop.txt', {
      MessageSid: sid(),
      From: phone,
      Body: body,
      ...(optOutType ? { OptOutType: optOutType } : { OptOutType: '' }),
    });
    expect(stop.status).toBe(200);
    expect(stop.text).toBe(TWIML);
    await journeyWhere(harness, workspaceId, leadId, (s) => s.smsOptedOut);
    await postTwilio('stop.txt', { MessageSid: sid(), From: phone, Body: 'START', OptOutType: 'START' });
    await journeyWhere(harness, workspaceId, leadId, (s) => !s.smsOptedOut);
  });

  test('a STOP from a number no lead has creates no lead and is kept unmatched', async () => {
    const phone = freshPhone();
    const messageSid = sid();
    const answer = await postTwilio('stop.txt', { MessageSid: messageSid, From: phone });
    expect(answer.status).toBe(202);
    expect(answer.text).toBe(TWIML);
    const [row] = (await inboxRows(harness, twilio.id)).filter((r) => r.partner_event_id === messageSid);
    expect(row).toMatchObject({ status: 'unmatched', lead_id: null });
    const leads = await harness.pool.query('SELECT count(*)::int AS n FROM leads WHERE phone_e164 = $1', [
      phone,
    ]);
    expect(leads.rows[0].n).toBe(0);
  });

  test('a delivery callback for a message we sent updates its delivery row and reaches the journey', async () => {
    const phone = freshPhone();
    const leadId = await leadWithPhone(phone);
    const messageSid = sid();
    await harness.pool.query(
      "INSERT INTO sms_deliveries (message_sid, workspace_id, lead_id, status) VALUES ($1, $2, $3, 'sent')",
      [messageSid, workspaceId, leadId],
    );
    const answer = await postTwilio('status-delivered.txt', {
      MessageSid: messageSid,
      SmsSid: messageSid,
      To: phone,
    });
    expect(answer.status).toBe(200);
    expect(answer.text).toBe(TWIML);
    const delivery = await harness.pool.query('SELECT status FROM sms_deliveries WHERE message_sid = $1', [
      messageSid,
    ]);
    expect(delivery.rows[0].status).toBe('delivered');
    const [row] = (await inboxRows(harness, twilio.id)).filter(
      (r) => r.partner_event_id === `${messageSid}:delivered`,
    );
    await journeyWhere(harness, workspaceId, leadId, (s) => s.lastEventId === `inbox/${row.id}/1`);
    // A late "sent" callback does not move the delivery back.
    await postTwilio('status-delivered.txt', {
      MessageSid: messageSid,
      MessageStatus: 'sent',
      SmsStatus: 'sent',
    });
    const still = await harness.pool.query('SELECT status FROM sms_deliveries WHERE message_sid = $1', [
      messageSid,
    ]);
    expect(still.rows[0].status).toBe('delivered');
  });

  test('an undelivered callback with error 21610 (recipient opted out) opts the lead out', async () => {
    const phone = freshPhone();
    const leadId = await leadWithPhone(phone);
    const messageSid = sid();
    await harness.pool.query(
      "INSERT INTO sms_deliveries (message_sid, workspace_id, lead_id, status) VALUES ($1, $2, $3, 'queued')",
      [messageSid, workspaceId, leadId],
    );
    await postTwilio('status-undelivered-opted-out.txt', { MessageSid: messageSid, SmsSid: messageSid });
    await journeyWhere(harness, workspaceId, leadId, (s) => s.smsOptedOut);
    const delivery = await harness.pool.query(
      'SELECT status, error_code FROM sms_deliveries WHERE message_sid = $1',
      [messageSid],
    );
    expect(delivery.rows[0]).toEqual({ status: 'undelivered', error_code: '21610' });
  });

  test('a delivery callback for a message we do not know is kept unmatched', async () => {
    const messageSid = sid();
    const answer = await postTwilio('status-delivered.txt', { MessageSid: messageSid, SmsSid: messageSid });
    expect(answer.status).toBe(202);
    const [row] = (await inboxRows(harness, twilio.id)).filter(
      (r) => r.partner_event_id === `${messageSid}:delivered`,
    );
    expect(row.status).toBe('unmatched');
  });

  describe('a status callback that outruns the record of its send', () => {
    let sandbox: TwilioSandbox;
    beforeAll(async () => {
      // Twilio's stand-in, with this workspace's auth token: its callbacks carry a signature ingest accepts.
      sandbox = await startTwilioSandbox({ authToken: AUTH_TOKEN });
    });
    afterAll(async () => {
      await sandbox?.close();
    });

    /** The delivery activity's dependencies: SMS through the sandbox, status callbacks to this harness' ingest. */
    const smsDeps = (): DeliveryDeps => ({
      pool: harness.pool,
      apiUrl: harness.apiUrl,
      ingestUrl: harness.ingestUrl,
      channels: {
        sms: createSmsChannel({
          accountSid: sandbox.accountSid,
          authToken: sandbox.authToken,
          from: '+15005550006',
          apiBaseUrl: sandbox.url,
        }),
      },
    });

    /** A prospect SMS planned for a lead of the Twilio integration's property, sent by the delivery activity. */
    async function sendSms(
      leadId: string,
      phone: string,
    ): Promise<{ deliveryKey: string; messageSid: string }> {
      const deliveryKey = `early-${randomBytes(8).toString('hex')}`;
      await harness.pool.query(
        `INSERT INTO notification_deliveries (idempotency_key, notification_key, workspace_id, lead_id, channel,
                                              audience, recipient, template, subject, body, priority)
         VALUES ($1, $1, $2, $3, 'sms', 'prospect', $4, 'tour_reminder_24h', '', 'Your tour is tomorrow.', 'normal')`,
        [deliveryKey, workspaceId, leadId, phone],
      );
      expect(await sendDelivery(smsDeps(), { deliveryKey, smsOptedOut: false })).toMatchObject({
        status: 'sent',
      });
      const message = sandbox.messages.items.find((m) => m.to === phone)!;
      expect(message.statusCallback).toBe(twilio.webhook_url);
      return { deliveryKey, messageSid: message.sid };
    }

    async function leadAtMaple(phone: string): Promise<string> {
      const answer = await call(`${harness.apiUrl}/api/v1/leads`, 'POST', key, {
        source: 'website',
        property_id: 'maple',
        phone,
      });
      expect(answer.status).toBe(201);
      await journeyWhere(harness, workspaceId, answer.body.id, (s) => s.counters.events > 0);
      return answer.body.id;
    }

    test('"sent" and "delivered" posted before the send is recorded end applied: SMS and notification delivered, the journey hears', async () => {
      const phone = freshPhone();
      const leadId = await leadAtMaple(phone);
      // Twilio calls back before it answers the send: both callbacks find no record of it yet.
      sandbox.statusCallbacks = { statuses: ['sent', 'delivered'], before: true };
      sandbox.callbackAnswers.length = 0;
      const { deliveryKey, messageSid } = await sendSms(leadId, phone);
      sandbox.statusCallbacks = undefined;
      expect(sandbox.callbackAnswers).toEqual([202, 202]); // stored, unmatched: acknowledged, not yet applied

      const delivery = await harness.pool.query(
        'SELECT status, provider_id FROM notification_deliveries WHERE idempotency_key = $1',
        [deliveryKey],
      );
      expect(delivery.rows).toEqual([{ status: 'delivered', provider_id: messageSid }]);
      const sms = await harness.pool.query(
        'SELECT status, lead_id FROM sms_deliveries WHERE message_sid = $1',
        [messageSid],
      );
      expect(sms.rows).toEqual([{ status: 'delivered', lead_id: leadId }]);
      // The early callbacks' inbox rows now belong to the lead and wait for the relay, which signals them.
      const early = (await inboxRows(harness, twilio.id)).filter((r) =>
        String(r.partner_event_id).startsWith(`${messageSid}:`),
      );
      expect(early.map((r) => [r.partner_event_id, r.status, r.lead_id])).toEqual([
        [`${messageSid}:sent`, 'pending', leadId],
        [`${messageSid}:delivered`, 'pending', leadId],
      ]);
      const relayed = await relayOnce(
        { pool: harness.pool, temporal: harness.client, journeys: harness.journeys },
        { workspaceId },
      );
      expect(relayed).toMatchObject({ delivered: 2, unmatched: 0, failed: 0, retrying: 0 });
      await journeyWhere(harness, workspaceId, leadId, (s) => s.lastEventId === `inbox/${early[1]!.id}/1`);
    });

    test('an early "undelivered" with 21610 still opts the lead out once the send is recorded', async () => {
      const phone = freshPhone();
      const leadId = await leadAtMaple(phone);
      sandbox.statusCallbacks = { statuses: ['undelivered'], errorCode: '21610', before: true };
      const { deliveryKey, messageSid } = await sendSms(leadId, phone);
      sandbox.statusCallbacks = undefined;
      const delivery = await harness.pool.query(
        'SELECT status, error FROM notification_deliveries WHERE idempotency_key = $1',
        [deliveryKey],
      );
      expect(delivery.rows).toEqual([{ status: 'failed', error: 'twilio error 21610' }]);
      const sms = await harness.pool.query(
        'SELECT status, error_code FROM sms_deliveries WHERE message_sid = $1',
        [messageSid],
      );
      expect(sms.rows).toEqual([{ status: 'undelivered', error_code: '21610' }]);
      await relayOnce(
        { pool: harness.pool, temporal: harness.client, journeys: harness.journeys },
        { workspaceId },
      );
      await journeyWhere(harness, workspaceId, leadId, (s) => s.smsOptedOut);
    });

    test('an attempt that sent but could not settle (Postgres away) leaves it to the retry, which settles without sending again', async () => {
      const phone = freshPhone();
      const leadId = await leadAtMaple(phone);
      sandbox.statusCallbacks = { statuses: ['delivered'], before: true };
      const { deliveryKey } = await sendSms(leadId, phone);
      sandbox.statusCallbacks = undefined;
      // As if the first attempt died after marking the delivery sent and before settling it.
      await harness.pool.query(
        "UPDATE notification_deliveries SET status = 'sent', error = NULL WHERE idempotency_key = $1",
        [deliveryKey],
      );
      expect(await sendDelivery(smsDeps(), { deliveryKey, smsOptedOut: false })).toEqual({ status: 'sent' });
      const delivery = await harness.pool.query(
        'SELECT status FROM notification_deliveries WHERE idempotency_key = $1',
        [deliveryKey],
      );
      expect(delivery.rows).toEqual([{ status: 'delivered' }]);
      expect(sandbox.messages.items.filter((m) => m.to === phone)).toHaveLength(1);
    });

    test('a callback stored just after the send was recorded (it looked too early, it is stored too late) is applied as it is stored', async () => {
      const phone = freshPhone();
      const leadId = await leadAtMaple(phone);
      const messageSid = sid();
      await harness.pool.query(
        "INSERT INTO sms_deliveries (message_sid, workspace_id, lead_id, status) VALUES ($1, $2, $3, 'queued')",
        [messageSid, workspaceId, leadId],
      );
      // What ingest's call stores when its lookup ran before the send's record committed: an unmatched row.
      const { rows } = await harness.pool.query(
        `INSERT INTO inbox_events (workspace_id, integration_id, partner, partner_event_id, event_type, status,
                                   raw_body, normalized, last_error)
         VALUES ($1, $2, 'twilio', $3, 'sms.status', 'unmatched', ''::bytea, $4, 'no lead matches this event yet')
         RETURNING status, lead_id, last_error`,
        [
          workspaceId,
          twilio.id,
          `${messageSid}:delivered`,
          {
            lead: { find: [{ by: 'sms_message', messageSid }] },
            events: [{ kind: 'sms_delivery', messageId: messageSid, status: 'delivered' }],
            record: { kind: 'sms_delivery', messageSid, status: 'delivered' },
          },
        ],
      );
      expect(rows).toEqual([{ status: 'pending', lead_id: leadId, last_error: null }]);
      const sms = await harness.pool.query('SELECT status FROM sms_deliveries WHERE message_sid = $1', [
        messageSid,
      ]);
      expect(sms.rows).toEqual([{ status: 'delivered' }]);
    });
  });

  test('a wrong auth token, a changed parameter, or no signature is 401', async () => {
    expect(
      (await postTwilio('inbound-sms.txt', { MessageSid: sid() }, 'another-auth-token-0000000000000')).status,
    ).toBe(401);
    const request = twilioRequest('inbound-sms.txt', { MessageSid: sid() });
    const tampered = request.body.replace('Body=Hi', 'Body=Yo');
    expect((await post(twilio.webhook_url, tampered, request.headers)).status).toBe(401);
    const unsigned = await post(twilio.webhook_url, request.body, {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(unsigned.status).toBe(401);
  });

  test('the same MessageSid twice is one inbox row; the second answer is TwiML too', async () => {
    const messageSid = sid();
    const overrides = { MessageSid: messageSid, From: freshPhone() };
    const first = await postTwilio('inbound-sms.txt', overrides);
    const second = await postTwilio('inbound-sms.txt', overrides);
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(second.text).toBe(TWIML);
    expect(
      (await inboxRows(harness, twilio.id)).filter((r) => r.partner_event_id === messageSid),
    ).toHaveLength(1);
  });

  test('a form missing MessageSid and From is 400 naming both', async () => {
    const request = twilioRequest('inbound-sms.txt', { MessageSid: '', From: '' });
    const answer = await post(twilio.webhook_url, request.body, request.headers);
    expect(answer.status).toBe(400);
    expect(answer.body.error.details.fields.map((f: { field: string }) => f.field).sort()).toEqual([
      'From',
      'MessageSid',
    ]);
  });
});

describe('Calendly', () => {
  const signingKey = () => {
    // The key was generated at creation and shown once: that is the only place a client learns it.
    expect(calendly.webhook_secret).toEqual(expect.any(String));
    return calendly.webhook_secret!;
  };

  /** Calendly's scheme, written out: t=<unix s>,v1=hex(HMAC-SHA256(signing key, `${t}.${body}`)). */
  function calendlyHeaders(body: string, at = Date.now(), keyToUse = signingKey()) {
    const t = Math.floor(at / 1000);
    const v1 = createHmac('sha256', keyToUse).update(`${t}.${body}`).digest('hex');
    return { 'content-type': 'application/json', 'calendly-webhook-signature': `t=${t},v1=${v1}` };
  }

  async function postCalendly(payload: unknown, at?: number, keyToUse?: string) {
    const body = JSON.stringify(payload);
    return post(calendly.webhook_url, body, calendlyHeaders(body, at, keyToUse));
  }

  /** The four fixtures of one booking, for one invitee email and unique invitee URIs. */
  function booking(email: string) {
    const tag = randomBytes(6).toString('hex');
    const first = `https://api.calendly.com/scheduled_events/EV${tag}/invitees/IN${tag}`;
    const second = `https://api.calendly.com/scheduled_events/EW${tag}/invitees/IO${tag}`;
    return {
      created: fixture('calendly', 'invitee-created.json', { 'payload.email': email, 'payload.uri': first }),
      canceledForReschedule: fixture('calendly', 'invitee-canceled-rescheduled.json', {
        'payload.email': email,
        'payload.uri': first,
        'payload.new_invitee': second,
      }),
      rebooked: fixture('calendly', 'invitee-created-rescheduled.json', {
        'payload.email': email,
        'payload.uri': second,
        'payload.old_invitee': first,
      }),
      canceled: fixture('calendly', 'invitee-canceled.json', {
        'payload.email': email,
        'payload.uri': second,
      }),
    };
  }

  test('invitee.created books a tour: the lead is created by email and moves to tour_scheduled with the time', async () => {
    const email = uniqueEmail('sam');
    const answer = await postCalendly(booking(email).created);
    expect(answer.status).toBe(200);
    const leadId = answer.body.lead_id;
    await journeyWhere(harness, workspaceId, leadId, (s) => s.status === 'tour_scheduled');
    const rows = await historyRows(harness, leadId);
    expect(rows.map((r) => [r.new_status, r.source])).toEqual([
      ['new', 'partner:calendly'],
      ['tour_scheduled', 'partner:calendly'],
    ]);
    expect(rows[1].context).toEqual({ tour_at: '2025-03-08T17:00:00.000Z' });
    const lead = await call(`${harness.apiUrl}/api/v1/leads/${leadId}`, 'GET', key);
    expect(lead.body).toMatchObject({ first_name: 'Sam', last_name: 'Rivera', email, property_id: 'maple' });
    expect(lead.body.message).toContain('Which floor plan would you like to see?: 2 bedroom');
  });

  test('a reschedule (canceled with rescheduled=true, then created) is one tour change, never a cancellation', async () => {
    const email = uniqueEmail('resched');
    const events = booking(email);
    const created = await postCalendly(events.created);
    const leadId = created.body.lead_id;
    await journeyWhere(harness, workspaceId, leadId, (s) => s.status === 'tour_scheduled');
    const canceled = await postCalendly(events.canceledForReschedule);
    expect(canceled).toMatchObject({ status: 200, body: { accepted: true, status: 'ignored' } });
    const rebooked = await postCalendly(events.rebooked);
    expect(rebooked.body.lead_id).toBe(leadId);
    const state = await journeyWhere(harness, workspaceId, leadId, (s) => s.counters.tours === 2);
    expect(state.status).toBe('tour_scheduled');
    const rows = await historyRows(harness, leadId);
    expect(rows.map((r) => r.new_status)).toEqual(['new', 'tour_scheduled']);
    const inbox = await inboxRows(harness, calendly.id);
    const cancelRow = inbox.find(
      (r) => r.partner_event_id === `invitee.canceled:${events.canceledForReschedule.payload.uri}`,
    );
    expect(cancelRow).toMatchObject({ status: 'ignored' });
    expect(cancelRow.normalized.note).toMatch(/rescheduled/);
    const rebookRow = inbox.find(
      (r) => r.partner_event_id === `invitee.created:${events.rebooked.payload.uri}`,
    );
    expect(rebookRow.normalized.events).toEqual([
      {
        kind: 'tour_booked',
        tourAt: '2025-03-09T18:00:00.000Z',
        tourEndAt: '2025-03-09T18:30:00.000Z',
        rescheduled: true,
      },
    ]);
  });

  test('a real cancellation moves the lead back to qualified with the invitee reason', async () => {
    const email = uniqueEmail('cancel');
    const events = booking(email);
    const created = await postCalendly(events.created);
    const leadId = created.body.lead_id;
    await journeyWhere(harness, workspaceId, leadId, (s) => s.status === 'tour_scheduled');
    const canceled = await postCalendly({
      ...events.canceled,
      payload: { ...events.canceled.payload, uri: events.created.payload.uri },
    });
    expect(canceled.status).toBe(200);
    await journeyWhere(harness, workspaceId, leadId, (s) => s.status === 'qualified');
    const rows = await historyRows(harness, leadId);
    expect(rows[rows.length - 1]).toMatchObject({
      new_status: 'qualified',
      reason: 'Found another apartment',
    });
  });

  test('a cancellation for an invitee we never saw is kept unmatched', async () => {
    const answer = await postCalendly(booking(uniqueEmail('ghost')).canceled);
    expect(answer).toMatchObject({ status: 202, body: { status: 'unmatched', lead_id: null } });
  });

  test('a signature by another key, a changed body, or a timestamp over 3 minutes old is 401', async () => {
    const payload = booking(uniqueEmail()).created;
    expect((await postCalendly(payload, undefined, 'not-the-signing-key-0000')).status).toBe(401);
    const body = JSON.stringify(payload);
    const headers = calendlyHeaders(body);
    expect((await post(calendly.webhook_url, body.replace('Sam', 'Pam'), headers)).status).toBe(401);
    const stale = await postCalendly(payload, Date.now() - 4 * 60_000);
    expect(stale.status).toBe(401);
    expect(stale.body.error.details.reason).toBe('stale_timestamp');
    const malformed = await post(calendly.webhook_url, body, { 'calendly-webhook-signature': 'v1=abc' });
    expect(malformed.status).toBe(401);
  });

  test('an event type we do not subscribe to is 400 naming event', async () => {
    const answer = await postCalendly({
      ...booking(uniqueEmail()).created,
      event: 'routing_form_submission.created',
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error.details.fields[0].field).toBe('event');
  });
});
