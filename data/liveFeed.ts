// The live feed (migration 1700000000016) in Postgres: events after a cursor, the latest ones before it, where a
// fresh stream starts, and one LISTEN connection per process that wakes a workspace's streams.
import type pg from 'pg';

/** Event ids are `<xid>.<id>`: the writing transaction, then the row (see the migration for why). */
export interface FeedCursor {
  xid: string;
  id: number;
}

export interface FeedRow {
  id: number;
  xid: string;
  kind: string;
  data: Record<string, unknown>;
  created_at: Date;
}

const CHANNEL = 'leadrelay_live_feed';
export const FEED_PAGE = 200;

/** Where a fresh stream starts: just below the oldest transaction in flight (nothing at or above it is handed out yet). */
export async function feedHead(pool: pg.Pool): Promise<FeedCursor> {
  const { rows } = await pool.query<{ xid: string }>(
    'SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xid',
  );
  return { xid: rows[0]!.xid, id: 0 };
}

const SELECT = 'SELECT id, xid::text AS xid, kind, data, created_at FROM live_feed';

/** The latest `count` events before the cursor, oldest first. */
export async function feedBefore(
  pool: pg.Pool,
  workspaceId: string,
  before: FeedCursor,
  kinds: readonly string[],
  count: number,
): Promise<FeedRow[]> {
  const { rows } = await pool.query<FeedRow>(
    `${SELECT} WHERE workspace_id = $1 AND (xid, id) < ($2::xid8, $3::bigint) AND kind = ANY($4)
      ORDER BY xid DESC, id DESC LIMIT $5`,
    [workspaceId, before.xid, before.id, kinds, count],
  );
  return rows.reverse();
}

/**
 * Events after the cursor whose transactions are all finished: any transaction that might still commit a row
 * has an xid at or above the snapshot's xmin, so everything below it is final and can be handed out in order.
 */
export async function feedAfter(
  pool: pg.Pool,
  workspaceId: string,
  cursor: FeedCursor,
  kinds: readonly string[],
): Promise<FeedRow[]> {
  const { rows } = await pool.query<FeedRow>(
    `${SELECT} WHERE workspace_id = $1 AND (xid, id) > ($2::xid8, $3::bigint) AND kind = ANY($4)
        AND xid < pg_snapshot_xmin(pg_current_snapshot())
      ORDER BY xid, id LIMIT ${FEED_PAGE}`,
    [workspaceId, cursor.xid, cursor.id, kinds],
  );
  return rows;
}

/**
 * One LISTEN connection per api process, opened while at least one stream is open and shared by all of them:
 * a notification names a workspace, and wakes that workspace's streams.
 */
export class FeedListener {
  private readonly streams = new Map<string, Set<() => void>>();
  private client?: pg.PoolClient;
  private connecting?: Promise<void>;

  constructor(private readonly pool: pg.Pool) {}

  open(workspaceId: string): number {
    return this.streams.get(workspaceId)?.size ?? 0;
  }

  subscribe(workspaceId: string, wake: () => void): () => void {
    let set = this.streams.get(workspaceId);
    if (!set) this.streams.set(workspaceId, (set = new Set()));
    set.add(wake);
    this.ensure();
    return () => {
      set.delete(wake);
      if (set.size === 0) this.streams.delete(workspaceId);
      if (this.streams.size === 0) this.close();
    };
  }

  /** Listens unless it already does; streams call this on every poll, so a dropped connection comes back. */
  ensure(): void {
    if (this.client || this.connecting || this.streams.size === 0) return;
    this.connecting = this.connect().finally(() => {
      this.connecting = undefined;
    });
  }

  private async connect(): Promise<void> {
    let client: pg.PoolClient | undefined;
    let released = false;
    const drop = () => {
      if (this.client === client) this.client = undefined;
      if (client && !released) {
        released = true;
        client.release(true);
      }
    };
    try {
      client = await this.pool.connect();
      client.on('notification', (message) => {
        for (const wake of this.streams.get(message.payload ?? '') ?? []) wake();
      });
      // Postgres went away: drop this connection; the next poll listens again.
      client.on('error', drop);
      await client.query(`LISTEN ${CHANNEL}`);
      this.client = client;
      this.release = (destroy) => {
        if (released) return;
        released = true;
        client!.removeListener('error', drop);
        client!.release(destroy);
      };
      // Every stream left while we were connecting.
      if (this.streams.size === 0) this.close();
    } catch {
      // Streams keep polling without the wake-ups; the next poll tries again.
      drop();
    }
  }

  private release?: (destroy: boolean) => void;

  private close(): void {
    const client = this.client;
    const release = this.release;
    this.client = undefined;
    this.release = undefined;
    if (!client || !release) return;
    client.removeAllListeners('notification');
    client.query(`UNLISTEN ${CHANNEL}`).then(
      () => release(false),
      () => release(true),
    );
  }
}
