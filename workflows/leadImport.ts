// An import of existing leads: the rows wait in Postgres (stored by the upload, or listed from a partner a page at a
// time); this loop hands them to an activity a batch at a time. Two throttles keep live leads fast while a large
// file imports: a ceiling (at most `rowsPerSecond`, a sleep between batches) and a closed loop (before each batch,
// it measures how late live leads are and paces itself to what the system absorbs beside them). It continues as
// new every so many batches, so its history stays small whatever the file's size.
import {
  continueAsNew,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities';
import { importProbeId } from '../shared/ids';
import {
  importThrottleQuery,
  type ImportThrottle,
  type LeadImportInput,
  type LeadImportResult,
} from '../shared/journey/messages';
import { POSTGRES_OUTAGE, RETRY } from './activityBounds';

type Activities = ReturnType<typeof createActivities>;

const DEFAULT_BATCH_SIZE = 200;
const DEFAULT_BATCHES_PER_RUN = 100;
const DEFAULT_MAX_QUEUE_DELAY_MS = 500;
/** Before the probe (`import-probe`): the bound the queue's stats alone were held to. */
const STATS_ONLY_MAX_QUEUE_DELAY_MS = 2000;
/** A held-back import looks again after 1 s, then 2, 4 … up to this: quick to resume, cheap while it waits. */
const MAX_THROTTLE_PAUSE_MS = 10_000;
/**
 * The pace (`import-probe`), additive increase and multiplicative decrease as TCP's: an import starts at a few rows
 * a second, takes one more each turn live leads are on time, and halves when they are late.
 */
const START_PACE = 4;
const PACE_STEP = 1;
const MIN_PACE = 0.5;
/** A turn (a look, then a batch) takes about this long at the current pace: how often the import looks. */
const TURN_MS = 2000;

const bookkeeping = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: POSTGRES_OUTAGE,
  summary: 'import bookkeeping',
  retry: RETRY,
});

// A batch heartbeats after each row: a worker that dies mid-batch is noticed within the heartbeat timeout and the
// batch runs again elsewhere, taking the same rows (each settles once).
const rows = proxyActivities<Activities>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '20 seconds',
  scheduleToCloseTimeout: POSTGRES_OUTAGE,
  summary: 'import a batch of rows',
  retry: { ...RETRY, nonRetryableErrorTypes: ['worker_misconfigured'] },
});

// The partner's 429 and 5xx come back retryable (after its Retry-After); a refusal for good is a result.
const listing = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  scheduleToCloseTimeout: POSTGRES_OUTAGE,
  summary: 'list a page of partner leads',
  retry: { ...RETRY, maximumInterval: '5 minutes', nonRetryableErrorTypes: ['worker_misconfigured'] },
});

