// Partners without webhooks are polled by Temporal Schedules: ResMan prospects (its sandbox twin) become leads
// once, changes there become one journey event, the cursor survives a worker restart, a 429 is retried after its
// Retry-After and a final refusal puts the integration in error with a staff task.
import { randomUUID } from 'node:crypto';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { RESMAN_OVERLAP_MS } from '../../activities/partners/resman';
import { ensurePollSchedules, pollScheduleId } from '../../usecases/pollSchedules';
import { createWorker } from '../../services/worker/worker';
import { KeyRing } from '../../shared/crypto';
import { startReferralSandbox } from '../../infra/sandbox/referral';
import { startResManSandbox, type ResManSandbox } from '../../infra/sandbox/resman';
import { testStack } from '../setup/stack';
import { call, ENCRYPTION_KEYS, registerWorkspace, startHarness, type Harness } from '../support/harness';
import { historyRows, journeyWhere, uniqueEmail } from '../support/ingest';

let harness: Harness;
let sandbox: ResManSandbox;
let workspaceId: string;
let key: string;
let integrationId: string;

const api = (path: string) => `${harness.apiUrl}/api/v1${path}`;

beforeAll(async () => {
  harness = await startHarness();
  sandbox = await startResManSandbox();
  ({ workspaceId, apiKey: key } = await registerWorkspace(harness.apiUrl));
  await call(api('/properties'), 'POST', key, {
    property_id: 'oak',
    name: 'Oak Terrace',
    timezone: 'America/Chicago',
    vertical: 'multifamily',
  });
  const created = await call(api('/integrations'), 'POST', key, {
    partner: 'resman',
    name: 'ResMan Oak Terrace',
    property_id: 'oak',
    // A day between scheduled polls: in this file every poll is one the test asks for ("sync now").
    config: {
      base_url: sandbox.url,
      property_id: sandbox.propertyId,
      default_source_id: sandbox.sources[0]!.ID,
      poll_interval_minutes: 1440,
    },
    credentials: sandbox.credentials,
  });
  expect(created.status).toBe(201);
  integrationId = created.body.id;
});
afterAll(async () => {
  if (integrationId) await call(api(`/integrations/${integrationId}`), 'DELETE', key);
  await harness?.stop();
  await sandbox?.close();
});

/** "Sync now" and the poll's result once its workflow finishes. */
async function pollNow(): Promise<any> {
  const answer = await call(api(`/integrations/${integrationId}/sync`), 'POST', key);
  expect(answer.status).toBe(202);
  expect(answer.body.workflow_id).toMatch(new RegExp(`^poll/${integrationId}-`));
  return harness.client.workflow.getHandle(answer.body.workflow_id, answer.body.run_id).result();
}

async function integrationRow(): Promise<any> {
  const { rows } = await harness.pool.query('SELECT * FROM integrations WHERE id = $1', [integrationId]);
  return rows[0];
}

async function leadOf(prospectId: string): Promise<string | undefined> {
  const { rows } = await harness.pool.query(
    `SELECT lead_id FROM lead_external_ids WHERE workspace_id = $1 AND partner = 'resman' AND external_id = $2`,
    [workspaceId, prospectId],
  );
  return rows[0]?.lead_id;
}

const count = async (sql: string, params: unknown[]) =>
  Number((await harness.pool.query(sql, params)).rows[0].count);
const inboxCount = () =>
  count('SELECT count(*) FROM inbox_events WHERE integration_id = $1', [integrationId]);
const leadCount = () => count('SELECT count(*) FROM leads WHERE workspace_id = $1', [workspaceId]);
const searches = () => sandbox.requests.items.filter((r) => r.url.includes('MITS/SearchProspects'));

const hourAgo = () => new Date(Date.now() - 3600_000).toISOString();

test('creating a ResMan integration with credentials creates its poll schedule on the worker’s queue', async () => {
  const description = await harness.client.schedule.getHandle(pollScheduleId(integrationId)).describe();
  expect(description.state.paused).toBe(false);
  expect(description.policies.overlap).toBe('SKIP');
  expect(description.spec.intervals).toEqual([expect.objectContaining({ every: 1440 * 60_000 })]);
  expect(description.action).toMatchObject({ workflowType: 'pollIntegration', taskQueue: harness.taskQueue });
});

