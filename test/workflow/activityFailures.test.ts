// Activity failures under time-skipping, counted from the run's history: a change whose data Postgres can never
// store is attempted once, becomes a staff task and the journey goes on; a change cut by a lost connection is
// attempted again and recorded.
import { temporal } from '@temporalio/proto';
import { changeStatusUpdate } from '../../shared/journey/messages';
import {
  staffChange,
  startTimeSkipping,
  type TimeSkipping,
  type JourneyHandle,
} from '../support/timeSkipping';
import { waitFor } from '../support/wait';

const EventType = temporal.api.enums.v1.EventType;
const RetryState = temporal.api.enums.v1.RetryState;

let ts: TimeSkipping;
beforeAll(async () => {
  ts = await startTimeSkipping();
});
afterAll(async () => {
  await ts?.stop();
});

/** Each recordJourneyChange of the run: the attempt its outcome came from, and how it ended. */
async function recordings(handle: JourneyHandle) {
  const { events } = await handle.fetchHistory();
  const scheduled = new Set<number>();
  const attempts = new Map<number, number>();
  const outcomes: { attempt: number; outcome: 'completed' | 'failed'; retryState?: number | null }[] = [];
  for (const event of events ?? []) {
    const id = Number(event.eventId);
    if (event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
      if (event.activityTaskScheduledEventAttributes?.activityType?.name === 'recordJourneyChange')
        scheduled.add(id);
    } else if (event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED) {
      const a = event.activityTaskStartedEventAttributes!;
      if (scheduled.has(Number(a.scheduledEventId))) attempts.set(Number(a.scheduledEventId), a.attempt ?? 0);
    } else if (event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
      const from = Number(event.activityTaskCompletedEventAttributes!.scheduledEventId);
      if (scheduled.has(from)) outcomes.push({ attempt: attempts.get(from)!, outcome: 'completed' });
    } else if (event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED) {
      const a = event.activityTaskFailedEventAttributes!;
      const from = Number(a.scheduledEventId);
      if (scheduled.has(from))
        outcomes.push({ attempt: attempts.get(from)!, outcome: 'failed', retryState: a.retryState });
    }
  }
  return outcomes;
}

async function leadStatus(leadId: string): Promise<string> {
  const { rows } = await ts.pool.query<{ status: string }>('SELECT status FROM leads WHERE id = $1', [
    leadId,
  ]);
  return rows[0]!.status;
}

test('a change Postgres can never store is attempted once, becomes a staff task, and the journey goes on', async () => {
  const leadId = await ts.newLead();
  const handle = await ts.start(leadId);
  // Postgres text cannot hold a NUL byte (22021): no retry will ever store this reason.
  await handle.executeUpdate(changeStatusUpdate, {
    args: [staffChange('contacted', { reason: 'called\u0000back' })],
  });

  const [task] = await ts.rowsOf(
    "SELECT kind, details FROM staff_tasks WHERE lead_id = $1 AND kind = 'journey_change_failed'",
    [leadId],
  );
  expect(task!.details).toMatchObject({
    change: expect.stringContaining('new→contacted'),
    error: expect.stringMatching(/^the data cannot be stored: /),
  });
  const failed = (await recordings(handle)).filter((r) => r.outcome === 'failed');
  expect(failed).toEqual([
    { attempt: 1, outcome: 'failed', retryState: RetryState.RETRY_STATE_NON_RETRYABLE_FAILURE },
  ]);

  // The journey is alive and records the next change.
  await handle.executeUpdate(changeStatusUpdate, { args: [staffChange('qualified')] });
  await waitFor('the lead to be qualified in Postgres', async () =>
    (await leadStatus(leadId)) === 'qualified' ? true : undefined,
  );
});

test('a change whose connection is cut is attempted again and recorded', async () => {
  const leadId = await ts.newLead();
  const handle = await ts.start(leadId);
  // Holds the lead's row so the recording waits on it, then cuts the waiting connection (as a Postgres restart
  // would): a failure no different from an outage, which the retry policy covers.
  const locker = await ts.pool.connect();
  try {
    await locker.query('BEGIN');
    await locker.query('SELECT 1 FROM leads WHERE id = $1 FOR UPDATE', [leadId]);
    const { rows } = await locker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const lockerPid = rows[0]!.pid;
    const waiting = (except?: number) =>
      waitFor(`a recording waiting on lead ${leadId}'s row`, async () => {
        const found = await ts.pool.query<{ pid: number }>(
          'SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid)) AND pid <> $2',
          [lockerPid, except ?? 0],
        );
        return found.rows[0]?.pid;
      });
    const updated = handle.executeUpdate(changeStatusUpdate, { args: [staffChange('contacted')] });
    const first = await waiting();
    await ts.pool.query('SELECT pg_terminate_backend($1)', [first]);
    // The next attempt waits on the row again, on another connection.
    await waiting(first);
    await locker.query('ROLLBACK');
    await updated;
  } finally {
    locker.release();
  }
  await waitFor('the lead to be contacted in Postgres', async () =>
    (await leadStatus(leadId)) === 'contacted' ? true : undefined,
  );
  const outcomes = await recordings(handle);
  expect(outcomes.at(-1)).toEqual({ attempt: 2, outcome: 'completed' });
  expect(outcomes.filter((r) => r.outcome === 'failed')).toEqual([]);
});
