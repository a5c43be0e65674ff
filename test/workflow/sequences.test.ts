// Nurture sequences inside the journey, under time-skipping: an inquiry enrols the lead, each step waits on the
// journey's own deadline timer and goes through the one notification path (real SMTP, the Twilio sandbox), sequence
// email is tracked and carries List-Unsubscribe, and the lead leaves on a status change, on STOP, when staff stop
// it or the sequence is paused; a step due at night waits for the morning; a lost lead's win-back outlives the run's
// final status.
import { randomUUID } from 'node:crypto';
import { createEmailChannel } from '../../activities/notify/email';
import { createSmsChannel } from '../../activities/notify/sms';
import { readTrackingToken } from '../../activities/notify/tracking';
import { createMessageTemplate, createSequence, stopEnrolment, updateSequence } from '../../data/sequences';
import { startMailbox, type Mailbox } from '../../infra/local/mailbox';
import { startTwilioSandbox, type TwilioSandbox } from '../../infra/sandbox/twilio';
import { KeyRing } from '../../shared/crypto';
import { DEFAULT_EXIT_RULES, type SequenceTrigger } from '../../shared/journey/sequences';
import { changeStatusUpdate } from '../../shared/journey/messages';
import { storedSteps, waitMinutes } from '../../shared/sequences';
import {
  at,
  staffChange,
  startTimeSkipping,
  type JourneyHandle,
  type TimeSkipping,
} from '../support/timeSkipping';
import { recorded, remainingMs } from '../support/wait';
import { scheduledActivities } from '../support/history';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const keyRing = KeyRing.parse(KeyRing.generateSpec());

let ts: TimeSkipping;
let mailbox: Mailbox;
let twilio: TwilioSandbox;

beforeAll(async () => {
  [mailbox, twilio] = await Promise.all([startMailbox({ smtpPort: 0, httpPort: 0 }), startTwilioSandbox()]);
  ts = await startTimeSkipping({
    notify: {
      channels: {
        email: createEmailChannel({ smtpUrl: mailbox.smtpUrl, from: 'Oak <leasing@oak.example>' }),
        sms: createSmsChannel({
          accountSid: twilio.accountSid,
          authToken: twilio.authToken,
          from: '+15005550006',
          apiBaseUrl: twilio.url,
        }),
      },
      apiUrl: 'http://leadrelay.test',
      keyRing,
    },
  });
  await createMessageTemplate(ts.pool, ts.workspaceId, {
    id: 'welcome',
    name: 'Welcome',
    channel: 'email',
    subject: 'Welcome to {property_name}, {first_name}',
    body: 'Hi {first_name}, thanks for asking about {property_name}. See floor plans at https://oak.example/plans.',
  });
  await createMessageTemplate(ts.pool, ts.workspaceId, {
    id: 'tour-nudge',
    name: 'Tour nudge',
    channel: 'sms',
    subject: '',
    body: 'Hi {first_name}, want to see {property_name}? Reply with a day that suits you.',
  });
});
afterAll(async () => {
  await ts?.stop();
  await Promise.all([mailbox?.stop(), twilio?.close()]);
});

/** A property of its own (sequences are scoped to it) where it is `hour` o'clock now on the test clock. */
const propertyAt = (hour: number) => ts.propertyAt(hour, 'Oak Grove');

async function sequence(
  propertyId: string,
  trigger: SequenceTrigger,
  steps: [string, 'email' | 'sms', string][],
  exitOn = DEFAULT_EXIT_RULES,
) {
  return createSequence(ts.pool, ts.workspaceId, {
    name: `Nurture ${propertyId}`,
    propertyId,
    trigger,
    steps: storedSteps(
      steps.map(([wait, channel, template_id]) => ({
        wait: { text: wait, minutes: waitMinutes(wait)! },
        channel,
        template_id,
      })),
    ),
    exitOn,
    isActive: true,
  });
}

async function lead(propertyId: string, contact: { email?: string; phone?: string }) {
  const leadId = await ts.newLead({ ...contact, propertyId });
  await ts.pool.query("UPDATE leads SET first_name = 'Maya' WHERE id = $1", [leadId]);
  return { leadId, handle: await ts.start(leadId) };
}