describe('polling ResMan', () => {
  const prospects: { id: string; email: string }[] = [];

  test('the first poll makes a lead of each prospect entered in ResMan', async () => {
    for (const name of ['Ada', 'Grace']) {
      const email = uniqueEmail(name.toLowerCase());
      const seeded = sandbox.seedProspect({
        firstName: name,
        lastName: 'Tenant',
        email,
        createdAt: hourAgo(),
      });
      prospects.push({ id: seeded.prospectId, email });
    }
    const result = await pollNow();
    expect(result).toMatchObject({ outcome: 'polled', fetched: 2, duplicates: 0 });
    expect(result.delivered.delivered).toBe(2);
    for (const prospect of prospects) {
      const leadId = await leadOf(prospect.id);
      expect(leadId).toBeDefined();
      // ResMan's plain "prospect" is our contacted.
      const state = await journeyWhere(harness, workspaceId, leadId!, (s) => s.status === 'contacted');
      expect(state.propertyId).toBe('oak');
    }
    const { rows } = await harness.pool.query(
      `SELECT email, source FROM leads WHERE workspace_id = $1 ORDER BY email`,
      [workspaceId],
    );
    expect(rows).toEqual(
      prospects
        .map((p) => ({ email: p.email, source: 'resman' }))
        .sort((a, b) => a.email.localeCompare(b.email)),
    );
    const row = await integrationRow();
    expect(row.poll_cursor).not.toBeNull();
    expect(row.last_success_at).not.toBeNull();
    expect(row.last_error).toBeNull();
  });

  test('a second poll creates nothing new', async () => {
    const [leads, inbox] = [await leadCount(), await inboxCount()];
    const result = await pollNow();
    expect(result.outcome).toBe('polled');
    expect(result.delivered.delivered).toBe(0);
    expect(await leadCount()).toBe(leads);
    expect(await inboxCount()).toBe(inbox);
  });

  test('a status change made in ResMan becomes one journey event, however often it is polled', async () => {
    const prospect = prospects[0]!;
    const leadId = (await leadOf(prospect.id))!;
    sandbox.changeProspect(prospect.id, { type: 'applicant', event: { type: 'Application' } });
    const result = await pollNow();
    expect(result.delivered.delivered).toBe(1);
    await journeyWhere(harness, workspaceId, leadId, (s) => s.status === 'application');
    const applied = async () =>
      (await historyRows(harness, leadId)).filter(
        (h) => h.entry_type === 'applied' && h.new_status === 'application',
      );
    expect(await applied()).toEqual([
      expect.objectContaining({ source: 'partner:resman', direction: 'inbound' }),
    ]);

    // The next poll re-reads the last minutes of the window (ResMan has no paging): the same change again.
    const again = await pollNow();
    expect(again.duplicates).toBeGreaterThanOrEqual(1);
    expect(again.delivered.delivered).toBe(0);
    expect(await applied()).toHaveLength(1);
  });

  test('a 429 is retried after the Retry-After ResMan sent, then the poll succeeds', async () => {
    const before = searches().length;
    sandbox.faults = [{ status: 429, retryAfterSeconds: 1, pathIncludes: 'SearchProspects' }];
    const result = await pollNow();
    expect(result.outcome).toBe('polled');
    const attempts = searches().slice(before);
    expect(attempts.map((r) => r.status)).toEqual([429, 200]);
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(900);
    const row = await integrationRow();
    expect(row).toMatchObject({ status: 'active', last_error: null, consecutive_failures: 0 });
  });

  test('a final 401 is recorded, not retried: the integration is in error, staff get a task', async () => {
    const before = searches().length;
    sandbox.faults = [{ status: 401, pathIncludes: 'SearchProspects' }];
    const result = await pollNow();
    expect(result.outcome).toBe('failed');
    expect(result.detail).toMatch(/401/);
    expect(
      searches()
        .slice(before)
        .map((r) => r.status),
    ).toEqual([401]);
    const row = await integrationRow();
    expect(row.status).toBe('error');
    expect(row.last_error).toMatch(/401/);
    const { rows: tasks } = await harness.pool.query(
      `SELECT kind, details FROM staff_tasks WHERE workspace_id = $1 AND kind = 'integration_poll_failed'`,
      [workspaceId],
    );
    expect(tasks).toEqual([
      {
        kind: 'integration_poll_failed',
        details: expect.objectContaining({ integration_id: integrationId, response_code: 401 }),
      },
    ]);
    const schedule = await harness.client.schedule.getHandle(pollScheduleId(integrationId)).describe();
    expect(schedule.state.paused).toBe(true);
    const read = await call(api(`/integrations/${integrationId}`), 'GET', key);
    expect(read.body.health).toMatchObject({
      status: 'failing',
      last_error: expect.stringMatching(/401/),
      poll: { state: 'paused' },
    });
    // Nothing syncs while it is in error.
    const sync = await call(api(`/integrations/${integrationId}/sync`), 'POST', key);
    expect(sync.status).toBe(409);
    expect(sync.body.error).toMatchObject({ code: 'conflict', details: { status: 'error' } });
  });

  test('a passing connection test lifts the integration out of error and resumes its polls', async () => {
    const test = await call(api(`/integrations/${integrationId}/test`), 'POST', key);
    expect(test.status).toBe(200);
    expect(test.body).toMatchObject({ ok: true });
    expect(await integrationRow()).toMatchObject({ status: 'active', last_error: null, last_test_ok: true });
    const schedule = await harness.client.schedule.getHandle(pollScheduleId(integrationId)).describe();
    expect(schedule.state.paused).toBe(false);
    expect((await pollNow()).outcome).toBe('polled');
  });
});

