// /api/v1/leads: create-or-match, read with live journey state, search, status changes, history and syncs.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { listLeads, type LeadRecord } from '../../../data/leads';
import { syncJson } from '../../../data/partnerSyncs';
import { emailField, phoneField } from '../../../shared/contact';
import { CustomData } from '../../../shared/timeZone';
import { leadWorkflowId } from '../../../shared/ids';
import type { JourneyView, Source } from '../../../shared/journey/types';
import { STATUSES } from '../../../shared/lifecycle';
import { leadPages, mapPages } from '../../../usecases/exports';
import { receiveInquiry, type IntakeDeps } from '../../../usecases/intake';
import { changeLeadStatus, leadHistory, leadSyncs, leadWithJourney } from '../../../usecases/leads';
import { repushLeadSync } from '../../../usecases/partnerSyncs';
import { endpoint, reply } from '../../common/endpoints';
import { principal } from '../auth';
import { exportTable } from '../csv';
import {
  exportFormat,
  IDEMPOTENCY_KEY,
  isoDate,
  json,
  paged,
  readCursor,
  resourceId,
  status,
  time,
} from '../schemas';

const CreateLeadBody = z
  .object({
    property_id: resourceId.optional(),
    source: z.string().min(1).max(100),
    first_name: z.string().max(200).optional(),
    last_name: z.string().max(200).optional(),
    email: emailField.optional(),
    phone: phoneField.optional(),
    message: z.string().max(10_000).optional(),
    external_ids: z.record(z.string().min(1).max(50), z.string().min(1).max(200)).optional(),
    custom_data: CustomData.optional(),
  })
  .strict()
  .refine((body) => body.email || body.phone || Object.keys(body.external_ids ?? {}).length > 0, {
    message: 'a lead needs at least one of email, phone or external_ids',
    path: ['email|phone|external_ids'],
  });

// Seed 001 UpdateStatusRequest; updated_by gains 'staff' and 'api' beside the seed's values.
const UpdateStatusBody = z
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

const ListLeadsQuery = z.object({
  ids: z
    .string()
    .transform((value) => value.split(',').filter(Boolean))
    .pipe(z.array(z.uuid()).min(1).max(200))
    .optional()
    .meta({ description: 'comma-separated lead ids (at most 200): these leads only, e.g. to name a feed' }),
  status: z
    .string()
    .transform((value) => value.split(',').filter(Boolean))
    .pipe(z.array(z.enum(STATUSES)))
    .optional(),
  source: z.string().max(100).optional(),
  property_id: resourceId.optional(),
  created_from: isoDate.optional(),
  created_to: isoDate.optional(),
  q: z.string().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(500).optional(),
  format: exportFormat,
});

/** The columns of a leads export: the lead as stored (the live journey is not asked, row by row). */
const EXPORT_COLUMNS = [
  'id',
  'status',
  'source',
  'sources',
  'property_id',
  'first_name',
  'last_name',
  'email',
  'phone',
  'message',
  'external_ids',
  'custom_data',
  'journey',
  'created_at',
  'updated_at',
  'status_changed_at',
  'next_follow_up_at',
];