async function enrolment(leadId: string, where: string, params: unknown[] = []) {
  const [row] = await ts.rowsOf(`SELECT * FROM sequence_enrolments WHERE lead_id = $1 AND ${where}`, [
    leadId,
    ...params,
  ]);
  return row!;
}

const deliveries = async (leadId: string) =>
  (
    await ts.pool.query(
      `SELECT channel, status, sequence_step, not_before, error FROM notification_deliveries
        WHERE lead_id = $1 AND enrolment_id IS NOT NULL ORDER BY created_at`,
      [leadId],
    )
  ).rows;

const change = staffChange;

async function settle(handle: JourneyHandle) {
  return ts.until(handle, (s) => s.pendingDeliveries === 0);
}

test('an inquiry enrols the lead: a tracked email after an hour, an SMS a day later, then it completes', async () => {
  const propertyId = await propertyAt(12);
  const nurture = await sequence(propertyId, { event: 'inquiry' }, [
    ['1h', 'email', 'welcome'],
    ['1d', 'sms', 'tour-nudge'],
  ]);
  const email = `${randomUUID()}@example.com`;
  const { leadId, handle } = await lead(propertyId, { email, phone: '+13035550111' });
  const enrolled = await enrolment(leadId, "state = 'active'");
  expect(enrolled).toMatchObject({ sequence_id: nurture.id, trigger: 'inquiry', step: 0 });
  // The inquiry's recording answered which sequences it matched: no read of the journey's own.
  const scheduled = scheduledActivities((await handle.fetchHistory()).events);
  expect(scheduled.filter((name) => name === 'recordJourneyChange').length).toBeGreaterThanOrEqual(2);
  expect(scheduled).not.toContain('matchSequences');

  await ts.env.sleep(61 * MINUTE);
  const mail = await mailbox.waitFor((m) => m.to.includes(email), remainingMs());
  expect(mail.subject).toBe('Welcome to Oak Grove, Maya');
  expect(mail.headers['list-unsubscribe']).toMatch(/^<http:\/\/leadrelay\.test\/unsubscribe\/[^>]+>$/);
  // Links go through a signed redirect to the very URL the template held; an open pixel rides in the HTML.
  const click = /http:\/\/leadrelay\.test\/t\/c\/([\w-]+\.[\w-]+\.[\w-]+)/.exec(mail.text)![1]!;
  expect(readTrackingToken(keyRing, click)).toMatchObject({ url: 'https://oak.example/plans' });
  expect(mail.html).toMatch(/<img src="http:\/\/leadrelay\.test\/t\/o\/[A-Za-z0-9_.-]+\.gif"/);
  await enrolment(leadId, 'step = 1');

  await ts.env.sleep(DAY);
  const sms = await recorded('the nurture SMS', twilio.messages, (m) => m.to === '+13035550111');
  expect(sms.body).toBe(
    'Hi Maya, want to see Oak Grove? Reply with a day that suits you. Reply STOP to opt out.',
  );
  const done = await enrolment(leadId, "state = 'completed'");
  expect(done).toMatchObject({ step: 2, next_step_at: null });
  await settle(handle);
  expect((await deliveries(leadId)).map((d) => [d.channel, d.status, d.sequence_step])).toEqual([
    ['email', 'sent', 0],
    ['sms', 'sent', 1],
  ]);
});

test('a lead that moves on leaves at once: no further step goes', async () => {
  const propertyId = await propertyAt(12);
  await sequence(propertyId, { event: 'inquiry' }, [['2h', 'email', 'welcome']]);
  const email = `${randomUUID()}@example.com`;
  const { leadId, handle } = await lead(propertyId, { email });
  await enrolment(leadId, "state = 'active'");
  await ts.env.sleep(30 * MINUTE);
  await handle.executeUpdate(changeStatusUpdate, { args: [change('contacted')] });
  const left = await enrolment(leadId, "state = 'exited'");
  expect(left.exit_reason).toBe('status contacted');
  await ts.env.sleep(3 * HOUR);
  await settle(handle);
  expect(mailbox.messages().filter((m) => m.to.includes(email))).toEqual([]);
  expect(await deliveries(leadId)).toEqual([]);
});

