// Senior-living referrals end to end on the real stack: an A Place for Mom referral arrives as a webhook, staff
// answer it within the partner's 2-hour deadline, book and hold the tour and place the resident; every stage is
// reported back to APFM's twin in APFM's words, the move-in as a move-in report, and the referral fee is
// recorded. Caring.com's move-in report goes the same way. The prospect's tour SMS names the workspace's Twilio
// webhook as its StatusCallback, and Twilio's callback marks the notification delivered.
import { randomBytes } from 'node:crypto';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks';
import { createSmsChannel } from '../../activities/notify/sms';
import { startReferralSandbox, type ReferralSandbox } from '../../infra/sandbox/referral';
import { startTwilioSandbox, type TwilioSandbox } from '../../infra/sandbox/twilio';
import { call, registerWorkspace, startHarness, type Harness } from '../support/harness';
import {
  createIntegration,
  journeyWhere,
  post,
  postStandard,
  waitFor,
  type CreatedIntegration,
} from '../support/ingest';

let harness: Harness;
let apfm: ReferralSandbox;
let caring: ReferralSandbox;
let twilio: TwilioSandbox;
let key: string;
let workspaceId: string;
const integrations: Record<string, CreatedIntegration> = {};

/** A zone where it is now early afternoon, so prospect SMS are inside quiet hours whenever the test runs. */
function afternoonZone(): string {
  const offset = ((new Date().getUTCHours() - 13 + 36) % 24) - 12; // Etc/GMT+N is UTC-N
  return offset === 0 ? 'Etc/GMT' : `Etc/GMT${offset > 0 ? '+' : '-'}${Math.abs(offset)}`;
}

beforeAll(async () => {
  [apfm, caring, twilio] = await Promise.all([
    startReferralSandbox({ partner: 'apfm' }),
    startReferralSandbox({ partner: 'caring' }),
    startTwilioSandbox(),
  ]);
  harness = await startHarness({
    notify: {
      channels: {
        sms: createSmsChannel({
          accountSid: twilio.accountSid,
          authToken: twilio.authToken,
          from: '+13035550100',
          apiBaseUrl: twilio.url,
        }),
      },
    },
  });
  ({ apiKey: key, workspaceId } = await registerWorkspace(harness.apiUrl));
  expect(
    (
      await call(api('/properties'), 'POST', key, {
        property_id: 'willow',
        name: 'Willow Creek Assisted Living',
        timezone: afternoonZone(),
        vertical: 'senior_living',
      })
    ).status,
  ).toBe(201);
  for (const [partner, sandbox] of [
    ['apfm', apfm],
    ['caring', caring],
  ] as const) {
    integrations[partner] = await createIntegration(harness, key, {
      partner,
      property_id: 'willow',
      // One month's rent per placement.
      config: { base_url: sandbox.url, referral_fee: { fee_type: 'percent_of_monthly_rent', amount: 100 } },
      credentials: { api_key: sandbox.apiKey, api_secret: sandbox.apiSecret },
    });
  }
  integrations.twilio = await createIntegration(harness, key, {
    partner: 'twilio',
    property_id: 'willow',
    credentials: { auth_token: twilio.authToken, account_sid: twilio.accountSid },
  });
  // The family hears by SMS when the tour is booked.
  expect(
    (
      await call(api('/notification-preferences'), 'POST', key, {
        property_id: 'willow',
        status_type: 'tour_scheduled',
        notification_method: 'sms',
        recipients: ['prospect'],
      })
    ).status,
  ).toBe(201);
});
afterAll(async () => {
  await harness?.stop();
  await Promise.all([apfm?.close(), caring?.close(), twilio?.close()]);
});

function api(path: string): string {
  return `${harness.apiUrl}/api/v1${path}`;
}

/** A fresh, valid US number (an exchange that is not N11 or 555). */
function freshPhone(): string {
  const bytes = randomBytes(4);
  let exchange = 200 + (bytes.readUInt16BE(0) % 700);
  if (exchange % 100 === 11 || exchange === 555) exchange = 234;
  return `+1720${exchange}${String(bytes.readUInt16BE(2) % 10000).padStart(4, '0')}`;
}

