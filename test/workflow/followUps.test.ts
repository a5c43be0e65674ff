// Follow-up deadlines as durable timers, under time-skipping: each fires once at its time, the event that
// makes it moot cancels it, and NextFollowUpAt (query, projection) follows the earliest one.
import { randomUUID } from 'node:crypto';
import { changeStatusUpdate } from '../../shared/journey/messages';
import { at, staffChange, startTimeSkipping, type TimeSkipping } from '../support/timeSkipping';

let ts: TimeSkipping;
beforeAll(async () => {
  ts = await startTimeSkipping();
});
afterAll(async () => {
  await ts?.stop();
});

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

async function notifications(leadId: string) {
  const { rows } = await ts.pool.query(
    // Follow-up notifications only: status changes notify staff too (see notifications.test.ts).
    `SELECT audience, template FROM notifications WHERE lead_id = $1 AND template <> 'status_changed'
        AND template !~ '_to_(new|contacted|qualified|tour_scheduled|toured|application|leased|placed|lost)$'
      ORDER BY created_at, template, audience`,
    [leadId],
  );
  return rows.map((r) => `${r.audience}:${r.template}`);
}

async function tasks(leadId: string) {
  const { rows } = await ts.pool.query(
    'SELECT kind FROM staff_tasks WHERE lead_id = $1 ORDER BY created_at',
    [leadId],
  );
  return rows.map((r) => r.kind as string);
}

const change = staffChange;

test('speed-to-lead escalates to the manager when nobody contacted the lead within 15 minutes', async () => {
  const leadId = await ts.newLead();
  const handle = await ts.start(leadId);
  const before = await ts.until(handle, () => true);
  const createdAt = Date.parse(before.statusChangedAt);
  expect(Date.parse(before.nextFollowUpAt!)).toBe(createdAt + 15 * MINUTE);

  await ts.env.sleep(16 * MINUTE);
  await ts.rowsOf("SELECT 1 FROM staff_tasks WHERE lead_id = $1 AND kind = 'speed_to_lead_missed'", [leadId]);
  expect(await notifications(leadId)).toEqual(['staff:speed_to_lead_escalation']);
  // Next is the stale nudge, 7 days after the last activity; the projection says the same.
  const after = await ts.until(handle, (s) => s.nextFollowUpAt !== before.nextFollowUpAt);
  expect(Date.parse(after.nextFollowUpAt!)).toBe(Date.parse(after.updatedAt) + 7 * DAY);
  const projection = await ts.pool.query('SELECT next_follow_up_at FROM leads WHERE id = $1', [leadId]);
  expect((projection.rows[0].next_follow_up_at as Date).toISOString()).toBe(after.nextFollowUpAt);
});

test('an answered call within the window cancels speed-to-lead', async () => {
  const leadId = await ts.newLead();
  const handle = await ts.start(leadId);
  await ts.send(handle, {
    kind: 'call',
    callId: 'c-1',
    direction: 'inbound',
    answered: true,
    eventId: randomUUID(),
    occurredAt: at(),
    source: 'partner:callrail',
  });
  await ts.env.sleep(30 * MINUTE);
  const state = await ts.until(handle, () => true);
  expect(state.status).toBe('contacted');
  expect(await tasks(leadId)).toEqual([]);
  expect(await notifications(leadId)).toEqual([]);
});

test('tour reminders reach prospect and agent 24 h and 2 h before, then the outcome request; a cancellation stops them', async () => {
  const leadId = await ts.newLead();
  const handle = await ts.start(leadId);
  const now = Date.parse((await ts.until(handle, () => true)).updatedAt);
  const tourAt = new Date(now + 3 * DAY).toISOString();
  await handle.executeUpdate(changeStatusUpdate, { args: [change('tour_scheduled', { facts: { tourAt } })] });

  await ts.env.sleep(2 * DAY + 1 * HOUR); // 23 h before the tour
  await ts.rowsOf("SELECT 1 FROM notifications WHERE lead_id = $1 AND template = 'tour_reminder_24h'", [
    leadId,
  ]);
  expect(await notifications(leadId)).toEqual(['prospect:tour_reminder_24h', 'staff:tour_reminder_24h']);

  await ts.env.sleep(22 * HOUR); // 1 h before
  await ts.rowsOf("SELECT 1 FROM notifications WHERE lead_id = $1 AND template = 'tour_reminder_2h'", [
    leadId,
  ]);
  await ts.env.sleep(2 * HOUR); // 1 h after the start
  const state = await ts.until(handle, () => true);
  expect(Date.parse(state.nextFollowUpAt!)).toBe(Date.parse(tourAt) + 2 * HOUR);
  await ts.env.sleep(2 * HOUR);
  await ts.rowsOf(
    "SELECT 1 FROM notifications WHERE lead_id = $1 AND template = 'post_tour_outcome_request'",
    [leadId],
  );

  // A second lead whose tour is cancelled hears nothing more.
  const other = await ts.newLead();
  const otherHandle = await ts.start(other);
  const otherNow = Date.parse((await ts.until(otherHandle, () => true)).updatedAt);
  const otherTour = new Date(otherNow + 3 * DAY).toISOString();
  await otherHandle.executeUpdate(changeStatusUpdate, {
    args: [change('tour_scheduled', { facts: { tourAt: otherTour } })],
  });
  await ts.send(otherHandle, {
    kind: 'tour_cancelled',
    reason: 'family visit moved',
    eventId: randomUUID(),
    occurredAt: at(),
    source: 'partner:calendly',
  });
  await ts.env.sleep(3 * DAY);
  await ts.until(otherHandle, () => true);
  expect((await notifications(other)).filter((n) => n.includes('tour'))).toEqual([]);
});

test('a silent lead gets a stale nudge at 7 days and is lost automatically at 30, which ends its run', async () => {
  const leadId = await ts.newLead();
  const handle = await ts.start(leadId);
  await handle.executeUpdate(changeStatusUpdate, { args: [change('contacted')] });
  await ts.env.sleep(8 * DAY);
  await ts.rowsOf("SELECT 1 FROM notifications WHERE lead_id = $1 AND template = 'stale_lead_nudge'", [
    leadId,
  ]);
  const result = await handle.result(); // time skips on while the client waits for the end
  expect(result.status).toBe('lost');
  const { rows } = await ts.pool.query(
    "SELECT reason, source FROM status_history WHERE lead_id = $1 AND new_status = 'lost' AND entry_type = 'applied'",
    [leadId],
  );
  expect(rows).toEqual([{ reason: 'no activity: lost automatically', source: 'system' }]);
  const lead = await ts.pool.query('SELECT status, next_follow_up_at FROM leads WHERE id = $1', [leadId]);
  expect(lead.rows[0]).toEqual({ status: 'lost', next_follow_up_at: null });
});

test('an A Place for Mom referral not answered within 2 hours is a visible breach', async () => {
  const leadId = await ts.newLead({ email: `${randomUUID()}@example.com`, source: 'apfm' });
  const handle = await ts.start(leadId, {
    kind: 'inquiry',
    eventId: randomUUID(),
    occurredAt: at(),
    source: 'partner:apfm',
  });
  await ts.env.sleep(2 * HOUR + MINUTE);
  await ts.rowsOf("SELECT 1 FROM staff_tasks WHERE lead_id = $1 AND kind = 'referral_deadline_missed:apfm'", [
    leadId,
  ]);
  expect(await tasks(leadId)).toEqual(['speed_to_lead_missed', 'referral_deadline_missed:apfm']);
  await ts.until(handle, () => true);
});
