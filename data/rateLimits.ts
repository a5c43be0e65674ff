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

/** Counts one request of the workspace (one upsert) and answers its limit and the window's count. */
export async function countRequest(pool: pg.Pool, workspaceId: string): Promise<RateCount> {
  const { rows } = await pool.query<{ requests: number; window_start: Date; lim: number; reset: number }>(
    `WITH w AS (SELECT rate_limit_per_hour AS lim FROM workspaces WHERE id = $1),
          up AS (
            INSERT INTO api_rate_windows (workspace_id, window_start, requests)
            VALUES ($1, to_timestamp(floor(extract(epoch FROM clock_timestamp()) / $2::int) * $2::int), 1)
            ON CONFLICT (workspace_id, window_start) DO UPDATE SET requests = api_rate_windows.requests + 1
            RETURNING requests, window_start)
     SELECT up.requests, up.window_start, w.lim,
            extract(epoch FROM up.window_start + make_interval(secs => $2::int) - clock_timestamp())::float8 AS reset
       FROM up, w`,
    [workspaceId, RATE_WINDOW_SECONDS],
  );
  const row = rows[0];
  if (!row) return { limit: Infinity, requests: 0, resetSeconds: RATE_WINDOW_SECONDS };
  if (row.requests === 1) {
    // The first request of a window clears the workspace's older windows; nobody waits for it.
    pool
      .query('DELETE FROM api_rate_windows WHERE workspace_id = $1 AND window_start < $2', [
        workspaceId,
        row.window_start,
      ])
      .catch(() => undefined);
  }
  return { limit: row.lim, requests: row.requests, resetSeconds: Math.max(1, Math.ceil(row.reset)) };
}