test('a step due at night waits for 08:00 local time; STOP meanwhile withdraws it and ends the enrolment', async () => {
  const propertyId = await propertyAt(3);
  await sequence(propertyId, { event: 'inquiry' }, [
    ['5m', 'sms', 'tour-nudge'],
    ['1d', 'sms', 'tour-nudge'],
  ]);
  const quiet = await lead(propertyId, { phone: '+13035550122' });
  const stopping = await lead(propertyId, { phone: '+13035550133' });
  await ts.env.sleep(10 * MINUTE);
  const [waiting] = await ts.rowsOf(
    'SELECT not_before, status FROM notification_deliveries WHERE lead_id = $1 AND enrolment_id IS NOT NULL',
    [quiet.leadId],
  );
  expect(waiting).toMatchObject({ status: 'pending', not_before: expect.any(Date) });
  expect(twilio.messages.items.filter((m) => m.to === '+13035550122')).toEqual([]);

  await ts.send(stopping.handle, {
    kind: 'sms_opt_out',
    eventId: randomUUID(),
    occurredAt: at(),
    source: 'partner:twilio',
  });
  expect((await enrolment(stopping.leadId, "state = 'exited'")).exit_reason).toBe('replied STOP');

  await ts.env.sleep(6 * HOUR); // past 08:00 local
  const sent = await recorded('the morning SMS', twilio.messages, (m) => m.to === '+13035550122');
  expect(await ts.env.currentTimeMs()).toBeGreaterThanOrEqual((waiting!.not_before as Date).getTime());
  expect(sent.body).toContain('want to see Oak Grove');
  await settle(stopping.handle);
  expect(twilio.messages.items.filter((m) => m.to === '+13035550133')).toEqual([]);
  expect((await deliveries(stopping.leadId)).map((d) => [d.status, d.error])).toEqual([
    ['skipped', 'recipient opted out of SMS'],
  ]);
});

test('staff stopping an enrolment, or pausing the sequence, ends it at its next step without sending', async () => {
  const propertyId = await propertyAt(12);
  const nurture = await sequence(propertyId, { event: 'inquiry' }, [
    ['1h', 'email', 'welcome'],
    ['1h', 'email', 'welcome'],
  ]);
  const stopped = await lead(propertyId, { email: `${randomUUID()}@example.com` });
  const paused = await lead(propertyId, { email: `${randomUUID()}@example.com` });
  const enrolled = await enrolment(stopped.leadId, "state = 'active'");
  await enrolment(paused.leadId, "state = 'active'");
  // What the api does: the row first (a step coming due reads it), then the journey is told.
  expect(
    await stopEnrolment(ts.pool, ts.workspaceId, stopped.leadId, String(enrolled.id), 'stopped by staff'),
  ).toBe(true);
  await ts.send(stopped.handle, {
    kind: 'sequence_stop',
    enrolmentId: String(enrolled.id),
    eventId: randomUUID(),
    occurredAt: at(),
    source: 'staff',
  });
  await updateSequence(ts.pool, ts.workspaceId, nurture.id, { isActive: false });
  await ts.env.sleep(2 * HOUR);
  expect((await enrolment(paused.leadId, "state = 'exited'")).exit_reason).toBe('the sequence was paused');
  expect((await enrolment(stopped.leadId, "state = 'stopped'")).exit_reason).toBe('stopped by staff');
  await settle(paused.handle);
  expect(await deliveries(stopped.leadId)).toEqual([]);
  expect(await deliveries(paused.leadId)).toEqual([]);
});

test('lost with a reason enrols a win-back that goes on after the final status; the run ends after its last step', async () => {
  const propertyId = await propertyAt(12);
  await sequence(propertyId, { event: 'status', status: 'lost', reasons: ['price'] }, [
    ['2d', 'email', 'welcome'],
  ]);
  const email = `${randomUUID()}@example.com`;
  const { leadId, handle } = await lead(propertyId, { email });
  await handle.executeUpdate(changeStatusUpdate, { args: [change('lost', { reason: 'Price too high' })] });
  expect(await enrolment(leadId, "state = 'active'")).toMatchObject({ trigger: 'status:lost' });
  const result = await handle.result(); // time skips on while the client waits for the end
  expect(result.status).toBe('lost');
  // The staff change's recording answered the match; the loop waited for it instead of reading on its own.
  expect(scheduledActivities((await handle.fetchHistory()).events)).not.toContain('matchSequences');
  await mailbox.waitFor((m) => m.to.includes(email), remainingMs());
  expect(await enrolment(leadId, "state = 'completed'")).toMatchObject({ step: 1 });
});
