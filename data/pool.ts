// The Postgres pool and a transaction helper, shared by activities and the services' read side.
import pg from 'pg';

// Counts and sums come back as strings by default; ours fit in a JS number.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (value) => Number(value));

/** No statement of a request or activity runs longer: one tenant's slow query cannot hold a connection. */
export const STATEMENT_TIMEOUT_MS = 30_000;
/** Analytics reads whole date ranges: longer, and only inside analyticsTransaction. */
export const ANALYTICS_STATEMENT_TIMEOUT_MS = 120_000;

export function createPool(
  databaseUrl: string,
  max = 10,
  statementTimeoutMs = STATEMENT_TIMEOUT_MS,
  options: { idleTimeoutMillis?: number } = {},
): pg.Pool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max,
    connectionTimeoutMillis: 5000,
    statement_timeout: statementTimeoutMs,
    idleTimeoutMillis: options.idleTimeoutMillis ?? 10_000,
  });
  // An idle client losing its connection (Postgres restarted) must not crash the process.
  pool.on('error', () => undefined);
  // So must a checked-out client's connection dropping between queries: the query in flight fails, not the process.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

export async function withTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
  /** The statement that opens it, e.g. `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`. */
  begin = 'BEGIN',
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(begin);
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** Whether Postgres answers at all (readiness). */
export async function pingDatabase(pool: pg.Pool): Promise<boolean> {
  try {
    await pool.query('SELECT 1');
    return true;
  } catch {
    return false;
  }
}
