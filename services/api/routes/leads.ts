// /api/v1/leads: create-or-match, read with live journey state, search, status changes and history.
import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { Router } from 'express';
import { z } from 'zod';
import {
  getLead,
  listLeads,
  recordRefusedAttempt,
  statusHistory,
  type LeadRecord,
} from '../../../data/leads';
import { listLeadSyncs, syncJson } from '../../../data/partnerSyncs';
import { AppError } from '../../../shared/errors';
import { repushSyncs } from '../../../usecases/partnerSyncs';
import { idempotencyKey, leadWorkflowId, isUuid } from '../../../shared/ids';
import { allowedNext, isStatus, STATUSES, type LeadStatus } from '../../../shared/lifecycle';
import type { JourneyView, Source } from '../../../shared/journey/types';
import { phoneField } from '../../../shared/contact';
import type { IntakeDeps } from '../../../usecases/intake';
import { receiveInquiry } from '../../../usecases/intake';
import { parse, route } from '../../common/http';
import { principal, requirePermission } from '../auth';

const id = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits and _ . : - only');

export const CreateLeadBody = z
  .object({
    property_id: id.optional(),
    source: z.string().min(1).max(100),
    first_name: z.string().max(200).optional(),
    last_name: z.string().max(200).optional(),
    email: z.email().max(320).optional(),
    phone: phoneField.optional(),
    message: z.string().max(10_000).optional(),
    external_ids: z.record(z.string().min(1).max(50), z.string().min(1).max(200)).optional(),
    custom_data: z.record(z.string(), z.unknown()).optional(),
  })
  .strict()
  .refine((body) => body.email || body.phone || Object.keys(body.external_ids ?? {}).length > 0, {
    message: 'a lead needs at least one of email, phone or external_ids',
    path: ['email|phone|external_ids'],
  });

// Seed 001 UpdateStatusRequest; updated_by gains 'staff' and 'api' beside the seed's values.
export const UpdateStatusBody = z
  .object({
    new_status: z.enum(STATUSES),
    status_reason: z.string().max(2000).optional(),
    context_data: z.record(z.string(), z.unknown()).optional(),
    updated_by: z.enum(['chatbot', 'resman_user', 'system', 'staff', 'api']).default('staff'),
    actor: z.string().max(200).optional(),
    // The tour time that tour_scheduled requires, when the change itself books the tour.
    tour_at: z.iso.datetime({ offset: true }).optional(),
    trigger_notifications: z.boolean().default(true),
  })
  .strict();

const isoDate = z.iso.datetime({ offset: true }).or(z.iso.date());

export const ListLeadsQuery = z.object({
  status: z
    .string()
    .transform((value) => value.split(',').filter(Boolean))
    .pipe(z.array(z.enum(STATUSES)))
    .optional(),
  source: z.string().max(100).optional(),
  property_id: id.optional(),
  created_from: isoDate.optional(),
  created_to: isoDate.optional(),
  q: z.string().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(500).optional(),
});

export const HistoryQuery = z.object({
  date_from: isoDate.optional(),
  date_to: isoDate.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  types: z
    .string()
    .transform((value) => value.split(',').filter(Boolean))
    .pipe(z.array(z.enum(['applied', 'skipped', 'conflict', 'refused'])).min(1))
    .default(['applied', 'skipped']),
});

const UPDATED_BY_SOURCE: Record<z.output<typeof UpdateStatusBody>['updated_by'], Source> = {
  chatbot: 'chatbot',
  resman_user: 'partner:resman',
  system: 'system',
  staff: 'staff',
  api: 'api',
};

function encodeCursor(lead: LeadRecord): string {
  return Buffer.from(JSON.stringify({ createdAt: lead.created_at.toISOString(), id: lead.id })).toString(
    'base64url',
  );
}

function decodeCursor(cursor: string): { createdAt: string; id: string } {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as {
      createdAt?: unknown;
      id?: unknown;
    };
    if (
      typeof value.createdAt === 'string' &&
      typeof value.id === 'string' &&
      /^[0-9a-f-]{36}$/.test(value.id)
    ) {
      return { createdAt: value.createdAt, id: value.id };
    }
  } catch {
    // Reported below as a field error.
  }
  throw new AppError('validation_failed', 'invalid query: cursor', {
    fields: [{ field: 'cursor', message: 'not a cursor returned by this API' }],
  });
}

