// GET /api/v1/events/stream: the workspace's live feed (status changes, partner conflicts, conversions) as
// server-sent events, read from the live_feed table (migration 1700000000016) with Last-Event-ID resume.
import { Router, type Response } from 'express';
import type pg from 'pg';
import { z } from 'zod';
import { AppError } from '../../../shared/errors';
import { parse, route } from '../../common/http';
import { principal, requirePermission } from '../auth';
import { csvList } from '../schemas';

export const FEED_EVENT_TYPES = ['status_changed', 'conversion_logged'] as const;

export const StreamQuery = z.object({
  types: csvList(FEED_EVENT_TYPES).optional(),
  backlog: z.coerce
    .number()
    .int()
    .min(0)
    .max(100)
    .default(0)
    .meta({ description: 'on a fresh connection (no Last-Event-ID), first replay this many recent events' }),
  heartbeat: z.coerce
    .number()
    .int()
    .min(1)
    .max(60)
    .default(15)
    .meta({ description: 'seconds between keep-alive comments (for proxies with short idle timeouts)' }),
});

/** Event ids are `<xid>.<id>`: the writing transaction, then the row (see the migration for why). */
export const LastEventIdHeader = z
  .string()
  .regex(/^\d{1,20}\.\d{1,19}$/, 'an event id received from this stream');

interface Cursor {
  xid: string;
  id: number;
}

interface FeedRow {
  id: number;
  xid: string;
  kind: string;
  data: Record<string, unknown>;
  created_at: Date;
}

const CHANNEL = 'leadrelay_live_feed';
/** Without a notification a stream still looks every so often (a lost notification, a held-back row). */
const POLL_MS = 2000;
/** A notified row may wait for an older transaction to finish: look again soon rather than at the next poll. */
const RECHECK_MS = 200;
const PAGE = 200;
/** Open streams per workspace and api process: a dashboard holds one; a runaway client cannot hold thousands. */
export const MAX_STREAMS_PER_WORKSPACE = 50;

const eventId = (row: { xid: string; id: number }) => `${row.xid}.${row.id}`;

function parseCursor(value: string): Cursor {
  const [xid, id] = value.split('.') as [string, string];
  return { xid, id: Number(id) };
}

/**
 * One LISTEN connection per api process, opened while at least one stream is open and shared by all of them:
 * a notification names a workspace, and wakes that workspace's streams.
 */
