// CI-sized chaos (the full runs are `npm run chaos`): worker, ingest and api as real child processes against the
// test stack's Temporal and Postgres; kill -9 of each mid-load, duplicates, a burst, a partner down. Each run is then
// reconciled by counting: acknowledged webhooks = inbox rows = applied changes = SMS and emails the sandboxes saw.
// An import killed twice mid-file is reconciled the same way: rows settled = leads = imported pasts recorded.
import { randomUUID } from 'node:crypto';
import { startStack, type Stack } from '../../bench/stack';
import { runScenario, scenario } from '../../scripts/chaos/scenarios';
import { setupWorkspace } from '../../bench/workload';
import { importProgress, type ImportProgress } from '../../usecases/imports';
import { testStack } from '../setup/stack';
import { ENCRYPTION_KEYS } from '../support/harness';
import { waitFor } from '../support/wait';

let stack: Stack;

beforeAll(async () => {
  const shared = testStack();
  stack = await startStack({
    temporalAddress: shared.temporalAddress,
    databaseUrl: shared.databaseUrl,
    encryptionKeys: ENCRYPTION_KEYS,
    taskQueue: `chaos-${randomUUID()}`,
    workers: 1,
    // Imports of at most 10 journeys ahead of those recorded: small batches, so the kills land mid-import.
    env: { IMPORT_ROWS_PER_SECOND: '40', IMPORT_JOURNEY_WINDOW: '10' },
  });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

test('kill -9 of the worker mid-load while every webhook arrives 10 times, shuffled: each applied and notified once', async () => {
  const result = await runScenario(
    stack,
    { ...scenario('duplicates'), fault: scenario('worker-kill').fault },
    { messages: 30, copies: 10, shuffle: true, concurrency: 10, downMs: 500, settleMs: 150_000 },
  );
  expect(result.timeline.filter((line) => line.includes('kill -9 worker'))).toHaveLength(2);
  expect(result.counts.posts).toBeGreaterThanOrEqual(300);
  expect(result.mismatches).toEqual([]);
  expect(result.counts).toMatchObject({
    acknowledged: 30,
    inboxRows: 30,
    applied: 30,
    journeysAtStatus: 30,
    sms: { seen: 30, leads: 30 },
    email: { seen: 30, leads: 30 },
  });
}, 300_000);

test('kill -9 of ingest mid-load: cut requests are retried by the partner, none is lost or applied twice', async () => {
  const result = await runScenario(stack, scenario('ingest-kill'), {
    messages: 30,
    concurrency: 4,
    downMs: 500,
    settleMs: 120_000,
  });
  expect(result.timeline.some((line) => line.includes('kill -9 ingest'))).toBe(true);
  expect(result.mismatches).toEqual([]);
  expect(result.counts).toMatchObject({
    acknowledged: 30,
    applied: 30,
    sms: { seen: 30 },
    email: { seen: 30 },
  });
}, 240_000);

test('kill -9 of the api while staff change statuses: retries with the same Idempotency-Key apply each once', async () => {
  const result = await runScenario(stack, scenario('api-kill'), {
    messages: 20,
    concurrency: 4,
    downMs: 500,
    settleMs: 120_000,
  });
  expect(result.timeline.some((line) => line.includes('kill -9 api'))).toBe(true);
  expect(result.mismatches).toEqual([]);
  expect(result.counts).toMatchObject({
    acknowledged: 20,
    applied: 20,
    sms: { seen: 20 },
    email: { seen: 20 },
  });
}, 240_000);

test('200 webhooks at the same moment: every one acknowledged, applied and notified exactly once', async () => {
  const result = await runScenario(stack, scenario('concurrent'), {
    messages: 200,
    concurrency: Infinity,
    settleMs: 180_000,
  });
  expect(result.mismatches).toEqual([]);
  expect(result.counts).toMatchObject({
    acknowledged: 200,
    inboxRows: 200,
    applied: 200,
    sms: { leads: 200 },
  });
}, 300_000);

test('HubSpot down while ResMan statuses arrive: every push lands once when it is back', async () => {
  const result = await runScenario(stack, scenario('partner-down'), {
    messages: 10,
    concurrency: 4,
    downMs: 8000,
    settleMs: 120_000,
  });
  expect(result.timeline.some((line) => line.includes('HubSpot sandbox up again'))).toBe(true);
  expect(result.mismatches).toEqual([]);
  expect(result.counts.partner).toEqual({ writes: 10, leads: 10, syncsSucceeded: 10 });
}, 240_000);

const ROWS = 150;
const STAGES = ['new', 'contacted', 'qualified', 'toured', 'application', 'leased', 'lost'] as const;

test('kill -9 of the worker twice mid-import: every row imported exactly once', async () => {
  const { workspaceId, apiKey, propertyId } = await setupWorkspace(stack, {
    name: 'chaos import',
    partners: [],
  });
  const tag = randomUUID().slice(0, 8);
  const day = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString();
  // Every tenth row repeats the person of the row before it: a duplicate inside the file.
  const person = (row: number) => (row % 10 === 0 ? row - 1 : row);
  const stageOf = (row: number) => STAGES[person(row) % STAGES.length]!;
  const lines = ['email,phone,status,created_at,status_changed_at'];
  for (let row = 1; row <= ROWS; row++) {
    lines.push(`p${person(row)}.${tag}@example.com,,${stageOf(row)},${day(40)},${day(3)}`);
  }
  const duplicates = Math.floor(ROWS / 10);
  // As a user starts it: the file posted to the api (whose worker process is the one killed).
  const upload = await fetch(`${stack.apiUrl}/api/v1/imports?property_id=${propertyId}&file_name=chaos.csv`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'text/csv' },
    body: lines.join('\n'),
  });
  expect(upload.status).toBe(202);
  const started = (await upload.json()) as { id: string };
  const progress = () => importProgress(stack.pool, workspaceId, started.id);
  const reached = (rows: number) =>
    waitFor(`${rows} rows settled`, progress, { until: (p: ImportProgress) => p.rows.read >= rows });

  await reached(ROWS / 4);
  const first = stack.workers()[0]!;
  await stack.kill9AndRestart(first, 1000);
  await reached(ROWS / 2);
  await stack.kill9AndRestart(stack.workers()[0]!, 0);

  const done = await waitFor('the import to complete', progress, {
    until: (p: ImportProgress) => p.status === 'completed',
  });
  expect(done.rows).toEqual({
    total: ROWS,
    read: ROWS,
    pending: 0,
    created: ROWS - duplicates,
    matched: 0,
    skipped: duplicates,
    failed: 0,
  });

  // One lead per person, each with its imported inquiry recorded once.
  const leads = await stack.pool.query<{ id: string; email: string; status: string }>(
    'SELECT id, email, status FROM leads WHERE workspace_id = $1',
    [workspaceId],
  );
  expect(leads.rows).toHaveLength(ROWS - duplicates);
  // The import is complete once every journey is started; each journey records its imported inquiry itself.
  const inquiries = await waitFor(
    'every imported journey to record its inquiry',
    () =>
      stack.pool.query<{ lead_id: string; n: number }>(
        `SELECT lead_id, count(*)::int AS n FROM status_history
          WHERE workspace_id = $1 AND old_status IS NULL AND reason = 'imported' GROUP BY lead_id`,
        [workspaceId],
      ),
    {
      until: (result) => result.rows.length >= ROWS - duplicates,
      show: (result) => `${(result as { rows: unknown[] }).rows.length} leads recorded`,
    },
  );
  expect(inquiries.rows).toHaveLength(ROWS - duplicates);
  expect(inquiries.rows.filter((r) => r.n !== 1)).toEqual([]);

  // Every lead at the stage its row gave, open ones by their running journey's projection.
  await waitFor(
    'every imported journey to reach its stage',
    async () => {
      const { rows } = await stack.pool.query<{ email: string; status: string }>(
        'SELECT email, status FROM leads WHERE workspace_id = $1',
        [workspaceId],
      );
      return rows.filter((r) => r.status !== stageOf(Number(/^p(\d+)\./.exec(r.email)![1])));
    },
    { until: (wrong) => wrong.length === 0 },
  );
  // Imported history is not news: nothing was pushed or announced for these leads however often a batch ran.
  const news = await stack.pool.query(
    `SELECT 'sync' FROM partner_syncs WHERE workspace_id = $1
     UNION ALL SELECT 'outbox' FROM outbox_events WHERE workspace_id = $1`,
    [workspaceId],
  );
  expect(news.rows).toEqual([]);
}, 420_000);
