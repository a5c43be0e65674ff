// /api/v1/conversions (seed 004): log a conversion (also an event in the lead's journey), query, analytics; and
// /api/v1/contacts/:id/conversion, a lead's conversion status, lifetime value, count and metadata.
import { z } from 'zod';
import { conversionAnalytics } from '../../../data/analytics';
import {
  conversionJson,
  getContactConversion,
  getConversion,
  listConversions,
  updateContactConversion,
} from '../../../data/conversions';
import { CONVERSION_STATUSES, CONVERSION_TYPES } from '../../../shared/conversions';
import { resolveRange } from '../../../shared/dateRange';
import { AppError } from '../../../shared/errors';
import { recordConversion } from '../../../usecases/conversions';
import { conversionPages, mapPages } from '../../../usecases/exports';
import type { IntakeDeps } from '../../../usecases/intake';
import { endpoint, reply } from '../../common/endpoints';
import { principal } from '../auth';
import { exportTable, sendTable } from '../csv';
import {
  byId,
  csvList,
  exportFormat,
  IDEMPOTENCY_KEY,
  isoDate,
  json,
  ownWorkspace,
  paged,
  readCursor,
  resourceId,
  slug,
  time,
  uuid,
} from '../schemas';

/** Seed 004 `POST /conversions/log`; contact_id is the lead's id. */
const LogConversionBody = z
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

const ListConversionsQuery = z.object({
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
  format: exportFormat,
});

/** The columns of a conversions export, in the order of the JSON answer. */
const EXPORT_COLUMNS = [
  'id',
  'conversion_id',
  'contact_id',
  'workspace_id',
  'property_id',
  'conversion_type',
  'conversion_value',
  'currency',
  'converted_by',
  'converted_at',
  'custom_data',
  'created_at',
];

const label = z.string().min(1).max(200);

/** Seed 004 `PATCH /contacts/:id/conversion`; custom_metadata is merged key by key (null removes a key). */
const ContactConversionBody = z
  .object({
    sent_from_workspace: label.optional(),
    converted_from_workspace: label.optional(),
    conversion_status: z.enum(CONVERSION_STATUSES).optional(),
    converted_by: label.optional(),
    custom_metadata: z.record(z.string(), z.unknown()).optional(),
  })
  .strict()
  .refine((body) => Object.values(body).some((value) => value !== undefined), {
    message: 'nothing to update',
    path: ['body'],
  })
  .meta({ id: 'ContactConversionRequest' });

const IdempotencyKeyHeader = z.string().min(1).max(200);

function idempotencyKeyOf(header: string | undefined): string | undefined {
  if (header === undefined || IdempotencyKeyHeader.safeParse(header).success) return header;
  throw new AppError('validation_failed', 'invalid header: Idempotency-Key', {
    fields: [{ field: 'Idempotency-Key', message: '1 to 200 characters' }],
  });
}

/** Analytics default to the last 90 days when no from_date is given. */
export const DEFAULT_ANALYTICS_DAYS = 90;

const Conversion = z
  .object({
    id: z.uuid(),
    conversion_id: z.string().nullable().meta({ description: 'the client’s own id, if it sent one' }),
    contact_id: z.uuid(),
    lead_id: z.uuid(),
    workspace_id: z.string(),
    property_id: z.string().nullable(),
    conversion_type: z.enum(CONVERSION_TYPES),
    conversion_value: z.number().nullable(),
    currency: z.string(),
    converted_by: z.string(),
    converted_at: time,
    custom_data: json,
    created_at: time,
  })
  .meta({ id: 'Conversion' });
const ConversionLogged = Conversion.extend({
  duplicate: z.boolean().meta({ description: 'true when this answers a repeated post (200)' }),
});

