// /api/v1/conversions (seed 004): log a conversion (also an event in the lead's journey), query, analytics.
import { Router } from 'express';
import { z } from 'zod';
import { conversionAnalytics } from '../../../data/analytics';
import {
  conversionJson,
  getConversion,
  listConversions,
  logConversion,
  type ConversionRecord,
} from '../../../data/conversions';
import { loadJourneyContext } from '../../../activities/db/journey';
import { getLead, type LeadRecord } from '../../../data/leads';
import { getWorkspace } from '../../../data/workspaces';
import { CONVERSION_TYPES } from '../../../shared/conversions';
import { resolveRange } from '../../../shared/dateRange';
import { AppError } from '../../../shared/errors';
import type { IntakeDeps } from '../../../usecases/intake';
import { parse, route } from '../../common/http';
import { principal, requirePermission } from '../auth';
import { sendTable } from '../csv';
import {
  csvList,
  decodeCursor,
  encodeCursor,
  invalidCursor,
  isoDate,
  ownWorkspace,
  resourceId,
  slug,
  uuid,
} from '../schemas';

/** Seed 004 `POST /conversions/log`; contact_id is the lead's id. */
export const LogConversionBody = z
  .object({
    contact_id: uuid,
    // Seed 004 has a separate lead; here contact and lead are one, so it may only repeat contact_id.
    lead_id: uuid.optional(),
    workspace_id: slug.optional(),
    conversion_id: z.string().min(1).max(200).optional(),
    converted_by: z.string().min(1).max(200).default('api'),
    conversion_type: z.enum(CONVERSION_TYPES),
    conversion_value: z.number().min(0).max(1e12).optional(),
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, 'an ISO 4217 code, e.g. USD')
      .default('USD'),
    converted_at: z.iso.datetime({ offset: true }).optional(),
    custom_data: z.record(z.string(), z.unknown()).default({}),
  })
  .strict()
  .refine((body) => body.lead_id === undefined || body.lead_id === body.contact_id, {
    message: 'lead_id, when given, must equal contact_id',
    path: ['lead_id'],
  })
  .meta({ id: 'LogConversionRequest' });

export const ListConversionsQuery = z.object({
  workspace_id: slug.optional(),
  contact_id: uuid.optional(),
  conversion_type: csvList(CONVERSION_TYPES).optional(),
  min_value: z.coerce.number().min(0).optional(),
  max_value: z.coerce.number().min(0).optional(),
  from_date: isoDate.optional(),
  to_date: isoDate.optional(),
  property_id: resourceId.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(500).optional(),
});

export const ConversionAnalyticsQuery = z.object({
  workspace_id: slug.optional(),
  from_date: isoDate.optional(),
  to_date: isoDate.optional(),
  conversion_type: csvList(CONVERSION_TYPES).optional(),
  property_id: resourceId.optional(),
});

export const IdempotencyKeyHeader = z.string().min(1).max(200);

function idempotencyKeyOf(header: string | undefined): string | undefined {
  if (header === undefined || IdempotencyKeyHeader.safeParse(header).success) return header;
  throw new AppError('validation_failed', 'invalid header: Idempotency-Key', {
    fields: [{ field: 'Idempotency-Key', message: '1 to 200 characters' }],
  });
}

/** Analytics default to the last 90 days when no from_date is given. */
export const DEFAULT_ANALYTICS_DAYS = 90;

export async function workspaceZone(deps: IntakeDeps, workspaceId: string): Promise<string> {
  return (await getWorkspace(deps.pool, workspaceId))?.timezone ?? 'UTC';
}

/** The conversion as an event in the lead's journey; its id makes a repeated send a no-op. */
async function sendToJourney(deps: IntakeDeps, lead: LeadRecord, conversion: ConversionRecord) {
  await deps.journeys.send(
    {
      workspaceId: lead.workspace_id,
      leadId: lead.id,
      propertyId: lead.property_id ?? undefined,
      source: lead.source,
      status: lead.status,
    },
    {
      kind: 'conversion',
      eventId: `conversion:${conversion.id}`,
      occurredAt: conversion.converted_at.toISOString(),
      source: 'api',
      actor: conversion.converted_by,
      conversionId: conversion.id,
      conversionType: conversion.conversion_type,
      ...(conversion.conversion_value !== null ? { value: conversion.conversion_value } : {}),
    },
    await loadJourneyContext(deps.pool, { workspaceId: lead.workspace_id, leadId: lead.id }),
  );
}