function leadJson(lead: LeadRecord, live?: JourneyView) {
  return {
    id: lead.id,
    workflow_id: leadWorkflowId(lead.workspace_id, lead.id),
    workspace_id: lead.workspace_id,
    status: live?.status ?? lead.status,
    property_id: lead.property_id,
    source: lead.source,
    sources: live?.sources ?? lead.sources,
    external_ids: lead.external_ids,
    first_name: lead.first_name,
    last_name: lead.last_name,
    email: lead.email,
    phone: lead.phone_e164 ?? lead.phone,
    message: lead.message,
    custom_data: lead.custom_data,
    journey: live?.journey ?? lead.journey,
    created_at: lead.created_at.toISOString(),
    updated_at: live?.updatedAt ?? lead.updated_at.toISOString(),
    status_changed_at: live?.statusChangedAt ?? lead.status_changed_at.toISOString(),
    next_follow_up_at: live?.nextFollowUpAt ?? lead.next_follow_up_at?.toISOString() ?? null,
    // Only the live journey knows every pending follow-up; the projection keeps the next one.
    follow_ups: live?.followUps?.map((d) => ({ name: d.name, fire_at: d.fireAt })) ?? null,
    sms_opted_out: live?.smsOptedOut ?? null,
    allowed_next: live?.allowedNext ?? null,
    live: Boolean(live),
  };
}