export async function leadImport(input: LeadImportInput): Promise<LeadImportResult> {
  const { importId } = input;
  const batchSize = input.batchSize ?? DEFAULT_BATCH_SIZE;
  const done = { batches: input.done?.batches ?? 0, rows: input.done?.rows ?? 0 };
  const begun = await bookkeeping.beginImport({ importId });
  if (!begun) return { status: 'failed', ...done, error: 'import not found' };
  let listingDone = begun.listingDone;
  const throttle: ImportThrottle = { waits: 0 };
  setHandler(importThrottleQuery, () => throttle);
  let recordedThrough = 0;
  let heldFor = 1000;
  let pace = Math.min(input.pace ?? START_PACE, input.rowsPerSecond);
  let probeId: string | undefined;
  /** A durable timer before the next look: 1 s, doubling while the import stays held. */
  const holdBack = async () => {
    throttle.waits += 1;
    await sleep(heldFor);
    heldFor = Math.min(heldFor * 2, MAX_THROTTLE_PAUSE_MS);
  };

  // Waits count as loop turns too: a long hold continues as new like a long file does.
  for (let batchesThisRun = 0; ; batchesThisRun += 1) {
    if (
      batchesThisRun >= (input.batchesPerRun ?? DEFAULT_BATCHES_PER_RUN) ||
      workflowInfo().continueAsNewSuggested
    ) {
      return continueAsNew<typeof leadImport>({ ...input, done, pace });
    }
    let limit = batchSize;
    let ceiling = input.rowsPerSecond;
    // The closed loop (an import started before it takes it up here, at its next batch). A rate alone is open
    // loop: at 100 rows/s on a machine that absorbed 38, imported journeys' tasks queued by the thousand ahead of
    // live leads on the queue they share, and live journeys applied their events minutes late. So the import
    // starts only as many journeys as the system absorbs, measured two ways: this import's new leads whose journey
    // has not recorded yet (exact and immediate, in Postgres: it bounds what this import puts ahead of a live
    // lead), and how long the oldest task on the journeys' queue has waited as Temporal reports it (seconds late,
    // but it is the live lead's delay itself and sees everything: live load, other imports, a slow worker). A held import lists no partner page either.
    // With the probe (`import-probe`), how late a live lead is comes first hand: each look starts a tiny workflow on
    // the journeys' queue at a live lead's priority and reads what the previous one took; the import holds while
    // one runs late, and paces itself (rows per second) up while live leads are on time, halving when they are not.
    // Held to rows per second rather than to whether there is room at all: on a machine where the import and the
    // live leads share the CPU, every row costs live leads time whichever queue it waits on.
    if (patched('import-probe')) {
      const bound = input.maxQueueDelayMs ?? DEFAULT_MAX_QUEUE_DELAY_MS;
      const room = await bookkeeping.importHeadroom({
        importId,
        window: input.journeyWindow ?? 2 * batchSize,
        maxQueueDelayMs: bound,
        recordedThrough,
        probe: {
          ...(probeId ? { last: probeId } : {}),
          next: importProbeId(importId, workflowInfo().runId, batchesThisRun),
        },
      });
      throttle.last = room;
      recordedThrough = room.recordedThrough;
      probeId = room.probeId;
      const late = room.lateMs !== undefined && room.lateMs > bound;
      if (late) pace = Math.max(MIN_PACE, pace / 2);
      else if (room.rows > 0) pace = Math.min(input.rowsPerSecond, pace + PACE_STEP);
      throttle.pace = pace;
      if (room.rows === 0) {
        await holdBack();
        continue;
      }
      heldFor = 1000;
      limit = Math.min(batchSize, room.rows, Math.max(1, Math.round((pace * TURN_MS) / 1000)));
      ceiling = pace;
    } else if (patched('import-headroom')) {
      const room = await bookkeeping.importHeadroom({
        importId,
        window: input.journeyWindow ?? 2 * batchSize,
        maxQueueDelayMs: input.maxQueueDelayMs ?? STATS_ONLY_MAX_QUEUE_DELAY_MS,
        recordedThrough,
      });
      throttle.last = room;
      recordedThrough = room.recordedThrough;
      if (room.rows === 0) {
        await holdBack();
        continue;
      }
      heldFor = 1000;
      limit = Math.min(batchSize, room.rows);
    }
    if (!listingDone) {
      // A listing that stops for good (the partner refused) is noted on the import; the rows listed still go in.
      listingDone = (await listing.listBackfillPage({ importId })).done;
    }
    const batch = await rows.importBatch({ importId, limit });
    done.batches += 1;
    done.rows += batch.processed;
    if (batch.processed === 0 && listingDone) break;
    // The ceiling: a batch of n rows takes at least n / rowsPerSecond seconds (n / pace with the probe).
    const pause = (batch.processed * 1000) / ceiling - batch.elapsedMs;
    if (pause > 0) await sleep(pause);
  }
  const finished = await bookkeeping.finishImport({ importId });
  return { ...finished, ...done };
}

const probeStep = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  scheduleToCloseTimeout: '1 hour',
  summary: 'the probe: an activity on the journeys queue',
  retry: RETRY,
});

/**
 * An import's probe of how late live leads are: started by the import's look on the journeys' queue at a live
 * lead's priority, it waits for a workflow task, an activity and a workflow task — what a live lead's event waits
 * for before its journey records it. Its run time (start to close, by Temporal's clock) is that lateness.
 */
export async function importProbe(): Promise<void> {
  await probeStep.probeJourneyQueue();
}