const bucket = { conversions: z.number().int(), total_value: z.number() };
const ConversionAnalytics = z.object({
  from_date: time,
  to_date: time,
  timezone: z.string(),
  summary: z.object({
    total_conversions: z.number().int(),
    total_value: z.number(),
    average_value: z.number(),
    conversion_rate: z
      .number()
      .meta({ description: 'percent of contacts received in the range that converted' }),
    contacts_received: z.number().int(),
    converted_contacts: z.number().int(),
  }),
  by_workspace: z.array(z.object({ workspace_id: z.string(), ...bucket, conversion_rate: z.number() })),
  by_type: z.record(z.string(), z.number().int()),
  by_type_value: z.record(z.string(), z.number()),
  by_property: z.array(z.object({ property_id: z.string(), ...bucket })),
  trends: z.object({
    daily: z.array(z.object({ date: z.iso.date(), ...bucket })),
    weekly: z.array(z.object({ week_start: z.iso.date(), ...bucket })),
    monthly: z.array(z.object({ month: z.string(), ...bucket })),
  }),
});

const ContactConversion = z.object({
  contact_id: z.uuid(),
  workspace_id: z.string(),
  conversion_status: z.enum(CONVERSION_STATUSES),
  converted_timestamp: time.nullable(),
  converted_by: z.string().nullable(),
  sent_from_workspace: z.string().nullable(),
  converted_from_workspace: z.string().nullable(),
  custom_metadata: json,
  lifetime_value: z.number(),
  conversion_count: z.number().int(),
  updated_at: time,
});