const HistoryQuery = z.object({
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

const LeadCreated = z.object({ id: z.uuid(), workflow_id: z.string(), status, matched: z.boolean() });

const Lead = z
  .object({
    id: z.uuid(),
    workflow_id: z.string(),
    workspace_id: z.string(),
    status,
    property_id: z.string().nullable(),
    source: z.string().meta({ description: 'the attributed (first) source' }),
    sources: z.array(z.string()),
    external_ids: z.record(z.string(), z.string()),
    first_name: z.string().nullable(),
    last_name: z.string().nullable(),
    email: z.string().nullable(),
    phone: z.string().nullable(),
    message: z.string().nullable(),
    custom_data: json,
    journey: z.number().int(),
    created_at: time,
    updated_at: time,
    status_changed_at: time,
    next_follow_up_at: time.nullable(),
    follow_ups: z
      .array(z.object({ name: z.string(), fire_at: time }))
      .nullable()
      .meta({
        description: 'pending follow-ups from the live journey, earliest first; null when it did not answer',
      }),
    sms_opted_out: z.boolean().nullable(),
    allowed_next: z.array(status).nullable(),
    live: z.boolean(),
  })
  .loose()
  .meta({ id: 'Lead' });

/** Seed 001 UpdateStatusResponse. */
const UpdateStatusResponse = z.object({
  success: z.boolean(),
  new_status: status,
  updated_at: time,
  notifications_sent: z.number().int(),
  workflow_actions_triggered: z.array(z.string()),
});

/** Seed 001 StatusHistoryResponse. */
const StatusHistoryResponse = z.object({
  status_changes: z.array(
    z.object({
      id: z.string(),
      old_status: status.nullable(),
      new_status: status,
      status_reason: z.string().optional(),
      updated_by: z.string(),
      actor: z.string().optional(),
      entry_type: z.enum(['applied', 'skipped', 'conflict', 'refused']),
      direction: z.enum(['inbound', 'outbound']),
      journey: z.number().int(),
      context_data: json,
      created_at: time,
    }),
  ),
  total_count: z.number().int(),
});

const PartnerSync = z.object({
  id: z.uuid(),
  partner: z.string(),
  integration_id: z.uuid().nullable(),
  status: status.meta({ description: 'the canonical status pushed' }),
  partner_value: z.string().nullable().meta({ description: 'the partner’s word for it' }),
  outcome: z.enum(['pending', 'success', 'failed', 'conflict', 'skipped']),
  response_code: z.number().int().nullable().meta({ description: 'the partner’s HTTP status' }),
  error: z.string().nullable(),
  attempts: z.number().int(),
  origin: z.string().nullable().meta({ description: 'where the change came from (staff, partner:resman…)' }),
  causation_id: z.string().meta({ description: 'the event that caused the push' }),
  external_id: z.string().nullable().meta({ description: 'the partner’s id of the lead' }),
  read_back: z.enum(['confirmed', 'not_supported']).nullable(),
  response: json.nullable().meta({
    description:
      'what was sent and the partner’s receipt, where the outcome alone does not say it (conversions)',
  }),
  created_at: time,
  updated_at: time,
  finished_at: time.nullable(),
});

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

export function leadEndpoints(deps: IntakeDeps) {
  return [
    endpoint({
      method: 'post',
      path: '/api/v1/leads',
      tag: 'leads',
      summary: 'Create a lead or match an existing one',
      description:
        'Matched by partner external id, then normalized email, then E.164 phone: 201 new, 200 matched.',
      permission: 'update',
      body: CreateLeadBody,
      headers: [IDEMPOTENCY_KEY],
      responses: {
        201: { description: 'a new lead', schema: LeadCreated },
        200: { description: 'matched an existing lead', schema: LeadCreated },
      },
      async handler({ body, req }) {
        const { lead, matched, workflowId } = await receiveInquiry(
          deps,
          {
            workspaceId: principal(req).workspaceId,
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
          {
            eventId: req.get('Idempotency-Key') ?? `api:${randomUUID()}`,
            occurredAt: new Date().toISOString(),
            // The inquiry's history row names the key that made the lead.
            actor: principal(req).label,
          },
        );
        return reply(matched ? 200 : 201, {
          id: lead.id,
          workflow_id: workflowId,
          status: lead.status,
          matched,
        });
      },
    }),
    endpoint({
      method: 'get',
      path: '/api/v1/leads',
      tag: 'leads',
      summary: 'Search leads',
      description:
        'Newest first; page with `next_cursor`. `ids` names leads (the dashboard resolves the names its live feed mentions). Send `Accept: text/csv` for CSV or `?format=xlsx` for an Excel workbook: either holds every lead the filters select (paging is ignored), streamed.',
      permission: 'read',
      query: ListLeadsQuery,
      responses: {
        200: {
          description: 'a page of leads',
          csv: true,
          xlsx: true,
          schema: z.object({ leads: z.array(Lead), next_cursor: z.string().nullable() }),
        },
      },
      async handler({ query, req, res }) {
        const { workspaceId } = principal(req);
        const filter = {
          ids: query.ids,
          status: query.status,
          source: query.source,
          propertyId: query.property_id,
          createdFrom: query.created_from,
          createdTo: query.created_to,
          q: query.q,
        };
        const exported = await exportTable(req, res, () => ({
          name: 'leads',
          columns: EXPORT_COLUMNS,
          pages: mapPages(leadPages(deps.pool, workspaceId, filter), (lead) => leadJson(lead)),
        }));
        if (exported) return;
        const rows = await listLeads(deps.pool, workspaceId, {
          ...filter,
          limit: query.limit + 1,
          cursor: readCursor(query.cursor, 'createdAt'),
        });
        const { page, next_cursor } = paged(rows, query.limit, (last) => ({
          createdAt: last.created_at.toISOString(),
          id: last.id,
        }));
        return { leads: page.map((lead) => leadJson(lead)), next_cursor };
      },
    }),
    endpoint({
      method: 'get',
      path: '/api/v1/leads/:id',
      tag: 'leads',
      summary: 'A lead with its live journey state',
      permission: 'read',
      responses: { 200: { description: 'the lead', schema: Lead } },
      async handler({ params, req }) {
        const { lead, live } = await leadWithJourney(deps, principal(req).workspaceId, params.id);
        return leadJson(lead, live);
      },
    }),
    endpoint({
      method: 'put',
      path: '/api/v1/leads/:id/status',
      tag: 'leads',
      summary: 'Change a lead’s status (seed 001 UpdateStatusRequest)',
      permission: 'update',
      body: UpdateStatusBody,
      headers: [IDEMPOTENCY_KEY],
      responses: {
        200: { description: 'applied', schema: UpdateStatusResponse },
        409: { description: '`invalid_transition` (details: from, to, allowed) or `status_not_available`' },
        422: { description: '`missing_fields` (details: missing)' },
      },
      handler: ({ params, body, req }) =>
        changeLeadStatus(deps, principal(req).workspaceId, params.id, {
          requestId: req.get('Idempotency-Key') ?? `status:${randomUUID()}`,
          to: body.new_status,
          reason: body.status_reason,
          context: body.context_data,
          source: UPDATED_BY_SOURCE[body.updated_by],
          // Who made the change: the caller's own name for it, else the API key's label.
          actor: body.actor ?? principal(req).label,
          triggerNotifications: body.trigger_notifications,
          facts: body.tour_at ? { tourAt: body.tour_at } : undefined,
          occurredAt: new Date().toISOString(),
        }),
    }),
    endpoint({
      method: 'get',
      path: '/api/v1/leads/:id/status-history',
      tag: 'leads',
      summary: 'A lead’s status history (seed 001 StatusHistoryResponse)',
      permission: 'read',
      query: HistoryQuery,
      responses: { 200: { description: 'history', schema: StatusHistoryResponse } },
      async handler({ params, query, req }) {
        const { rows, total } = await leadHistory(deps.pool, principal(req).workspaceId, params.id, {
          dateFrom: query.date_from,
          dateTo: query.date_to,
          limit: query.limit,
          types: query.types,
        });
        return {
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
        };
      },
    }),
    endpoint({
      method: 'get',
      path: '/api/v1/leads/:id/syncs',
      tag: 'leads',
      summary: 'A lead’s partner pushes and their outcomes',
      description:
        'One row per status push to a partner: pending (queued or retrying), success (with read-back), failed ' +
        '(final partner error or a write the partner ignored; a staff task is open), conflict, skipped.',
      permission: 'read',
      responses: { 200: { description: 'syncs', schema: z.object({ syncs: z.array(PartnerSync) }) } },
      async handler({ params, req }) {
        const syncs = await leadSyncs(deps.pool, principal(req).workspaceId, params.id);
        return { syncs: syncs.map(syncJson) };
      },
    }),
    endpoint({
      method: 'post',
      path: '/api/v1/leads/:id/syncs/:syncId/repush',
      tag: 'leads',
      summary: 'Push a failed or conflicting sync again',
      description:
        'Reopens the sync and hands it to the lead’s journey, which pushes it in order with that partner’s others.',
      permission: 'update',
      responses: {
        202: {
          description: 'queued',
          schema: z.object({ repushed: z.literal(true), sync: PartnerSync }),
        },
        409: { description: '`conflict`: the sync is pending, successful or skipped' },
      },
      async handler({ params, req }) {
        const sync = await repushLeadSync(deps, principal(req).workspaceId, params.id, params.syncId);
        return { repushed: true, sync: syncJson(sync) };
      },
    }),
  ];
}
