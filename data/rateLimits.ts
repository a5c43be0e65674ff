// Per-workspace request counting in fixed windows, in Postgres so every api process shares the count.
import type pg from 'pg';

export const RATE_WINDOW_SECONDS = 3600;

export interface RateCount {
  limit: number;
  /** Requests in the current window, this one included. */
  requests: number;
  /** Seconds until the window ends and the count starts again. */
  resetSeconds: number;
}

/**
 * Who a request's budget belongs to: `api` (integrations and scripts: `rate_limit_per_hour`) or `dashboard` (the
 * staff app: `dashboard_rate_limit_per_hour`), so staff looking at the app never spend what integrations need.
 */
export type RateBucket = 'api' | 'dashboard';

/** Counts one request of the workspace in its bucket (one upsert) and answers the limit and the window's count. */
export async function countRequest(
  pool: pg.Pool,
  workspaceId: string,
  bucket: RateBucket = 'api',
): Promise<RateCount> {
  const { rows } = await pool.query<{ requests: number; window_start: Date; lim: number; reset: number }>(
    `WITH w AS (SELECT CASE WHEN $3 = 'dashboard' THEN dashboard_rate_limit_per_hour ELSE rate_limit_per_hour END
                       AS lim
                  FROM workspaces WHERE id = $1),
          up AS (
            INSERT INTO api_rate_windows (workspace_id, bucket, window_start, requests)
            VALUES ($1, $3, to_timestamp(floor(extract(epoch FROM clock_timestamp()) / $2::int) * $2::int), 1)
            ON CONFLICT (workspace_id, bucket, window_start) DO UPDATE SET requests = api_rate_windows.requests + 1
            RETURNING requests, window_start)
     SELECT up.requests, up.window_start, w.lim,
            extract(epoch FROM up.window_start + make_interval(secs => $2::int) - clock_timestamp())::float8 AS reset
       FROM up, w`,
    [workspaceId, RATE_WINDOW_SECONDS, bucket],
  );
  const row = rows[0];
  if (!row) return { limit: Infinity, requests: 0, resetSeconds: RATE_WINDOW_SECONDS };
  if (row.requests === 1) {
    // The first request of a window clears the workspace's older windows; nobody waits for it.
    pool
      .query('DELETE FROM api_rate_windows WHERE workspace_id = $1 AND bucket = $3 AND window_start < $2', [
        workspaceId,
        row.window_start,
        bucket,
      ])
      .catch(() => undefined);
  }
  return { limit: row.lim, requests: row.requests, resetSeconds: Math.max(1, Math.ceil(row.reset)) };
}

/**
 * Counts one operator request of `subject` (the client's address) against `limit` per window; older windows of
 * the subject are cleared by its first request of a window, as the workspaces' are.
 */
export async function countOperatorRequest(
  pool: pg.Pool,
  subject: string,
  limit: number,
): Promise<RateCount> {
  const { rows } = await pool.query<{ requests: number; window_start: Date; reset: number }>(
    `INSERT INTO operator_rate_windows (subject, window_start, requests)
     VALUES ($1, to_timestamp(floor(extract(epoch FROM clock_timestamp()) / $2::int) * $2::int), 1)
     ON CONFLICT (subject, window_start) DO UPDATE SET requests = operator_rate_windows.requests + 1
     RETURNING requests, window_start,
               extract(epoch FROM window_start + make_interval(secs => $2::int) - clock_timestamp())::float8 AS reset`,
    [subject, RATE_WINDOW_SECONDS],
  );
  const row = rows[0]!;
  if (row.requests === 1) {
    pool
      .query('DELETE FROM operator_rate_windows WHERE subject = $1 AND window_start < $2', [
        subject,
        row.window_start,
      ])
      .catch(() => undefined);
  }
  return { limit, requests: row.requests, resetSeconds: Math.max(1, Math.ceil(row.reset)) };
}