export function conversionEndpoints(deps: IntakeDeps) {
  const { pool } = deps;
  return [
    endpoint({
      method: 'post',
      path: '/api/v1/conversions',
      tag: 'conversions',
      summary: 'Log a conversion (seed 004 POST /conversions/log)',
      description:
        'contact_id is the lead id. Idempotent by `conversion_id` or the Idempotency-Key header: a repeat answers 200 with the first conversion; the same key with another body is 409. The conversion is also an event in the lead’s journey and a `conversion.logged` webhook.',
      permission: 'convert',
      body: LogConversionBody,
      headers: [IDEMPOTENCY_KEY],
      responses: {
        201: { description: 'logged', schema: ConversionLogged },
        200: { description: 'already logged with this key or conversion_id', schema: ConversionLogged },
        409: { description: 'key reused with a different body' },
      },
      async handler({ body, req }) {
        const { workspaceId } = principal(req);
        ownWorkspace(workspaceId, body.workspace_id);
        const { conversion, created } = await recordConversion(deps, {
          workspaceId,
          contactId: body.contact_id,
          idempotencyKey: idempotencyKeyOf(req.get('Idempotency-Key')),
          conversionId: body.conversion_id,
          conversionType: body.conversion_type,
          value: body.conversion_value,
          currency: body.currency,
          convertedBy: body.converted_by,
          convertedAt: body.converted_at ?? new Date().toISOString(),
          customData: body.custom_data,
          request: req.body,
        });
        return reply(created ? 201 : 200, { ...conversionJson(conversion), duplicate: !created });
      },
    }),
    endpoint({
      method: 'get',
      path: '/api/v1/conversions',
      tag: 'conversions',
      summary: 'Query conversions',
      description:
        '`workspace_id` may only be the caller’s own. Newest first; page with `next_cursor`. Send `Accept: text/csv` for CSV or `?format=xlsx` for an Excel workbook: either holds every conversion the filters select (paging is ignored), streamed.',
      permission: 'read',
      query: ListConversionsQuery,
      responses: {
        200: {
          description: 'conversions',
          csv: true,
          xlsx: true,
          schema: z.object({
            conversions: z.array(Conversion),
            total_count: z.number().int(),
            next_cursor: z.string().nullable(),
          }),
        },
      },
      async handler({ query, req, res }) {
        const { workspaceId, timezone } = principal(req);
        ownWorkspace(workspaceId, query.workspace_id);
        const range =
          query.from_date || query.to_date
            ? resolveRange({ from: query.from_date, to: query.to_date, zone: timezone })
            : undefined;
        const filter = {
          leadId: query.contact_id,
          types: query.conversion_type,
          minValue: query.min_value,
          maxValue: query.max_value,
          from: range?.from,
          to: range?.to,
          propertyId: query.property_id,
        };
        const exported = await exportTable(req, res, () => ({
          name: 'conversions',
          columns: EXPORT_COLUMNS,
          pages: mapPages(conversionPages(pool, workspaceId, filter), conversionJson),
        }));
        if (exported) return;
        const { rows, total } = await listConversions(pool, workspaceId, {
          ...filter,
          limit: query.limit + 1,
          cursor: readCursor(query.cursor, 'convertedAt'),
        });
        const { page, next_cursor } = paged(rows, query.limit, (last) => ({
          convertedAt: last.converted_at.toISOString(),
          id: last.id,
        }));
        return { conversions: page.map(conversionJson), total_count: total, next_cursor };
      },
    }),
    endpoint({
      method: 'get',
      path: '/api/v1/conversions/analytics',
      tag: 'conversions',
      summary: 'Conversion analytics (seed 004)',
      description:
        'Summary, by workspace, by type and daily/weekly/monthly trends in the workspace’s time zone. `from_date` defaults to 90 days before `to_date`. Send `Accept: text/csv` for CSV.',
      permission: 'read',
      query: z.object({
        workspace_id: slug.optional(),
        from_date: isoDate.optional(),
        to_date: isoDate.optional(),
        conversion_type: csvList(CONVERSION_TYPES).optional(),
        property_id: resourceId.optional(),
      }),
      responses: { 200: { description: 'analytics', schema: ConversionAnalytics, csv: true } },
      async handler({ query, req, res }) {
        const { workspaceId, timezone: zone } = principal(req);
        ownWorkspace(workspaceId, query.workspace_id);
        const range = resolveRange({
          from: query.from_date,
          to: query.to_date,
          zone,
          defaultDays: DEFAULT_ANALYTICS_DAYS,
        });
        const analytics = await conversionAnalytics(pool, workspaceId, range, zone, {
          propertyId: query.property_id,
          types: query.conversion_type,
        });
        const answer = { from_date: range.from, to_date: range.to, timezone: zone, ...analytics };
        await sendTable(req, res, answer, () => ({
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
      },
    }),
    endpoint({
      method: 'get',
      path: '/api/v1/conversions/:id',
      tag: 'conversions',
      summary: 'Get a conversion',
      permission: 'read',
      responses: { 200: { description: 'the conversion', schema: Conversion } },
      async handler({ params, req }) {
        const conversion = await byId(params.id, 'conversion', (id) =>
          getConversion(pool, principal(req).workspaceId, id),
        );
        return conversionJson(conversion);
      },
    }),
    endpoint({
      method: 'get',
      path: '/api/v1/contacts/:id/conversion',
      tag: 'conversions',
      summary: 'A contact’s (lead’s) conversion state',
      permission: 'read',
      responses: { 200: { description: 'conversion state', schema: ContactConversion } },
      handler: ({ params, req }) =>
        byId(params.id, 'contact', (id) => getContactConversion(pool, principal(req).workspaceId, id)),
    }),
    endpoint({
      method: 'patch',
      path: '/api/v1/contacts/:id/conversion',
      tag: 'conversions',
      summary: 'Update a contact’s conversion status (seed 004)',
      description: '`custom_metadata` is merged key by key; a key set to null is removed.',
      permission: 'convert',
      body: ContactConversionBody,
      responses: { 200: { description: 'updated', schema: ContactConversion } },
      handler: ({ params, body, req }) =>
        byId(params.id, 'contact', (id) =>
          updateContactConversion(pool, principal(req).workspaceId, id, {
            conversionStatus: body.conversion_status,
            convertedBy: body.converted_by,
            sentFromWorkspace: body.sent_from_workspace,
            convertedFromWorkspace: body.converted_from_workspace,
            customMetadata: body.custom_metadata,
          }),
        ),
    }),
  ];
}