export function conversionsRouter(deps: IntakeDeps): Router {
  const router = Router();

  router.post(
    '/',
    requirePermission('convert'),
    route(async (req, res) => {
      const body = parse(LogConversionBody, req.body);
      const { workspaceId } = principal(req);
      ownWorkspace(workspaceId, body.workspace_id);
      const key = idempotencyKeyOf(req.get('Idempotency-Key'));
      const lead = await getLead(deps.pool, workspaceId, body.contact_id);
      if (!lead) throw new AppError('not_found', `contact ${body.contact_id} not found`);
      const { conversion, created } = await logConversion(deps.pool, {
        workspaceId,
        leadId: lead.id,
        conversionId: body.conversion_id,
        idempotencyKey: key,
        conversionType: body.conversion_type,
        value: body.conversion_value,
        currency: body.currency,
        convertedBy: body.converted_by,
        convertedAt: body.converted_at ?? new Date().toISOString(),
        customData: body.custom_data,
        request: req.body,
      });
      // Sent on every answer, replays included: a first attempt that stored the conversion but could not
      // reach Temporal is completed by the client's retry; the journey ignores the repeated event id.
      await sendToJourney(deps, lead, conversion);
      res.status(created ? 201 : 200).json({ ...conversionJson(conversion), duplicate: !created });
    }),
  );

  router.get(
    '/',
    requirePermission('read'),
    route(async (req, res) => {
      const query = parse(ListConversionsQuery, req.query, 'query');
      const { workspaceId } = principal(req);
      ownWorkspace(workspaceId, query.workspace_id);
      const range =
        query.from_date || query.to_date
          ? resolveRange({
              from: query.from_date,
              to: query.to_date,
              zone: await workspaceZone(deps, workspaceId),
            })
          : undefined;
      const cursor = query.cursor ? decodeCursor(query.cursor, ['convertedAt', 'id']) : undefined;
      if (cursor && (Number.isNaN(Date.parse(cursor.convertedAt)) || !uuid.safeParse(cursor.id).success)) {
        throw invalidCursor();
      }
      const { rows, total } = await listConversions(deps.pool, workspaceId, {
        leadId: query.contact_id,
        types: query.conversion_type,
        minValue: query.min_value,
        maxValue: query.max_value,
        from: range?.from,
        to: range?.to,
        propertyId: query.property_id,
        limit: query.limit + 1,
        cursor,
      });
      const page = rows.slice(0, query.limit);
      const last = page[page.length - 1];
      res.json({
        conversions: page.map(conversionJson),
        total_count: total,
        next_cursor:
          rows.length > query.limit && last
            ? encodeCursor({ convertedAt: last.converted_at.toISOString(), id: last.id })
            : null,
      });
    }),
  );

  router.get(
    '/analytics',
    requirePermission('read'),
    route(async (req, res) => {
      const query = parse(ConversionAnalyticsQuery, req.query, 'query');
      const { workspaceId } = principal(req);
      ownWorkspace(workspaceId, query.workspace_id);
      const zone = await workspaceZone(deps, workspaceId);
      const range = resolveRange({
        from: query.from_date,
        to: query.to_date,
        zone,
        defaultDays: DEFAULT_ANALYTICS_DAYS,
      });
      const analytics = await conversionAnalytics(deps.pool, workspaceId, range, zone, {
        propertyId: query.property_id,
        types: query.conversion_type,
      });
      const json = { from_date: range.from, to_date: range.to, timezone: zone, ...analytics };
      sendTable(req, res, json, () => ({
        name: 'conversion-analytics',
        columns: ['section', 'key', 'conversions', 'total_value', 'conversion_rate'],
        rows: [
          {
            section: 'summary',
            key: 'all',
            ...analytics.summary,
            conversions: analytics.summary.total_conversions,
          },
          ...analytics.by_workspace.map((w) => ({ section: 'workspace', key: w.workspace_id, ...w })),
          ...Object.entries(analytics.by_type).map(([type, conversions]) => ({
            section: 'type',
            key: type,
            conversions,
            total_value: analytics.by_type_value[type],
          })),
          ...analytics.by_property.map((p) => ({ section: 'property', key: p.property_id, ...p })),
          ...analytics.trends.daily.map((d) => ({ section: 'daily', key: d.date, ...d })),
          ...analytics.trends.weekly.map((w) => ({ section: 'weekly', key: w.week_start, ...w })),
          ...analytics.trends.monthly.map((m) => ({ section: 'monthly', key: m.month, ...m })),
        ],
      }));
    }),
  );

  router.get(
    '/:id',
    requirePermission('read'),
    route(async (req, res) => {
      const { workspaceId } = principal(req);
      const id = String(req.params.id);
      const conversion = uuid.safeParse(id).success
        ? await getConversion(deps.pool, workspaceId, id)
        : undefined;
      if (!conversion) throw new AppError('not_found', `conversion ${id} not found`);
      res.json(conversionJson(conversion));
    }),
  );

  return router;
}