describe('a worker restart', () => {
  const workers: { worker: Worker; running: Promise<void>; connection: NativeConnection }[] = [];
  const taskQueue = `polls-${randomUUID()}`;

  async function startWorker() {
    const connection = await NativeConnection.connect({ address: testStack().temporalAddress });
    const worker = await createWorker({
      connection,
      namespace: 'default',
      taskQueue,
      pool: harness.pool,
      workflowBundle: { codePath: testStack().workflowBundlePath },
      keyRing: KeyRing.parse(ENCRYPTION_KEYS),
      notify: { keyRing: KeyRing.parse(ENCRYPTION_KEYS), temporal: harness.client },
    });
    const entry = { worker, running: worker.run(), connection };
    workers.push(entry);
    return entry;
  }

  async function stopWorker(entry: (typeof workers)[number]) {
    entry.worker.shutdown();
    await entry.running;
    await entry.connection.close();
    workers.splice(workers.indexOf(entry), 1);
  }

  afterAll(async () => {
    for (const entry of [...workers]) await stopWorker(entry);
  });

  test('a worker on another queue takes the schedules over at start, and a restarted one resumes from the saved cursor', async () => {
    const first = await startWorker();
    // What the worker process does at start: every polled integration's schedule targets its queue.
    const report = await ensurePollSchedules(
      { pool: harness.pool, client: harness.client, taskQueue },
      { workspaceId },
    );
    expect(report).toMatchObject({ updated: 1, failed: 0 });
    const description = await harness.client.schedule.getHandle(pollScheduleId(integrationId)).describe();
    expect(description.action.taskQueue).toBe(taskQueue);

    const email = uniqueEmail('restart');
    // Entered in ResMan just now: after the saved cursor, so this poll sees it.
    const seeded = sandbox.seedProspect({ firstName: 'Linus', lastName: 'Tenant', email });
    expect((await pollNow()).delivered.delivered).toBe(1);
    const leadId = (await leadOf(seeded.prospectId))!;
    const cursor: string = (await integrationRow()).poll_cursor;

    await stopWorker(first);
    await startWorker();
    const inbox = await inboxCount();
    const before = searches().length;
    sandbox.changeProspect(seeded.prospectId, { type: 'lost', event: { type: 'Cancel' } });
    const result = await pollNow();
    expect(result.delivered.delivered).toBe(1);
    // The new worker started where the old one stopped, not from the configured look-back.
    const form = new URLSearchParams(searches()[before]!.body);
    expect(form.get('ModifiedStartDateTime')).toBe(
      new Date(Date.parse(cursor) - RESMAN_OVERLAP_MS).toISOString(),
    );
    expect(await inboxCount()).toBe(inbox + 1);
    await journeyWhere(harness, workspaceId, leadId, (s) => s.status === 'lost');

    // Back to the harness's queue for whatever runs after this.
    await ensurePollSchedules(
      { pool: harness.pool, client: harness.client, taskQueue: harness.taskQueue },
      { workspaceId },
    );
  });
});