class FeedListener {
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

/** Where a fresh stream starts: just below the oldest transaction in flight (nothing at or above it is handed out yet). */
async function head(pool: pg.Pool): Promise<Cursor> {
  const { rows } = await pool.query<{ xid: string }>(
    'SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xid',
  );
  return { xid: rows[0]!.xid, id: 0 };
}

const SELECT = 'SELECT id, xid::text AS xid, kind, data, created_at FROM live_feed';

/** The latest `count` events before the cursor, oldest first. */
async function backlog(
  pool: pg.Pool,
  workspaceId: string,
  before: Cursor,
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
async function after(
  pool: pg.Pool,
  workspaceId: string,
  cursor: Cursor,
  kinds: readonly string[],
): Promise<FeedRow[]> {
  const { rows } = await pool.query<FeedRow>(
    `${SELECT} WHERE workspace_id = $1 AND (xid, id) > ($2::xid8, $3::bigint) AND kind = ANY($4)
        AND xid < pg_snapshot_xmin(pg_current_snapshot())
      ORDER BY xid, id LIMIT ${PAGE}`,
    [workspaceId, cursor.xid, cursor.id, kinds],
  );
  return rows;
}

/** The SSE frame of one feed row: `data` holds ids, statuses and amounts, never contact details. */
function frame(row: FeedRow): string {
  const id = eventId(row);
  const data = { id, type: row.kind, ...row.data, recorded_at: row.created_at.toISOString() };
  return `id: ${id}\nevent: ${row.kind}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** Runs one stream until the client goes away or Postgres fails (then the client reconnects with Last-Event-ID). */
async function serveStream(
  pool: pg.Pool,
  listener: FeedListener,
  res: Response,
  options: { workspaceId: string; permissions: string[]; resume?: Cursor } & z.output<typeof StreamQuery>,
): Promise<void> {
  const kinds = options.types ?? [...FEED_EVENT_TYPES];
  // The client may leave at any moment, even before the first await below returns: watch from the start.
  let open = true;
  let wake: (() => void) | undefined;
  let unsubscribe = (): void => undefined;
  const stop = () => {
    if (!open) return;
    open = false;
    unsubscribe();
    wake?.();
  };
  res.on('close', stop);
  // Gone already (during authentication), or while we read below: its 'close' may have fired before we listened.
  const gone = () => !open || !res.socket || res.socket.destroyed;

  // Read before answering: an unreachable Postgres is still a plain JSON 503.
  let cursor = options.resume ?? (await head(pool));
  const first = options.resume
    ? []
    : await backlog(pool, options.workspaceId, cursor, kinds, options.backlog);
  if (gone()) return stop();

  res.status(200);
  res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  res.setHeader('Cache-Control', 'no-cache, no-transform');
  res.setHeader('Connection', 'keep-alive');
  // Proxies (nginx) must pass events through as they come.
  res.setHeader('X-Accel-Buffering', 'no');
  res.flushHeaders();

  let notified = false;
  unsubscribe = listener.subscribe(options.workspaceId, () => {
    notified = true;
    wake?.();
  });

  let lastWrite = Date.now();
  const write = (chunk: string): Promise<void> => {
    lastWrite = Date.now();
    if (!open || res.write(chunk)) return Promise.resolve();
    // A slow client: wait until it has taken what we sent (or left) before reading more.
    return new Promise((resolve) => {
      const done = () => {
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.once('drain', done);
      res.once('close', done);
      if (!open) done();
    });
  };

  await write(
    `retry: 2000\nevent: ready\ndata: ${JSON.stringify({
      workspace_id: options.workspaceId,
      permissions: options.permissions,
      resumed: Boolean(options.resume),
      types: kinds,
    })}\n\n`,
  );
  for (const row of first) await write(frame(row));

  const heartbeatMs = options.heartbeat * 1000;
  try {
    while (open) {
      listener.ensure();
      const woken = notified;
      notified = false;
      const rows = await after(pool, options.workspaceId, cursor, kinds);
      if (!open) break;
      for (const row of rows) await write(frame(row));
      if (rows.length > 0) cursor = rows[rows.length - 1]!;
      if (rows.length === PAGE) continue;
      if (Date.now() - lastWrite >= heartbeatMs) await write(': keep-alive\n\n');
      if (notified) continue;
      const delay = Math.min(
        woken && rows.length === 0 ? RECHECK_MS : POLL_MS,
        Math.max(0, heartbeatMs - (Date.now() - lastWrite)),
      );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  } catch {
    // Postgres failed mid-stream: say so and end; the client reconnects with Last-Event-ID.
    if (open) res.write(`event: error\ndata: ${JSON.stringify({ code: 'unavailable' })}\n\n`);
  } finally {
    stop();
    res.end();
  }
}

export function eventsRouter(pool: pg.Pool): Router {
  const router = Router();
  const listener = new FeedListener(pool);

  router.get(
    '/stream',
    requirePermission('read'),
    route(async (req, res) => {
      const query = parse(StreamQuery, req.query, 'query');
      const header = req.get('Last-Event-ID');
      let resume: Cursor | undefined;
      if (header !== undefined && header !== '') {
        const checked = LastEventIdHeader.safeParse(header);
        if (!checked.success) {
          throw new AppError('validation_failed', 'invalid header: Last-Event-ID', {
            fields: [{ field: 'Last-Event-ID', message: 'an event id received from this stream' }],
          });
        }
        resume = parseCursor(checked.data);
      }
      const { workspaceId, permissions } = principal(req);
      if (listener.open(workspaceId) >= MAX_STREAMS_PER_WORKSPACE) {
        throw new AppError(
          'rate_limited',
          `this workspace already has ${MAX_STREAMS_PER_WORKSPACE} live feeds open on this server; close one`,
          { limit: MAX_STREAMS_PER_WORKSPACE },
        );
      }
      await serveStream(pool, listener, res, { ...query, workspaceId, permissions, resume });
    }),
  );

  return router;
}
