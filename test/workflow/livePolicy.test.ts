// What staff change while leads are mid-journey applies to them at once: a rule created or a partner connected
// after the run started acts on the lead's next status change, and time-of-day conditions read local time from
// the zone's name at the decision, so they keep their meaning across a daylight-saving change (time-skipping).
import { randomUUID } from 'node:crypto';
import { createIntegration } from '../../data/integrations';
import { startHubSpotSandbox, type HubSpotSandbox } from '../../infra/sandbox/hubspot';
import { KeyRing } from '../../shared/crypto';
import { localMinutes } from '../../shared/journey/localTime';
import { changeStatusUpdate } from '../../shared/journey/messages';
import { at, startTimeSkipping, type TimeSkipping } from '../support/timeSkipping';
import { waitFor } from '../support/wait';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const ZONE = 'America/Chicago'; // the harness's property `oak`

let ts: TimeSkipping;
let hubspot: HubSpotSandbox;
const keyRing = KeyRing.parse(KeyRing.generateSpec('live'));

beforeAll(async () => {
  [ts, hubspot] = await Promise.all([startTimeSkipping({ notify: { keyRing } }), startHubSpotSandbox()]);
  // Journeys here live for months of skipped time: no stale nudge or auto-lost may end them first.
  await ts.pool.query(`UPDATE workspaces SET follow_up_policy = $2 WHERE id = $1`, [
    ts.workspaceId,
    JSON.stringify({ staleDays: 3650, autoLostDays: 3650 }),
  ]);
});
afterAll(async () => {
  await ts?.stop();
  await hubspot?.close();
});

const change = (to: string) => ({
  requestId: randomUUID(),
  to: to as never,
  source: 'staff' as const,
  occurredAt: at(),
});

async function addRule(conditions: Record<string, unknown>, kind: string): Promise<string> {
  const { rows } = await ts.pool.query<{ id: string }>(
    `INSERT INTO status_workflow_rules (workspace_id, property_id, trigger_status, conditions, actions)
     VALUES ($1, 'oak', 'contacted', $2, $3) RETURNING id`,
    [ts.workspaceId, JSON.stringify(conditions), JSON.stringify([{ type: 'create_task', config: { kind } }])],
  );
  return rows[0]!.id;
}

async function deactivate(ruleId: string): Promise<void> {
  await ts.pool.query('UPDATE status_workflow_rules SET is_active = false WHERE id = $1', [ruleId]);
}

async function taskKinds(leadId: string): Promise<string[]> {
  const { rows } = await ts.pool.query('SELECT kind FROM staff_tasks WHERE lead_id = $1 ORDER BY kind', [
    leadId,
  ]);
  return rows.map((row) => row.kind as string);
}

test('a rule created while the lead is mid-journey fires at its next status change', async () => {
  const leadId = await ts.newLead();
  const handle = await ts.start(leadId);
  const ruleId = await addRule({}, 'added_mid_journey');
  try {
    const answer = await handle.executeUpdate(changeStatusUpdate, { args: [change('contacted')] });
    expect(answer.workflow_actions_triggered).toEqual(['create_task']);
    await ts.until(handle, (s) => s.status === 'contacted');
    expect(await taskKinds(leadId)).toContain('task:added_mid_journey');
  } finally {
    await deactivate(ruleId);
  }
});

test('a partner connected while the lead is mid-journey gets its next status change', async () => {
  const leadId = await ts.newLead();
  const handle = await ts.start(leadId);
  // Nothing is connected when the run starts: the inquiry is pushed nowhere.
  const integration = await createIntegration(ts.pool, keyRing, {
    workspaceId: ts.workspaceId,
    partner: 'hubspot',
    name: 'HubSpot connected mid-journey',
    config: { base_url: hubspot.url },
    credentials: { access_token: hubspot.accessToken },
  });
  try {
    await handle.executeUpdate(changeStatusUpdate, { args: [change('contacted')] });
    const syncs = await waitFor(`a settled HubSpot push of lead ${leadId}`, async () => {
      const { rows } = await ts.pool.query(
        `SELECT partner, status, outcome FROM partner_syncs WHERE lead_id = $1 ORDER BY created_at`,
        [leadId],
      );
      return rows.length > 0 && rows.every((row) => row.outcome !== 'pending') ? rows : undefined;
    });
    expect(syncs).toEqual([{ partner: 'hubspot', status: 'contacted', outcome: 'success' }]);
  } finally {
    await ts.pool.query(`UPDATE integrations SET deleted_at = now() WHERE id = $1`, [integration.id]);
  }
});

/** The first moment after `fromMs` (to the minute) when the zone's UTC offset differs from the one at `fromMs`. */
function nextOffsetChange(fromMs: number): number {
  const offset = (ms: number) => {
    const utc = new Date(ms).getUTCHours() * 60 + new Date(ms).getUTCMinutes();
    return (localMinutes(new Date(ms).toISOString(), ZONE) - utc + 1440) % 1440;
  };
  const first = offset(fromMs);
  let ms = fromMs;
  while (offset(ms) === first) ms += HOUR;
  return ms;
}

test('a time-of-day rule keeps its local window across a daylight-saving change that happens mid-run', async () => {
  const startMs = await ts.env.currentTimeMs();
  const dstChange = nextOffsetChange(startMs);
  // A day after the change, the next moment the property's clock reads 10:00.
  let target = Math.ceil((dstChange + 24 * HOUR) / MINUTE) * MINUTE;
  while (localMinutes(new Date(target).toISOString(), ZONE) !== 10 * 60) target += MINUTE;
  // The window holds 10:00 local; with the offset the run started with, the same instant reads 09:00 or 11:00.
  const ruleId = await addRule({ time_of_day: '09:45-10:15' }, 'morning_window');
  try {
    const leadId = await ts.newLead();
    const handle = await ts.start(leadId);
    await ts.env.sleep(target - (await ts.env.currentTimeMs()) + MINUTE);
    const now = await ts.env.currentTimeMs();
    expect(localMinutes(new Date(now).toISOString(), ZONE)).toBeGreaterThanOrEqual(10 * 60);
    const answer = await handle.executeUpdate(changeStatusUpdate, { args: [change('contacted')] });
    expect(answer.workflow_actions_triggered).toEqual(['create_task']);
    await ts.until(handle, (s) => s.status === 'contacted');
    expect(await taskKinds(leadId)).toContain('task:morning_window');
  } finally {
    await deactivate(ruleId);
  }
});
