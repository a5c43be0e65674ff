// /api/v1/inbox: operators list the ingest inbox and replay one event or a time window. Authenticated by the
// admin token (every workspace; `workspace_id` narrows) or a workspace key with the admin permission (its own).
import type { Request } from 'express';
import { z } from 'zod';
import { getInboxEvent, INBOX_STATUSES, listInboxEvents, type InboxRow } from '../../../data/inbox';
import { AppError } from '../../../shared/errors';
import { PARTNERS } from '../../../shared/lifecycle';
import { replayInboxEvent, replayInboxWindow, type DeliveryDeps } from '../../../usecases/inbox';
import { endpoint } from '../../common/endpoints';
import { byId, isoDate, paged, readCursor, time } from '../schemas';

const ListInboxQuery = z.object({
  workspace_id: z.string().min(1).max(64).optional(),
  partner: z.enum(PARTNERS).optional(),
  status: z
    .string()
    .transform((value) => value.split(',').filter(Boolean))
    .pipe(z.array(z.enum(INBOX_STATUSES)).min(1))
    .optional(),
  integration_id: z.uuid().optional(),
  received_from: isoDate.optional(),
  received_to: isoDate.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(500).optional(),
});

const ReplayWindowBody = z
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

const InboxEvent = z
  .object({
    id: z.uuid(),
    workspace_id: z.string(),
    integration_id: z.string().nullable(),
    partner: z.string(),
    partner_event_id: z.string(),
    event_type: z.string().nullable(),
    status: z.string(),
    lead_id: z.string().nullable(),
    attempts: z.number().int(),
    last_error: z.string().nullable(),
    received_at: time,
    delivered_at: time.nullable(),
  })
  .loose()
  .meta({ id: 'InboxEvent' });

/** Which workspace a caller may see: all (admin token, optionally narrowed) or its own (admin key). */
function scope(req: Request, requested: string | undefined): string | undefined {
  const own = req.principal?.workspaceId;
  if (own === undefined) return requested;
  if (requested !== undefined && requested !== own) {
    throw new AppError('forbidden', 'a workspace key sees only its own workspace');
  }
  return own;
}

function inboxEventJson(row: InboxRow) {
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

export function inboxEndpoints(deps: DeliveryDeps) {
  const operators = { tag: 'inbox', auth: 'admin_token_or_key', permission: 'admin' } as const;
  return [
    endpoint({
      ...operators,
      method: 'get',
      path: '/api/v1/inbox',
      summary: 'List ingest inbox events',
      query: ListInboxQuery,
      responses: {
        200: {
          description: 'a page of events',
          schema: z.object({ events: z.array(InboxEvent), next_cursor: z.string().nullable() }),
        },
      },
      async handler({ query, req }) {
        const cursor = readCursor(query.cursor, 'r');
        const rows = await listInboxEvents(deps.pool, {
          workspaceId: scope(req, query.workspace_id),
          partner: query.partner,
          status: query.status,
          integrationId: query.integration_id,
          receivedFrom: query.received_from,
          receivedTo: query.received_to,
          limit: query.limit + 1,
          cursor: cursor && { receivedAt: cursor.r, id: cursor.id },
        });
        const { page, next_cursor } = paged(rows, query.limit, (last) => ({
          r: last.received_at.toISOString(),
          id: last.id,
        }));
        return { events: page.map(inboxEventJson), next_cursor };
      },
    }),
    endpoint({
      ...operators,
      method: 'post',
      path: '/api/v1/inbox/replay',
      summary: 'Replay the inbox events of a time window',
      body: ReplayWindowBody,
      responses: {
        200: {
          description: 'replayed',
          schema: z.object({
            replayed: z.number().int(),
            counts: z.record(z.string(), z.number().int()),
            results: z.array(z.object({}).loose()),
          }),
        },
      },
      async handler({ body, req }) {
        const results = await replayInboxWindow(deps, {
          workspaceId: scope(req, body.workspace_id),
          partner: body.partner,
          status: body.status,
          integrationId: body.integration_id,
          receivedFrom: body.received_from,
          receivedTo: body.received_to,
          limit: body.limit,
        });
        const counts: Record<string, number> = {};
        for (const result of results) counts[result.status] = (counts[result.status] ?? 0) + 1;
        return { replayed: results.length, counts, results };
      },
    }),
    endpoint({
      ...operators,
      method: 'get',
      path: '/api/v1/inbox/:id',
      summary: 'An inbox event with its raw body',
      responses: { 200: { description: 'the event', schema: InboxEvent } },
      async handler({ params, req }) {
        const event = await byId(params.id, 'inbox event', (id) =>
          getInboxEvent(deps.pool, id, scope(req, undefined)),
        );
        return {
          ...inboxEventJson(event),
          headers: event.headers,
          raw_body: event.raw_body.toString('utf8'),
          normalized: event.normalized,
        };
      },
    }),
    endpoint({
      ...operators,
      method: 'post',
      path: '/api/v1/inbox/:id/replay',
      summary: 'Replay one inbox event',
      responses: { 200: { description: 'replayed', schema: z.object({}).loose() } },
      handler: ({ params, req }) =>
        byId(params.id, 'inbox event', (id) => replayInboxEvent(deps, id, scope(req, undefined))),
    }),
  ];
}