export function leadsRouter(deps: IntakeDeps): Router {
  const router = Router();

  const findLead = async (workspaceId: string, leadId: string): Promise<LeadRecord> => {
    const lead = isUuid(leadId) ? await getLead(deps.pool, workspaceId, leadId) : undefined;
    if (!lead) throw new AppError('not_found', `lead ${leadId} not found`);
    return lead;
  };

  router.post(
    '/',
    requirePermission('update'),
    route(async (req, res) => {
      const body = parse(CreateLeadBody, req.body);
      const { workspaceId } = principal(req);
      const eventId = req.get('Idempotency-Key') ?? `api:${randomUUID()}`;
      const { lead, matched, workflowId } = await receiveInquiry(
        deps,
        {
          workspaceId,
          propertyId: body.property_id,
          source: body.source,
          firstName: body.first_name,
          lastName: body.last_name,
          email: body.email,
          phone: body.phone,
          message: body.message,
          externalIds: body.external_ids,
          customData: body.custom_data,
        },
        { eventId, occurredAt: new Date().toISOString() },
      );
      res
        .status(matched ? 200 : 201)
        .json({ id: lead.id, workflow_id: workflowId, status: lead.status, matched });
    }),
  );

  router.get(
    '/',
    requirePermission('read'),
    route(async (req, res) => {
      const query = parse(ListLeadsQuery, req.query, 'query');
      const { workspaceId } = principal(req);
      const rows = await listLeads(deps.pool, workspaceId, {
        status: query.status,
        source: query.source,
        propertyId: query.property_id,
        createdFrom: query.created_from,
        createdTo: query.created_to,
        q: query.q,
        limit: query.limit + 1,
        cursor: query.cursor ? decodeCursor(query.cursor) : undefined,
      });
      const page = rows.slice(0, query.limit);
      const last = page[page.length - 1];
      res.json({
        leads: page.map((lead) => leadJson(lead)),
        next_cursor: rows.length > query.limit && last ? encodeCursor(last) : null,
      });
    }),
  );

  router.get(
    '/:id',
    requirePermission('read'),
    route(async (req, res) => {
      const { workspaceId } = principal(req);
      const lead = await findLead(workspaceId, String(req.params.id));
      // Live state comes from the journey; the projection answers when the journey cannot.
      const live = await deps.journeys.state(workspaceId, lead.id).catch(() => undefined);
      res.json(leadJson(lead, live));
    }),
  );

  router.put(
    '/:id/status',
    requirePermission('update'),
    route(async (req, res) => {
      const body = parse(UpdateStatusBody, req.body);
      const { workspaceId } = principal(req);
      const lead = await findLead(workspaceId, String(req.params.id));
      const requestId = req.get('Idempotency-Key') ?? `status:${randomUUID()}`;
      const source = UPDATED_BY_SOURCE[body.updated_by];
      try {
        const result = await deps.journeys
          .changeStatus(workspaceId, lead.id, {
            requestId,
            to: body.new_status,
            reason: body.status_reason,
            context: body.context_data,
            source,
            actor: body.actor,
            triggerNotifications: body.trigger_notifications,
            facts: body.tour_at ? { tourAt: body.tour_at } : undefined,
            occurredAt: new Date().toISOString(),
          })
          .catch((error: unknown) => {
            // A journey that already ended accepts no change: refuse it like the lifecycle would.
            if (error instanceof WorkflowNotFoundError && isStatus(lead.status)) {
              throw new AppError(
                'invalid_transition',
                `cannot move a lead from ${lead.status} to ${body.new_status}`,
                {
                  from: lead.status,
                  to: body.new_status,
                  allowed: allowedNext(lead.status as LeadStatus, 'multifamily'),
                },
              );
            }
            throw error;
          });
        res.json(result);
      } catch (error) {
        if (
          error instanceof AppError &&
          ['invalid_transition', 'missing_fields', 'status_not_available'].includes(error.code)
        ) {
          await recordRefusedAttempt(deps.pool, {
            workspaceId,
            leadId: lead.id,
            key: idempotencyKey('refused', lead.id, requestId),
            fromStatus: String(error.details.from ?? lead.status),
            toStatus: body.new_status,
            source,
            actor: body.actor,
            reason: body.status_reason,
            context: { code: error.code, ...error.details },
          });
        }
        throw error;
      }
    }),
  );

  router.get(
    '/:id/status-history',
    requirePermission('read'),
    route(async (req, res) => {
      const query = parse(HistoryQuery, req.query, 'query');
      const { workspaceId } = principal(req);
      const lead = await findLead(workspaceId, String(req.params.id));
      const { rows, total } = await statusHistory(deps.pool, workspaceId, lead.id, {
        dateFrom: query.date_from,
        dateTo: query.date_to,
        limit: query.limit,
        types: query.types,
      });
      res.json({
        status_changes: rows.map((row) => ({
          id: row.id,
          old_status: row.old_status,
          new_status: row.new_status,
          status_reason: row.status_reason ?? undefined,
          updated_by: row.updated_by,
          actor: row.actor ?? undefined,
          entry_type: row.entry_type,
          direction: row.direction,
          journey: row.journey,
          context_data: row.context_data,
          created_at: row.created_at.toISOString(),
        })),
        total_count: total,
      });
    }),
  );

  router.get(
    '/:id/syncs',
    requirePermission('read'),
    route(async (req, res) => {
      const { workspaceId } = principal(req);
      const lead = await findLead(workspaceId, String(req.params.id));
      const syncs = await listLeadSyncs(deps.pool, workspaceId, lead.id);
      res.json({ syncs: syncs.map(syncJson) });
    }),
  );

  router.post(
    '/:id/syncs/:syncId/repush',
    requirePermission('update'),
    route(async (req, res) => {
      const { workspaceId } = principal(req);
      const lead = await findLead(workspaceId, String(req.params.id));
      const syncId = String(req.params.syncId);
      const sync = isUuid(syncId)
        ? (await listLeadSyncs(deps.pool, workspaceId, lead.id)).find((row) => row.id === syncId)
        : undefined;
      if (!sync) throw new AppError('not_found', `partner sync ${syncId} not found for lead ${lead.id}`);
      const reopened = await repushSyncs(deps, { workspaceId, leadId: lead.id, syncId: sync.id });
      if (reopened.length === 0) {
        throw new AppError(
          'conflict',
          `partner sync ${sync.id} is ${sync.outcome}; only failed or conflict syncs are re-pushed`,
          {
            outcome: sync.outcome,
          },
        );
      }
      res.status(202).json({ repushed: true, sync: syncJson(reopened[0]!) });
    }),
  );

  return router;
}