/** The partner sends a referral (its twin knows it too, for read-backs) and we answer with the lead. */
async function referral(partner: 'apfm' | 'caring', sandbox: ReferralSandbox, phone: string) {
  const referralId = `${partner.toUpperCase()}-${randomBytes(4).readUInt32BE()}`;
  const contact = {
    first_name: 'Linda',
    last_name: 'Whitaker',
    email: `linda.${referralId.toLowerCase()}@example.com`,
    phone,
    relationship: 'daughter',
  };
  sandbox.seedReferral({ referral_id: referralId, contact });
  const answer = await postStandard(integrations[partner]!, {
    type: 'referral.created',
    referral_id: referralId,
    referred_at: new Date().toISOString(),
    contact,
    resident: { first_name: 'Harold', last_name: 'Whitaker', age: 84 },
    care_type: 'assisted_living',
  });
  expect(answer.status).toBe(200);
  return { referralId, leadId: answer.body.lead_id as string };
}

async function changeStatus(leadId: string, body: Record<string, unknown>): Promise<void> {
  const answer = await call(api(`/leads/${leadId}/status`), 'PUT', key, body);
  expect([answer.status, answer.body.success]).toEqual([200, true]);
}

/** What the partner's twin received for this referral: each report's status word (or move-in), in order. */
async function reported(sandbox: ReferralSandbox, referralId: string, count: number): Promise<string[]> {
  const words = () =>
    sandbox.reports
      .filter((r) => r.referralId === referralId && r.applied)
      .map((r) => (r.body.type === 'referral.move_in' ? 'move_in report' : String(r.body.status)));
  return waitFor(`${count} reports of ${referralId} at the partner`, async () =>
    words().length >= count ? words() : undefined,
  );
}

/** The lead's pushes to a partner once none is pending. */
async function settledSyncs(leadId: string, partner: string) {
  await journeyWhere(harness, workspaceId, leadId, (s) => (s.pendingPushes ?? 0) === 0, 'no pushes pending');
  const { rows } = await harness.pool.query(
    `SELECT status, partner_value, outcome FROM partner_syncs WHERE lead_id = $1 AND partner = $2
      ORDER BY created_at, id`,
    [leadId, partner],
  );
  return rows.map((r) => [r.status, r.partner_value, r.outcome]);
}

test('an APFM referral goes inquiry → tour → placed: deadline met, every stage and the move-in reported, the fee recorded', async () => {
  const phone = freshPhone();
  const { referralId, leadId } = await referral('apfm', apfm, phone);

  // The referral opens a journey attributed to APFM, with APFM's 2-hour answer deadline running.
  const fresh = await journeyWhere(harness, workspaceId, leadId, (s) => s.status === 'new');
  expect(fresh.source).toBe('apfm');
  const deadline = fresh.followUps!.find((f) => f.name === 'referral_response_apfm');
  expect(Date.parse(deadline!.fireAt) - Date.parse(fresh.statusChangedAt)).toBe(2 * 3600_000);

  // Staff call the family within the deadline: it is met (gone from the plan, no missed-deadline task).
  await changeStatus(leadId, { new_status: 'contacted', status_reason: 'called the daughter' });
  const contacted = await journeyWhere(harness, workspaceId, leadId, (s) => s.status === 'contacted');
  expect(contacted.followUps!.map((f) => f.name)).not.toContain('referral_response_apfm');

  const tourAt = new Date(Date.now() + 3 * 86_400_000).toISOString();
  await changeStatus(leadId, { new_status: 'tour_scheduled', tour_at: tourAt });
  await changeStatus(leadId, { new_status: 'toured' });
  // Placed by staff with the rent the fee is a share of; APFM did not report it, so it is reported to APFM.
  await changeStatus(leadId, { new_status: 'placed', context_data: { monthly_rent: 5150 } });
  await journeyWhere(harness, workspaceId, leadId, (s) => s.status === 'placed');

  expect(await reported(apfm, referralId, 4)).toEqual([
    'contacted',
    'pre_tour',
    'post_tour',
    'move_in report',
  ]);
  expect(await settledSyncs(leadId, 'apfm')).toEqual([
    ['contacted', 'contacted', 'success'],
    ['tour_scheduled', 'pre_tour', 'success'],
    ['toured', 'post_tour', 'success'],
    ['placed', 'move_in', 'success'],
  ]);
  // APFM's own record shows the move-in, as the read-back confirmed.
  expect(apfm.referrals.get(referralId)).toMatchObject({
    status: 'move_in',
    move_in_date: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
  });

  const tasks = await harness.pool.query('SELECT kind FROM staff_tasks WHERE lead_id = $1', [leadId]);
  expect(tasks.rows.map((r) => r.kind)).not.toContain('referral_deadline_missed:apfm');

  const fees = await call(api('/referral-fees'), 'GET', key);
  expect(fees.body.referral_fees.filter((f: any) => f.lead_id === leadId)).toEqual([
    expect.objectContaining({
      partner: 'apfm',
      won_status: 'placed',
      monthly_rent: 5150,
      amount: 5150,
      status: 'pending',
    }),
  ]);
});

