// /api/v1/inbox: operators list the ingest inbox and replay one event or a time window. Authenticated by the
// admin token (every workspace; `workspace_id` narrows) or a workspace key with the admin permission (its own).
import { isUuid } from '../../../shared/ids';
import { timingSafeEqual } from 'node:crypto';
import { Router, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { getInboxEvent, INBOX_STATUSES, listInboxEvents, type InboxRow } from '../../../data/inbox';
import { AppError } from '../../../shared/errors';
import { PARTNERS } from '../../../shared/lifecycle';
import { parse, route } from '../../common/http';
import { replayInboxEvent, replayInboxWindow, type DeliveryDeps } from '../../../usecases/inbox';
import { authenticate, requirePermission } from '../auth';

export interface InboxDeps extends DeliveryDeps {
  adminToken?: string;
}

const isoDate = z.iso.datetime({ offset: true }).or(z.iso.date());
const statusList = z
  .string()
  .transform((value) => value.split(',').filter(Boolean))
  .pipe(z.array(z.enum(INBOX_STATUSES)).min(1));

export const ListInboxQuery = z.object({
  workspace_id: z.string().min(1).max(64).optional(),
  partner: z.enum(PARTNERS).optional(),
  status: statusList.optional(),
  integration_id: z.uuid().optional(),
  received_from: isoDate.optional(),
  received_to: isoDate.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(500).optional(),
});

export const ReplayWindowBody = z
  .object({
    workspace_id: z.string().min(1).max(64).optional(),
    partner: z.enum(PARTNERS).optional(),
    status: z.array(z.enum(INBOX_STATUSES)).min(1).optional(),
    integration_id: z.uuid().optional(),
    received_from: isoDate,
    received_to: isoDate,
    limit: z.number().int().min(1).max(5000).default(500),
  })
  .strict();

/** Which workspace a caller may see: all (admin token, optionally narrowed) or its own (admin key). */
function scope(res: Response, requested: string | undefined): string | undefined {
  const own = res.locals.inboxWorkspaceId as string | undefined;
  if (own === undefined) return requested;
  if (requested !== undefined && requested !== own) {
    throw new AppError('forbidden', 'a workspace key sees only its own workspace');
  }
  return own;
}

function adminTokenOrAdminKey(deps: InboxDeps) {
  const keyAuth = authenticate(deps.pool);
  const admin = requirePermission('admin');
  return (req: Request, res: Response, next: NextFunction) => {
    const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    const given = Buffer.from(match?.[1] ?? '');
    const expected = Buffer.from(deps.adminToken ?? '');
    if (deps.adminToken && given.length === expected.length && timingSafeEqual(given, expected)) {
      res.locals.inboxWorkspaceId = undefined;
      return next();
    }
    keyAuth(req, res, (error?: unknown) => {
      if (error) return next(error);
      admin(req, res, (denied?: unknown) => {
        if (denied) return next(denied);
        res.locals.inboxWorkspaceId = req.principal!.workspaceId;
        next();
      });
    });
  };
}

function encodeCursor(row: InboxRow): string {
  return Buffer.from(JSON.stringify({ r: row.received_at.toISOString(), id: row.id })).toString('base64url');
}

function decodeCursor(cursor: string): { receivedAt: string; id: string } {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as { r?: unknown; id?: unknown };
    if (typeof value.r === 'string' && typeof value.id === 'string' && isUuid(value.id)) {
      return { receivedAt: value.r, id: value.id };
    }
  } catch {
    // Reported below.
  }
  throw new AppError('validation_failed', 'invalid query: cursor', {
    fields: [{ field: 'cursor', message: 'not a cursor returned by this API' }],
  });
}

export function inboxEventJson(row: InboxRow) {
  return {
    id: row.id,
    workspace_id: row.workspace_id,
    integration_id: row.integration_id,
    partner: row.partner,
    partner_event_id: row.partner_event_id,
    event_type: row.event_type,
    status: row.status,
    lead_id: row.lead_id,
    attempts: row.attempts,
    last_error: row.last_error,
    note: row.normalized.note ?? null,
    journey_events: row.normalized.events.map((event) => event.kind),
    received_at: row.received_at.toISOString(),
    next_attempt_at: row.status === 'pending' ? row.next_attempt_at.toISOString() : null,
    delivered_at: row.delivered_at?.toISOString() ?? null,
    replayed_at: row.replayed_at?.toISOString() ?? null,
    replay_count: row.replay_count,
  };
}

export function inboxRouter(deps: InboxDeps): Router {
  const router = Router();
  router.use(adminTokenOrAdminKey(deps));

  router.get(
    '/',
    route(async (req, res) => {
      const query = parse(ListInboxQuery, req.query, 'query');
      const rows = await listInboxEvents(deps.pool, {
        workspaceId: scope(res, query.workspace_id),
        partner: query.partner,
        status: query.status,
        integrationId: query.integration_id,
        receivedFrom: query.received_from,
        receivedTo: query.received_to,
        limit: query.limit + 1,
        cursor: query.cursor ? decodeCursor(query.cursor) : undefined,
      });
      const page = rows.slice(0, query.limit);
      const last = page[page.length - 1];
      res.json({
        events: page.map(inboxEventJson),
        next_cursor: rows.length > query.limit && last ? encodeCursor(last) : null,
      });
    }),
  );

  router.post(
    '/replay',
    route(async (req, res) => {
      const body = parse(ReplayWindowBody, req.body);
      const results = await replayInboxWindow(deps, {
        workspaceId: scope(res, body.workspace_id),
        partner: body.partner,
        status: body.status,
        integrationId: body.integration_id,
        receivedFrom: body.received_from,
        receivedTo: body.received_to,
        limit: body.limit,
      });
      const counts: Record<string, number> = {};
      for (const result of results) counts[result.status] = (counts[result.status] ?? 0) + 1;
      res.json({ replayed: results.length, counts, results });
    }),
  );

  router.get(
    '/:id',
    route(async (req, res) => {
      const id = String(req.params.id);
      const row = isUuid(id) ? await getInboxEvent(deps.pool, id, scope(res, undefined)) : undefined;
      if (!row) throw new AppError('not_found', `inbox event ${id} not found`);
      res.json({
        ...inboxEventJson(row),
        headers: row.headers,
        raw_body: row.raw_body.toString('utf8'),
        normalized: row.normalized,
      });
    }),
  );

  router.post(
    '/:id/replay',
    route(async (req, res) => {
      const id = String(req.params.id);
      const result = isUuid(id) ? await replayInboxEvent(deps, id, scope(res, undefined)) : undefined;
      if (!result) throw new AppError('not_found', `inbox event ${id} not found`);
      res.json(result);
    }),
  );

  return router;
}
