// The import's closed loop against the real stack: with the journeys' worker stopped, nothing the import starts is
// absorbed, so it must hold its next batch back — at the window of unrecorded journeys, or while the journeys' task
// queue has kept a task waiting too long and its probe there runs late — and go on once the journeys run and record
// their imported history.
import { randomUUID } from 'node:crypto';
import { importTaskQueue, importWorkflowId, leadWorkflowId } from '../../shared/ids';
import { importThrottleQuery, type ImportThrottle } from '../../shared/journey/messages';
import { startCsvImport, taskQueueDelay } from '../../usecases/imports';
import { BACKGROUND_PRIORITY } from '../../usecases/journeys';
import { POLLING_RATE_LIMIT, registerWorkspace, startHarness, type Harness } from '../support/harness';
import { waitFor } from '../support/wait';

let harness: Harness;
let workspaceId: string;
let apiKey: string;

const WINDOW = 4;
const ROWS = 10;
const tag = randomUUID().slice(0, 8);

beforeAll(async () => {
  // Only the imports' worker runs: the journeys the import starts wait on their queue until runJourneys().
  harness = await startHarness({
    worker: 'imports',
    imports: { rowsPerSecond: 1000, batchSize: 3, journeyWindow: WINDOW, maxQueueDelayMs: 3_600_000 },
  });
  ({ workspaceId, apiKey } = await registerWorkspace(harness.apiUrl, {
    rate_limit_per_hour: POLLING_RATE_LIMIT,
  }));
});
afterAll(async () => {
  await harness?.stop();
});

function csv(name: string): string {
  const day = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString();
  const lines = ['email,status,created_at,status_changed_at'];
  for (let row = 1; row <= ROWS; row++)
    lines.push(`${name}${row}.${tag}@example.com,contacted,${day(9)},${day(2)}`);
  return lines.join('\n');
}

const throttleOf = (importId: string) =>
  harness.client.workflow.getHandle(importWorkflowId(importId)).query(importThrottleQuery);

/** Rows of the import by outcome, and how many of its leads' journeys recorded anything, from Postgres. */
async function recorded(importId: string) {
  const { rows } = await harness.pool.query<{ created: number; pending: number; journeys: number }>(
    `SELECT count(*) FILTER (WHERE r.outcome = 'created')::int AS created,
            count(*) FILTER (WHERE r.outcome = 'pending')::int AS pending,
            count(*) FILTER (WHERE EXISTS (SELECT 1 FROM status_history h WHERE h.lead_id = r.lead_id))::int AS journeys
       FROM import_rows r WHERE r.import_id = $1`,
    [importId],
  );
  return rows[0]!;
}

/** Waits until the import has looked at least twice and held its batch back each time it last looked. */
const heldBack = (importId: string, why: (t: ImportThrottle) => boolean) =>
  waitFor(`import ${importId} to hold its next batch back`, () => throttleOf(importId), {
    until: (t: ImportThrottle) => t.waits >= 2 && t.last?.rows === 0 && why(t),
  });

test('the import starts no more journeys than the window ahead of those recorded, on its own task queue; then all of them', async () => {
  const answer = await fetch(`${harness.apiUrl}/api/v1/imports?file_name=throttle.csv`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'text/csv' },
    body: csv('window'),
  });
  expect(answer.status).toBe(202);
  const { id } = (await answer.json()) as { id: string };
  const description = await harness.client.workflow.getHandle(importWorkflowId(id)).describe();
  expect(description.taskQueue).toBe(importTaskQueue(harness.taskQueue));

  const held = await heldBack(id, (t) => t.last?.unrecorded === WINDOW);
  // Batches of 3 against a window of 4: 3, then the 1 left of the window, then nothing while none is recorded.
  expect(await recorded(id)).toEqual({ created: WINDOW, pending: ROWS - WINDOW, journeys: 0 });
  expect(held.last).toMatchObject({ rows: 0, unrecorded: WINDOW });
  // The journeys it started yield to live leads' on the shared queue (Temporal's lowest task priority).
  const { rows: started } = await harness.pool.query<{ lead_id: string }>(
    `SELECT lead_id FROM import_rows WHERE import_id = $1 AND outcome = 'created'`,
    [id],
  );
  for (const { lead_id } of started) {
    const journey = await harness.client.workflow.getHandle(leadWorkflowId(workspaceId, lead_id)).describe();
    expect(journey.priority?.priorityKey).toBe(BACKGROUND_PRIORITY.priorityKey);
  }

  // A second import bounded by the journeys' task queue instead: the first one's journeys have waited there longer
  // than it allows, as soon as the server's stats (cached for seconds) say so.
  const BOUND_MS = 1000;
  await waitFor(
    'the journeys waiting on their queue to show in its stats',
    () => taskQueueDelay(harness.client, harness.taskQueue),
    { until: (delay) => (delay ?? 0) > BOUND_MS },
  );
  const second = await startCsvImport(
    {
      pool: harness.pool,
      temporal: harness.client,
      taskQueue: harness.taskQueue,
      rowsPerSecond: 1000,
      batchSize: 3,
      journeyWindow: 1000,
      maxQueueDelayMs: BOUND_MS,
    },
    { workspaceId, body: [Buffer.from(csv('backlog'))], maxBytes: 1 << 20 },
  );
  const crowded = await heldBack(second.id, (t) => (t.last?.queueDelayMs ?? 0) > BOUND_MS);
  expect(crowded.last?.unrecorded).toBe(0);
  expect(await recorded(second.id)).toMatchObject({ created: 0, pending: ROWS });
  // Its probe, started on the journeys' queue at its first look, is not run either: a live lead would be as late,
  // and the import halves its pace for every look that says so.
  const probed = await heldBack(
    second.id,
    (t) => t.last?.probeRunning === true && (t.last.lateMs ?? 0) > BOUND_MS && (t.pace ?? 4) < 1,
  );
  const probeId = probed.last!.probeId!;
  expect(probeId).toMatch(new RegExp(`^import-probe/${second.id}/`));
  const probe = await harness.client.workflow.getHandle(probeId).describe();
  expect({ type: probe.type, taskQueue: probe.taskQueue, status: probe.status.name }).toEqual({
    type: 'importProbe',
    taskQueue: harness.taskQueue,
    status: 'RUNNING',
  });
  expect(await recorded(second.id)).toMatchObject({ created: 0, pending: ROWS });

  harness.runJourneys();
  for (const importId of [id, second.id]) {
    await waitFor(
      `import ${importId} to complete with every journey recorded`,
      async () => ({
        rows: await recorded(importId),
        throttle: await throttleOf(importId).catch(() => undefined),
      }),
      { until: ({ rows }) => rows.created === ROWS && rows.journeys === ROWS },
    );
  }
  const { rows } = await harness.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM status_history h JOIN import_rows r ON r.lead_id = h.lead_id
      WHERE r.import_id = ANY($1) AND h.old_status IS NULL AND h.reason = 'imported'`,
    [[id, second.id]],
  );
  expect(rows[0]!.n).toBe(2 * ROWS);
  // The probe that held the second import ran once the journeys did; its run time was the lateness it reported.
  const ran = await harness.client.workflow.getHandle(probeId).describe();
  expect(ran.status.name).toBe('COMPLETED');
  expect(ran.closeTime!.getTime() - ran.startTime.getTime()).toBeGreaterThan(BOUND_MS);
}, 240_000);