test("the family's tour SMS carries the workspace's Twilio status callback, and Twilio's callback marks it delivered", async () => {
  const phone = freshPhone();
  const { leadId } = await referral('apfm', apfm, phone);
  await changeStatus(leadId, { new_status: 'contacted' });
  await changeStatus(leadId, {
    new_status: 'tour_scheduled',
    tour_at: new Date(Date.now() + 2 * 86_400_000).toISOString(),
  });
  const sms = await twilio.messages.waitFor((m) => m.to === phone);
  expect(sms.statusCallback).toBe(integrations.twilio!.webhook_url);

  // Our record of the send is written once Twilio answered; its status callback comes after that.
  await waitFor(`the SMS to ${phone} recorded as sent`, async () => {
    const { rows } = await harness.pool.query(
      `SELECT status FROM notification_deliveries WHERE provider_id = $1`,
      [sms.sid],
    );
    return rows[0]?.status === 'sent' ? rows[0] : undefined;
  });
  // Twilio posts the delivery status to that URL, signed with the account's auth token.
  const params = {
    MessageSid: sms.sid,
    MessageStatus: 'delivered',
    AccountSid: twilio.accountSid,
    From: '+13035550100',
    To: phone,
    SmsSid: sms.sid,
    SmsStatus: 'delivered',
    ApiVersion: '2010-04-01',
  };
  const answer = await post(sms.statusCallback!, new URLSearchParams(params).toString(), {
    'content-type': 'application/x-www-form-urlencoded',
    'x-twilio-signature': getExpectedTwilioSignature(twilio.authToken, sms.statusCallback!, params),
  });
  expect(answer.status).toBe(200);
  const delivery = await waitFor(`the SMS to ${phone} marked delivered`, async () => {
    const { rows } = await harness.pool.query(
      `SELECT status FROM notification_deliveries WHERE provider_id = $1`,
      [sms.sid],
    );
    return rows[0]?.status === 'delivered' ? rows[0] : undefined;
  });
  expect(delivery).toEqual({ status: 'delivered' });
});

test('a Caring.com referral placed by staff is reported to Caring.com as a move-in, and its fee recorded', async () => {
  const { referralId, leadId } = await referral('caring', caring, freshPhone());
  for (const status of ['contacted', 'qualified', 'application'])
    await changeStatus(leadId, { new_status: status });
  await changeStatus(leadId, { new_status: 'placed', context_data: { monthly_rent: 4800 } });
  await journeyWhere(harness, workspaceId, leadId, (s) => s.status === 'placed');
  expect(await reported(caring, referralId, 4)).toEqual([
    'contacted',
    'qualified',
    'deposit',
    'move_in report',
  ]);
  expect(caring.referrals.get(referralId)).toMatchObject({
    status: 'moved_in',
    move_in_date: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
  });
  const fees = await call(api('/referral-fees'), 'GET', key);
  expect(fees.body.referral_fees.find((f: any) => f.lead_id === leadId)).toMatchObject({
    partner: 'caring',
    amount: 4800,
  });
});
