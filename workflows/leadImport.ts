// An import of existing leads: the rows wait in Postgres (stored by the upload, or listed from a partner a page at a
// time); this loop hands them to an activity a batch at a time and sleeps between batches so at most
// `rowsPerSecond` go in, which keeps live webhooks fast while a large file imports. It continues as new every so
// many batches, so its history stays small whatever the file's size.
import { continueAsNew, proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type { LeadImportInput, LeadImportResult } from '../shared/journey/messages';
import { POSTGRES_OUTAGE, RETRY } from './activityBounds';

type Activities = ReturnType<typeof createActivities>;

const DEFAULT_BATCH_SIZE = 200;
const DEFAULT_BATCHES_PER_RUN = 100;

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

  for (let batchesThisRun = 0; ; batchesThisRun += 1) {
    if (
      batchesThisRun >= (input.batchesPerRun ?? DEFAULT_BATCHES_PER_RUN) ||
      workflowInfo().continueAsNewSuggested
    ) {
      return continueAsNew<typeof leadImport>({ ...input, done });
    }
    if (!listingDone) {
      // A listing that stops for good (the partner refused) is noted on the import; the rows listed still go in.
      listingDone = (await listing.listBackfillPage({ importId })).done;
    }
    const batch = await rows.importBatch({ importId, limit: batchSize });
    done.batches += 1;
    done.rows += batch.processed;
    if (batch.processed === 0 && listingDone) break;
    // The throttle: a batch of n rows takes at least n / rowsPerSecond seconds.
    const pause = (batch.processed * 1000) / input.rowsPerSecond - batch.elapsedMs;
    if (pause > 0) await sleep(pause);
  }
  const finished = await bookkeeping.finishImport({ importId });
  return { ...finished, ...done };
}
