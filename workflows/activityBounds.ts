// How long any activity may keep retrying: every proxyActivities in workflows/ names one of these bounds (a
// policy test reads them), so no activity retries forever on data that can never succeed. Changing an
// activity's options (timeouts, retry policy) is not a replay concern: replay matches a scheduled activity by
// its type and sequence id only (temporalio/sdk-core#443, sdk-rust#475), never by its options, so running
// executions pick these up without a patch.

/** Backoff of activities that only fail when the worker's own dependencies (Postgres) are down. */
export const RETRY = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
} as const;

/**
 * Retries of a Postgres read or write outlive a long Postgres outage (a weekend's, with room): data that can
 * never succeed fails at once instead (validation errors are non-retryable, activities/failures.ts).
 */
export const POSTGRES_OUTAGE = '72 hours';

/**
 * The patch under which an activity that failed for good no longer fails the journey: the effect is recorded as
 * failed (or the step skipped) and the journey goes on. Runs from before failed with it; their replays must too,
 * so it is asked on a failure only (a run that never fails records no marker).
 */
export const SURVIVES_FAILURES = 'bounded-effects';

/** The reason an activity gave (its cause), not Temporal's "Activity task failed" around it. */
export function failureText(error: unknown): string {
  if (error instanceof Error && error.cause instanceof Error) return error.cause.message;
  return error instanceof Error ? error.message : String(error);
}