test('deleting the integration deletes its schedule', async () => {
  const extra = await call(api('/integrations'), 'POST', key, {
    partner: 'resman',
    name: 'ResMan to delete',
    config: { base_url: sandbox.url, property_id: sandbox.propertyId, poll_interval_minutes: 1440 },
    credentials: sandbox.credentials,
  });
  expect(extra.status).toBe(201);
  const handle = harness.client.schedule.getHandle(pollScheduleId(extra.body.id));
  expect((await handle.describe()).scheduleId).toBe(pollScheduleId(extra.body.id));
  expect((await call(api(`/integrations/${extra.body.id}`), 'DELETE', key)).status).toBe(204);
  await expect(handle.describe()).rejects.toThrow(/not found/i);
});

describe('polling A Place for Mom (a community that opts in)', () => {
  test('referrals are fetched page by page into leads once; status changes there reach the journey', async () => {
    const apfm = await startReferralSandbox({ partner: 'apfm', maxPageSize: 2 });
    try {
      await call(api('/properties'), 'POST', key, {
        property_id: 'willow',
        name: 'Willow Gardens',
        timezone: 'America/Chicago',
        vertical: 'senior_living',
      });
      const body = (polling: boolean) => ({
        partner: 'apfm',
        name: `APFM Willow ${polling ? 'polled' : 'webhooks'}`,
        property_id: 'willow',
        config: { base_url: apfm.url, polling, poll_interval_minutes: 1440 },
        credentials: { api_key: apfm.apiKey },
      });
      // Without `polling: true` a referral community receives webhooks: no schedule, so "sync now" polls
      // nothing; it only re-pushes failed status reports (none yet).
      const webhooks = await call(api('/integrations'), 'POST', key, body(false));
      expect(webhooks.status).toBe(201);
      const pushOnly = await call(api(`/integrations/${webhooks.body.id}/sync`), 'POST', key);
      expect(pushOnly.status).toBe(202);
      expect(pushOnly.body).toEqual({ started: true, repushed: 0 });
      await call(api(`/integrations/${webhooks.body.id}`), 'DELETE', key);

      const polled = await call(api('/integrations'), 'POST', key, body(true));
      expect(polled.status).toBe(201);
      const id: string = polled.body.id;
      const referrals = [1, 2, 3].map((n) =>
        apfm.seedReferral({
          referred_at: hourAgo(),
          contact: { first_name: `Family${n}`, last_name: 'Member', email: uniqueEmail(`apfm${n}`) },
        }),
      );
      const sync = async () => {
        const answer = await call(api(`/integrations/${id}/sync`), 'POST', key);
        expect(answer.status).toBe(202);
        return harness.client.workflow.getHandle(answer.body.workflow_id, answer.body.run_id).result();
      };
      const first = await sync();
      expect(first).toMatchObject({ outcome: 'polled', fetched: 3 });
      expect(first.pages).toBeGreaterThanOrEqual(2);
      expect(first.delivered.delivered).toBe(3);
      const leadIds = await Promise.all(
        referrals.map(async (r) => {
          const { rows } = await harness.pool.query(
            `SELECT lead_id FROM lead_external_ids WHERE workspace_id = $1 AND partner = 'apfm' AND external_id = $2`,
            [workspaceId, r.referral_id],
          );
          return rows[0]?.lead_id as string;
        }),
      );
      expect(leadIds.every(Boolean)).toBe(true);

      const second = await sync();
      expect(second.delivered.delivered).toBe(0);

      apfm.partnerUpdate(referrals[0]!.referral_id, 'lost');
      const third = await sync();
      expect(third.delivered.delivered).toBe(1);
      await journeyWhere(harness, workspaceId, leadIds[0]!, (s) => s.status === 'lost');
      await call(api(`/integrations/${id}`), 'DELETE', key);
    } finally {
      await apfm.close();
    }
  });
});
