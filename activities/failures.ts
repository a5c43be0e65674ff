// Data that can never succeed fails an activity at once: an AppError the api would answer 4xx (validation, not
// found, conflict, egress refused …) and a Postgres data error become non-retryable failures carrying their code
// and a staff-readable message. Everything else (Postgres or a partner down) stays retryable, within the bounds
// every workflow gives its activities (workflows/activityBounds.ts).
import { ApplicationFailure } from '@temporalio/activity';
import { AppError } from '../shared/errors';

/** Postgres SQLSTATEs no retry changes: data exceptions (22xxx), NOT NULL and CHECK violations. */
const BAD_DATA_SQLSTATE = /^(22[0-9A-Z]{3}|23502|23514)$/;

/** Statuses a retry may change: the other side is busy (429) or timed out (408). */
const TRANSIENT_STATUSES: ReadonlySet<number> = new Set([408, 429]);

/** The failure an activity's error becomes: non-retryable for bad data, the error itself otherwise. */
export function activityFailure(error: unknown): unknown {
  if (
    error instanceof AppError &&
    error.status >= 400 &&
    error.status < 500 &&
    !TRANSIENT_STATUSES.has(error.status)
  ) {
    return ApplicationFailure.create({
      type: error.code,
      message: error.message,
      details: [error.details],
      nonRetryable: true,
      cause: error,
    });
  }
  const code = (error as { code?: unknown } | undefined)?.code;
  if (error instanceof Error && typeof code === 'string' && BAD_DATA_SQLSTATE.test(code)) {
    return ApplicationFailure.create({
      type: 'invalid_data',
      message: `the data cannot be stored: ${error.message}`,
      nonRetryable: true,
      cause: error,
    });
  }
  return error;
}

type AnyActivity = (...args: never[]) => Promise<unknown>;

/** Every activity of `activities`, its errors passed through activityFailure. */
export function withFailureRules<T extends Record<string, AnyActivity>>(activities: T): T {
  const wrapped: Record<string, AnyActivity> = {};
  for (const [name, activity] of Object.entries(activities)) {
    wrapped[name] = async (...args: never[]) => {
      try {
        return await activity(...args);
      } catch (error) {
        throw activityFailure(error);
      }
    };
  }
  return wrapped as T;
}
