// GET /api/v1/events/stream: the workspace's live feed (status changes, partner conflicts, conversions) as
// server-sent events, read from the live_feed table with Last-Event-ID resume.
import type { Response } from 'express';
import type pg from 'pg';
import { z } from 'zod';
import {
  FEED_PAGE,
  feedAfter,
  feedBefore,
  feedHead,
  FeedListener,
  type FeedCursor,
  type FeedRow,
} from '../../../data/liveFeed';
import { AppError } from '../../../shared/errors';
import { endpoint } from '../../common/endpoints';
import { principal } from '../auth';
import { csvList } from '../schemas';

const FEED_EVENT_TYPES = ['status_changed', 'conversion_logged'] as const;

const StreamQuery = z.object({
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
const LastEventIdHeader = z.string().regex(/^\d{1,20}\.\d{1,19}$/, 'an event id received from this stream');

/** Without a notification a stream still looks every so often (a lost notification, a held-back row). */
const POLL_MS = 2000;
/** A notified row may wait for an older transaction to finish: look again soon rather than at the next poll. */
const RECHECK_MS = 200;
/** Open streams per workspace and api process: a dashboard holds one; a runaway client cannot hold thousands. */
const MAX_STREAMS_PER_WORKSPACE = 50;

const eventId = (row: { xid: string; id: number }) => `${row.xid}.${row.id}`;

function parseCursor(value: string): FeedCursor {
  const [xid, id] = value.split('.') as [string, string];
  return { xid, id: Number(id) };
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
  options: { workspaceId: string; permissions: string[]; keyLabel: string; resume?: FeedCursor } & z.output<
    typeof StreamQuery
  >,
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
  let cursor = options.resume ?? (await feedHead(pool));
  const first = options.resume
    ? []
    : await feedBefore(pool, options.workspaceId, cursor, kinds, options.backlog);
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
      key_label: options.keyLabel,
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
      const rows = await feedAfter(pool, options.workspaceId, cursor, kinds);
      if (!open) break;
      for (const row of rows) await write(frame(row));
      if (rows.length > 0) cursor = rows[rows.length - 1]!;
      if (rows.length === FEED_PAGE) continue;
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

export function eventEndpoints(pool: pg.Pool) {
  const listener = new FeedListener(pool);
  return [
    endpoint({
      method: 'get',
      path: '/api/v1/events/stream',
      tag: 'dashboard',
      summary: 'Live feed: status changes and conversions as server-sent events',
      description:
        'A `text/event-stream` of the workspace’s events as they commit. First `event: ready` with `{ workspace_id, permissions, key_label, resumed, types }` (`key_label`: the label of the calling API key, which the dashboard shows); then `event: status_changed` (`{ id, type, lead_id, history_id, entry_type: applied|conflict, old_status, new_status, source, direction, journey, at }`) and `event: conversion_logged` (`{ id, type, lead_id, conversion_id, property_id, conversion_type, conversion_value, currency, at }`); no contact details. Each event has an `id`; reconnect with the `Last-Event-ID` header to resume after it, in order, with nothing missed (within the 7 days kept). A `: keep-alive` comment comes every `heartbeat` seconds. Browsers read it with fetch (EventSource cannot send the Authorization header).',
      permission: 'read',
      query: StreamQuery,
      headers: [
        {
          name: 'Last-Event-ID',
          description: 'The id of the last event received: the stream resumes after it.',
        },
      ],
      responses: { 200: { description: 'the event stream (text/event-stream); it stays open' } },
      async handler({ query, req, res }) {
        const header = req.get('Last-Event-ID');
        let resume: FeedCursor | undefined;
        if (header !== undefined && header !== '') {
          const checked = LastEventIdHeader.safeParse(header);
          if (!checked.success) {
            throw new AppError('validation_failed', 'invalid header: Last-Event-ID', {
              fields: [{ field: 'Last-Event-ID', message: 'an event id received from this stream' }],
            });
          }
          resume = parseCursor(checked.data);
        }
        const { workspaceId, permissions, label: keyLabel } = principal(req);
        if (listener.open(workspaceId) >= MAX_STREAMS_PER_WORKSPACE) {
          throw new AppError(
            'rate_limited',
            `this workspace already has ${MAX_STREAMS_PER_WORKSPACE} live feeds open on this server; close one`,
            { limit: MAX_STREAMS_PER_WORKSPACE },
          );
        }
        await serveStream(pool, listener, res, { ...query, workspaceId, permissions, keyLabel, resume });
      },
    }),
  ];
}
