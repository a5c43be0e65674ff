// /api/v1/analytics: funnel, time in status, transitions and speed-to-lead, as JSON or CSV.
import type { Request } from 'express';
import type pg from 'pg';
import { z } from 'zod';
import {
  funnel,
  GROUP_BY,
  speedToLead,
  timeInStatus,
  transitions,
  type LeadScope,
} from '../../../data/analytics';
import { resolveRange, type Range } from '../../../shared/dateRange';
import { endpoint } from '../../common/endpoints';
import { principal } from '../auth';
import { sendTable } from '../csv';
import { isoDate, resourceId, status, time } from '../schemas';
import { DEFAULT_ANALYTICS_DAYS } from './conversions';

const AnalyticsQuery = z.object({
  from_date: isoDate.optional(),
  to_date: isoDate.optional(),
  property_id: resourceId.optional(),
  source: z.string().min(1).max(100).optional(),
  partner: z.string().min(1).max(50).optional(),
  group_by: z.enum(GROUP_BY).optional(),
});

const rangeFields = {
  from_date: time,
  to_date: time,
  group_by: z.enum(['source', 'partner', 'property']).nullable(),
};
const funnelBody = {
  total_leads: z.number().int(),
  stages: z.array(
    z.object({
      stage: z.string(),
      count: z.number().int(),
      conversion_rate: z.number().meta({ description: 'percent of the previous stage' }),
      rate_from_start: z.number().meta({ description: 'percent of the first stage' }),
    }),
  ),
  won: z.object({ leased: z.number().int(), placed: z.number().int() }),
  lost: z.number().int(),
};
const stay = z.object({
  status,
  stays: z.number().int(),
  open: z.number().int(),
  average_seconds: z.number().nullable(),
  median_seconds: z.number().nullable(),
  p90_seconds: z.number().nullable(),
});
const transition = z.object({ from: status, to: status, count: z.number().int() });
const speed = {
  leads: z.number().int(),
  contacted: z.number().int(),
  not_contacted: z.number().int(),
  average_seconds: z.number().nullable(),
  median_seconds: z.number().nullable(),
  p90_seconds: z.number().nullable(),
};

/** The caller's workspace, the range (bare dates in its time zone) and the lead scope, overall and grouped. */
function scopeOf(req: Request, query: z.output<typeof AnalyticsQuery>) {
  const { workspaceId, timezone } = principal(req);
  const range = resolveRange({
    from: query.from_date,
    to: query.to_date,
    zone: timezone,
    defaultDays: DEFAULT_ANALYTICS_DAYS,
  });
  const overall: LeadScope = { propertyId: query.property_id, source: query.source, partner: query.partner };
  return { workspaceId, range, overall, scope: { ...overall, groupBy: query.group_by } };
}

const header = (range: Range, groupBy: string | undefined) => ({
  from_date: range.from,
  to_date: range.to,
  group_by: groupBy ?? null,
});

/** What every analytics answer shares: the caller, the description's tail, JSON or CSV. */
const shared = (summary: string, description: string, schema: z.ZodType) => ({
  method: 'get' as const,
  tag: 'analytics',
  summary,
  description: `${description} \`from_date\` defaults to 90 days before \`to_date\` (default now); a bare date is a whole day in the workspace's time zone. \`group_by\`: source (attributed), partner (every partner that touched the lead) or property. Send \`Accept: text/csv\` for CSV.`,
  permission: 'read' as const,
  responses: { 200: { description: summary, schema, csv: true } },
});

