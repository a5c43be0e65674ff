// /api/v1/analytics: funnel, time in status, transitions and speed-to-lead, as JSON or CSV.
import { Router, type Request } from 'express';
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
import { getWorkspace } from '../../../data/workspaces';
import { resolveRange, type Range } from '../../../shared/dateRange';
import { parse, route } from '../../common/http';
import { principal, requirePermission } from '../auth';
import { sendTable } from '../csv';
import { isoDate, resourceId } from '../schemas';
import { DEFAULT_ANALYTICS_DAYS } from './conversions';

export const AnalyticsQuery = z.object({
  from_date: isoDate.optional(),
  to_date: isoDate.optional(),
  property_id: resourceId.optional(),
  source: z.string().min(1).max(100).optional(),
  partner: z.string().min(1).max(50).optional(),
  group_by: z.enum(GROUP_BY).optional(),
});

export const TransitionsQuery = AnalyticsQuery.extend({
  limit: z.coerce.number().int().min(1).max(100).default(10),
});

async function scopeOf(
  pool: pg.Pool,
  req: Request,
  query: z.output<typeof AnalyticsQuery>,
): Promise<{ workspaceId: string; range: Range; scope: LeadScope; overall: LeadScope }> {
  const { workspaceId } = principal(req);
  const zone = (await getWorkspace(pool, workspaceId))?.timezone ?? 'UTC';
  const range = resolveRange({
    from: query.from_date,
    to: query.to_date,
    zone,
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

export function analyticsRouter(pool: pg.Pool): Router {
  const router = Router();
  router.use(requirePermission('read'));

  router.get(
    '/funnel',
    route(async (req, res) => {
      const query = parse(AnalyticsQuery, req.query, 'query');
      const { workspaceId, range, scope, overall } = await scopeOf(pool, req, query);
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
      sendTable(
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
    }),
  );

  router.get(
    '/time-in-status',
    route(async (req, res) => {
      const query = parse(AnalyticsQuery, req.query, 'query');
      const { workspaceId, range, scope, overall } = await scopeOf(pool, req, query);
      const [all, groups] = await Promise.all([
        timeInStatus(pool, workspaceId, range, overall),
        query.group_by ? timeInStatus(pool, workspaceId, range, scope) : Promise.resolve([]),
      ]);
      const strip = <T extends { key: string }>({ key: _key, ...row }: T) => row;
      sendTable(
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
    }),
  );

  router.get(
    '/transitions',
    route(async (req, res) => {
      const query = parse(TransitionsQuery, req.query, 'query');
      const { workspaceId, range, scope, overall } = await scopeOf(pool, req, query);
      const [all, groups] = await Promise.all([
        transitions(pool, workspaceId, range, overall, query.limit),
        query.group_by
          ? transitions(pool, workspaceId, range, scope, query.limit)
          : Promise.resolve({ rows: [], totals: {} }),
      ]);
      const strip = ({ key: _key, ...row }: (typeof all.rows)[number]) => row;
      sendTable(
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
    }),
  );

  router.get(
    '/speed-to-lead',
    route(async (req, res) => {
      const query = parse(AnalyticsQuery, req.query, 'query');
      const { workspaceId, range, scope, overall } = await scopeOf(pool, req, query);
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
      sendTable(req, res, { ...header(range, query.group_by), unit: 'seconds', ...total, groups }, () => ({
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
      }));
    }),
  );

  return router;
}