export function analyticsEndpoints(pool: pg.Pool) {
  return [
    endpoint({
      path: '/api/v1/analytics/funnel',
      ...shared(
        'Funnel: stage counts and conversion rates',
        'Leads created in the range, each counted up to the furthest stage it reached.',
        z.object({
          ...rangeFields,
          ...funnelBody,
          groups: z.array(z.object({ key: z.string(), ...funnelBody })),
        }),
      ),
      query: AnalyticsQuery,
      async handler({ query, req, res }) {
        const { workspaceId, range, scope, overall } = scopeOf(req, query);
        const [all, groups] = await Promise.all([
          funnel(pool, workspaceId, range, overall),
          query.group_by ? funnel(pool, workspaceId, range, scope) : Promise.resolve(undefined),
        ]);
        const total = all[0] ?? {
          key: 'all',
          total_leads: 0,
          stages: [],
          won: { leased: 0, placed: 0 },
          lost: 0,
        };
        const { key: _key, ...overallFunnel } = total;
        await sendTable(
          req,
          res,
          { ...header(range, query.group_by), ...overallFunnel, groups: groups ?? [] },
          () => ({
            name: 'funnel',
            columns: ['group', 'stage', 'count', 'conversion_rate', 'rate_from_start'],
            rows: [total, ...(groups ?? [])].flatMap((g) =>
              [
                ...g.stages,
                { stage: 'leased', count: g.won.leased },
                { stage: 'placed', count: g.won.placed },
                { stage: 'lost', count: g.lost },
              ].map((s) => ({ group: g.key, ...s })),
            ),
          }),
        );
      },
    }),
    endpoint({
      path: '/api/v1/analytics/time-in-status',
      ...shared(
        'Average time in each status',
        'Stays that began in the range, from status history (lead() window over each lead’s rows).',
        z.object({
          ...rangeFields,
          unit: z.literal('seconds'),
          average_time_in_status: z.record(z.string(), z.number().nullable()),
          statuses: z.array(stay),
          groups: z.array(z.object({ key: z.string(), statuses: z.array(stay) })),
        }),
      ),
      query: AnalyticsQuery,
      async handler({ query, req, res }) {
        const { workspaceId, range, scope, overall } = scopeOf(req, query);
        const [all, groups] = await Promise.all([
          timeInStatus(pool, workspaceId, range, overall),
          query.group_by ? timeInStatus(pool, workspaceId, range, scope) : Promise.resolve([]),
        ]);
        const strip = <T extends { key: string }>({ key: _key, ...row }: T) => row;
        await sendTable(
          req,
          res,
          {
            ...header(range, query.group_by),
            unit: 'seconds',
            average_time_in_status: Object.fromEntries(all.map((row) => [row.status, row.average_seconds])),
            statuses: all.map(strip),
            groups: [...new Set(groups.map((row) => row.key))].map((key) => ({
              key,
              statuses: groups.filter((row) => row.key === key).map(strip),
            })),
          },
          () => ({
            name: 'time-in-status',
            columns: ['group', 'status', 'stays', 'open', 'average_seconds', 'median_seconds', 'p90_seconds'],
            rows: [...all, ...groups].map((row) => ({ group: row.key, ...row })),
          }),
        );
      },
    }),
    endpoint({
      path: '/api/v1/analytics/transitions',
      ...shared(
        'Most common status transitions',
        'Applied changes in the range.',
        z.object({
          ...rangeFields,
          total_status_changes: z.number().int(),
          most_common_transitions: z.array(transition),
          groups: z.array(
            z.object({
              key: z.string(),
              total_status_changes: z.number().int(),
              most_common_transitions: z.array(transition),
            }),
          ),
        }),
      ),
      query: AnalyticsQuery.extend({ limit: z.coerce.number().int().min(1).max(100).default(10) }),
      async handler({ query, req, res }) {
        const { workspaceId, range, scope, overall } = scopeOf(req, query);
        const [all, groups] = await Promise.all([
          transitions(pool, workspaceId, range, overall, query.limit),
          query.group_by
            ? transitions(pool, workspaceId, range, scope, query.limit)
            : Promise.resolve({ rows: [], totals: {} }),
        ]);
        const strip = ({ key: _key, ...row }: (typeof all.rows)[number]) => row;
        await sendTable(
          req,
          res,
          {
            ...header(range, query.group_by),
            total_status_changes: all.totals.all ?? 0,
            most_common_transitions: all.rows.map(strip),
            groups: Object.entries(groups.totals).map(([key, total]) => ({
              key,
              total_status_changes: total,
              most_common_transitions: groups.rows.filter((row) => row.key === key).map(strip),
            })),
          },
          () => ({
            name: 'transitions',
            columns: ['group', 'from', 'to', 'count'],
            rows: [...all.rows, ...groups.rows].map((row) => ({ group: row.key, ...row })),
          }),
        );
      },
    }),
    endpoint({
      path: '/api/v1/analytics/speed-to-lead',
      ...shared(
        'Speed to lead: median and p90 from first inquiry to first contact',
        'Leads created in the range; first contact is the first move to a status other than new or lost.',
        z.object({
          ...rangeFields,
          unit: z.literal('seconds'),
          ...speed,
          groups: z.array(z.object({ key: z.string(), ...speed })),
        }),
      ),
      query: AnalyticsQuery,
      async handler({ query, req, res }) {
        const { workspaceId, range, scope, overall } = scopeOf(req, query);
        const [all, groups] = await Promise.all([
          speedToLead(pool, workspaceId, range, overall),
          query.group_by ? speedToLead(pool, workspaceId, range, scope) : Promise.resolve([]),
        ]);
        const { key: _key, ...total } = all[0] ?? {
          key: 'all',
          leads: 0,
          contacted: 0,
          not_contacted: 0,
          average_seconds: null,
          median_seconds: null,
          p90_seconds: null,
        };
        await sendTable(
          req,
          res,
          { ...header(range, query.group_by), unit: 'seconds', ...total, groups },
          () => ({
            name: 'speed-to-lead',
            columns: [
              'group',
              'leads',
              'contacted',
              'not_contacted',
              'average_seconds',
              'median_seconds',
              'p90_seconds',
            ],
            rows: [{ key: 'all', ...total }, ...groups].map((row) => ({ group: row.key, ...row })),
          }),
        );
      },
    }),
  ];
}
