// Analytics as SQL over the leads projection, the status history and conversions (seeds 001 and 004).
// Funnel and speed-to-lead look at the cohort of leads created in the range; time in status and
// transitions at history rows written in the range. docs/analytics.md has the queries' plans and indexes.
import type pg from 'pg';
import { PARTNERS, STAGE_RANK, STATUSES, TERMINAL_STATUSES, type LeadStatus } from '../shared/lifecycle';
import type { Range } from '../shared/dateRange';
import { AppError } from '../shared/errors';
import { ANALYTICS_STATEMENT_TIMEOUT_MS } from './pool';

export const GROUP_BY = ['source', 'partner', 'property'] as const;
export type GroupBy = (typeof GROUP_BY)[number];

export interface LeadScope {
  propertyId?: string;
  /** The attributed (first) source. */
  source?: string;
  /** Any partner that touched the lead. */
  partner?: string;
  groupBy?: GroupBy;
}

/** The funnel's stages in order; `won` is leased (multifamily) or placed (senior living). */
export const FUNNEL_STAGES: { stage: string; rank: number }[] = [
  ...(['new', 'contacted', 'qualified', 'tour_scheduled', 'toured', 'application'] as const).map((s) => ({
    stage: s,
    rank: STAGE_RANK[s],
  })),
  { stage: 'won', rank: STAGE_RANK.leased },
];

/** Memory for one analytics statement's sorts and hashes: at 4 MB (Postgres' default) they spill to disk. */
export const ANALYTICS_WORK_MEM = '64MB';

/**
 * At most this many analytics statements of one workspace run at once, across every api process: each holds one
 * of the workspace's slots (a transaction-level advisory lock) while it runs, so one tenant's reports cannot take
 * the connections every other tenant's requests need.
 */
export const ANALYTICS_CONCURRENCY = 4;
/** The advisory-lock class of analytics slots (the first key of pg_try_advisory_xact_lock(int, int)). */
export const ANALYTICS_SLOT_LOCK_CLASS = 17_003;
/**
 * What a refused caller is told to wait (Retry-After): a typical report's time, not the statement timeout. The
 * dashboard waits it and asks again, so a page opening several panels at once shows them loading, not failing.
 */
export const ANALYTICS_RETRY_AFTER_SECONDS = 2;

/** The lock key of one of a workspace's slots, as Postgres computes it (so tests and other tools can hold one). */
const ANALYTICS_SLOT_KEY = `hashtext($1::text || ':' || slot)`;

/**
 * Runs one analytics statement read-only in one of the workspace's slots, with ANALYTICS_WORK_MEM and a longer
 * timeout for this transaction only; 429 `rate_limited` when every slot is taken. The workspace is always $1.
 */
export async function analyticsQuery<T extends pg.QueryResultRow>(
  pool: pg.Pool,
  text: string,
  values: unknown[],
): Promise<pg.QueryResult<T>> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN READ ONLY');
    // LIMIT 1 stops at the first slot taken: a statement never holds two.
    const slot = await client.query(
      `SELECT slot FROM generate_series(0, $3::int - 1) AS slot
        WHERE pg_try_advisory_xact_lock($2::int, ${ANALYTICS_SLOT_KEY}) LIMIT 1`,
      [values[0], ANALYTICS_SLOT_LOCK_CLASS, ANALYTICS_CONCURRENCY],
    );
    if (slot.rowCount === 0)
      throw new AppError(
        'rate_limited',
        `at most ${ANALYTICS_CONCURRENCY} analytics queries of a workspace run at once; retry later`,
        { limit: ANALYTICS_CONCURRENCY, retry_after: ANALYTICS_RETRY_AFTER_SECONDS },
      );
    await client.query(`SET LOCAL work_mem = '${ANALYTICS_WORK_MEM}'`);
    // Longer than the pool's statement_timeout, still bounded: a range of years must not hold a connection.
    await client.query(`SET LOCAL statement_timeout = ${ANALYTICS_STATEMENT_TIMEOUT_MS}`);
    const result = await client.query<T>(text, values);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** Numbered parameters of one analytics statement; the workspace and the range are always $1, $2 and $3. */
class Params {
  readonly values: unknown[];
  readonly ws = '$1';
  readonly from = '$2';
  readonly to = '$3';
  constructor(workspaceId: string, range: Range) {
    this.values = [workspaceId, range.from, range.to];
  }
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

const NONE = '(none)';

/**
 * What every lead analytics statement starts from: the leads in scope, `scoped (lead_id, grp, created_at)`, always
 * for a cohort (leads created in the range), for a history query only when filtered or grouped (else it reads
 * status_history alone). With group_by=partner a lead is in scope once per partner that touched it, or as `(none)`.
 */
class LeadQuery extends Params {
  /** `scoped AS (…),` opening the statement's WITH; empty when unscoped. */
  readonly scoped: string = '';
  /** A row's group: its lead's when scoped, else the one group `all`. */
  readonly key: string = `'all'::text`;

  constructor(workspaceId: string, range: Range, scope: LeadScope, cohort: boolean) {
    super(workspaceId, range);
    if (!cohort && !(scope.propertyId || scope.source || scope.partner || scope.groupBy)) return;
    const where = [`l.workspace_id = ${this.ws}`];
    if (cohort) where.push(`l.created_at >= ${this.from}`, `l.created_at < ${this.to}`);
    if (scope.propertyId) where.push(`l.property_id = ${this.add(scope.propertyId)}`);
    if (scope.source) where.push(`l.source = ${this.add(scope.source)}`);
    if (scope.partner) where.push(`${this.add(scope.partner)} = ANY(l.sources)`);
    let grp = `'all'::text`;
    let join = '';
    if (scope.groupBy === 'source') grp = 'l.source';
    if (scope.groupBy === 'property') grp = `COALESCE(l.property_id, '${NONE}')`;
    if (scope.groupBy === 'partner') {
      const partners = this.add([...PARTNERS]);
      join = `CROSS JOIN LATERAL (SELECT s FROM unnest(l.sources) s WHERE s = ANY(${partners}::text[])
                                  UNION ALL SELECT '${NONE}' WHERE NOT (l.sources && ${partners}::text[])) g(grp)`;
      grp = 'g.grp';
    }
    this.scoped = `scoped AS (SELECT l.id AS lead_id, ${grp} AS grp, l.created_at FROM leads l ${join}
                               WHERE ${where.join(' AND ')}),`;
    this.key = 's.grp';
  }
}

const rankCase = (column: string) =>
  `CASE ${column} ${STATUSES.filter((s) => s !== 'lost')
    .map((s) => `WHEN '${s}' THEN ${STAGE_RANK[s]}`)
    .join(' ')} END`;

const pct = (part: number, whole: number) => (whole > 0 ? Math.round((part / whole) * 10000) / 100 : 0);
const round = (value: number | null) => (value === null ? null : Math.round(value));

// ---- funnel ----

export interface FunnelGroup {
  key: string;
  total_leads: number;
  stages: { stage: string; count: number; conversion_rate: number; rate_from_start: number }[];
  won: { leased: number; placed: number };
  lost: number;
}

interface FunnelRow {
  grp: string;
  total: number;
  lost: number;
  leased: number;
  placed: number;
  [reached: `reached_${number}`]: number;
}

/**
 * Stage counts of the leads created in the range: a lead counts for every stage up to the furthest it
 * reached (applied or skipped), so the funnel never widens. Conversion rate: of the previous stage, in %.
 */
export async function funnel(
  pool: pg.Pool,
  workspaceId: string,
  range: Range,
  scope: LeadScope,
): Promise<FunnelGroup[]> {
  const q = new LeadQuery(workspaceId, range, scope, true);
  const { rows } = await analyticsQuery<FunnelRow>(
    pool,
    `WITH ${q.scoped}
          reach AS (
            SELECT h.lead_id, max(${rankCase('h.new_status')}) AS rank,
                   bool_or(h.new_status = 'lost') AS lost, bool_or(h.new_status = 'leased') AS leased,
                   bool_or(h.new_status = 'placed') AS placed
              FROM (SELECT DISTINCT lead_id FROM scoped) s
              JOIN status_history h ON h.workspace_id = ${q.ws} AND h.lead_id = s.lead_id
             WHERE h.entry_type IN ('applied', 'skipped')
             GROUP BY h.lead_id)
     SELECT s.grp, count(*)::int AS total,
            ${FUNNEL_STAGES.map((f) => `count(*) FILTER (WHERE COALESCE(r.rank, 0) >= ${f.rank})::int AS reached_${f.rank}`).join(', ')},
            count(*) FILTER (WHERE r.lost)::int AS lost, count(*) FILTER (WHERE r.leased)::int AS leased,
            count(*) FILTER (WHERE r.placed)::int AS placed
       FROM scoped s LEFT JOIN reach r ON r.lead_id = s.lead_id
      GROUP BY s.grp ORDER BY total DESC, s.grp`,
    q.values,
  );
  return rows.map((row) => {
    const counts = FUNNEL_STAGES.map((f) => row[`reached_${f.rank}`] ?? 0);
    return {
      key: row.grp,
      total_leads: row.total,
      stages: FUNNEL_STAGES.map((f, i) => ({
        stage: f.stage,
        count: counts[i]!,
        conversion_rate: i === 0 ? 100 : pct(counts[i]!, counts[i - 1]!),
        rate_from_start: pct(counts[i]!, counts[0]!),
      })),
      won: { leased: row.leased, placed: row.placed },
      lost: row.lost,
    };
  });
}

// ---- time in status ----

export interface TimeInStatusRow {
  key: string;
  status: LeadStatus;
  stays: number;
  open: number;
  average_seconds: number | null;
  median_seconds: number | null;
  p90_seconds: number | null;
}

/**
 * How long leads stay in each non-terminal status: each applied history row that entered a status in the
 * range, until the next applied row of the same journey (lead() over the lead's rows in seq order).
 * Stays not over yet are counted as `open` and left out of the averages.
 */
export async function timeInStatus(
  pool: pg.Pool,
  workspaceId: string,
  range: Range,
  scope: LeadScope,
): Promise<TimeInStatusRow[]> {
  const q = new LeadQuery(workspaceId, range, scope, false);
  const terminal = q.add([...TERMINAL_STATUSES]);
  const seconds = 'extract(epoch FROM st.left_at - st.entered_at)';
  const { rows } = await analyticsQuery<TimeInStatusRow & { grp: string }>(
    pool,
    `WITH ${q.scoped}
          stays AS (
            SELECT h.lead_id, h.new_status AS status, h.created_at AS entered_at,
                   lead(h.created_at) OVER (PARTITION BY h.lead_id, h.journey ORDER BY h.seq) AS left_at
              FROM status_history h
             WHERE h.workspace_id = ${q.ws} AND h.entry_type = 'applied' AND h.created_at >= ${q.from}
               ${q.scoped ? 'AND h.lead_id IN (SELECT lead_id FROM scoped)' : ''})
     SELECT ${q.key} AS key, st.status,
            count(st.left_at)::int AS stays, (count(*) - count(st.left_at))::int AS open,
            avg(${seconds})::float8 AS average_seconds,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY ${seconds}) AS median_seconds,
            percentile_cont(0.9) WITHIN GROUP (ORDER BY ${seconds}) AS p90_seconds
       FROM stays st ${q.scoped ? 'JOIN scoped s ON s.lead_id = st.lead_id' : ''}
      WHERE st.entered_at < ${q.to} AND st.status <> ALL(${terminal}::text[])
      GROUP BY 1, 2`,
    q.values,
  );
  const order = (s: string) => STATUSES.indexOf(s as LeadStatus);
  return rows
    .map((row) => ({
      key: row.key,
      status: row.status,
      stays: row.stays,
      open: row.open,
      average_seconds: round(row.average_seconds),
      median_seconds: round(row.median_seconds),
      p90_seconds: round(row.p90_seconds),
    }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : order(a.status) - order(b.status)));
}

// ---- transitions ----

export interface TransitionRow {
  key: string;
  from: LeadStatus;
  to: LeadStatus;
  count: number;
}

/** The most common applied status changes in the range (per group when grouped), most frequent first. */
export async function transitions(
  pool: pg.Pool,
  workspaceId: string,
  range: Range,
  scope: LeadScope,
  limit: number,
): Promise<{ rows: TransitionRow[]; totals: Record<string, number> }> {
  const q = new LeadQuery(workspaceId, range, scope, false);
  const { rows } = await analyticsQuery<TransitionRow & { total: number }>(
    pool,
    `WITH ${q.scoped}
          counted AS (
            SELECT ${q.key} AS key, h.old_status AS "from", h.new_status AS "to", count(*)::int AS count
              FROM status_history h ${q.scoped ? 'JOIN scoped s ON s.lead_id = h.lead_id' : ''}
             WHERE h.workspace_id = ${q.ws} AND h.entry_type = 'applied' AND h.old_status IS NOT NULL
               AND h.created_at >= ${q.from} AND h.created_at < ${q.to}
             GROUP BY 1, 2, 3),
          ranked AS (
            SELECT *, row_number() OVER (PARTITION BY key ORDER BY count DESC, "from", "to") AS n,
                   sum(count) OVER (PARTITION BY key)::int AS total
              FROM counted)
     SELECT key, "from", "to", count, total FROM ranked WHERE n <= ${q.add(limit)} ORDER BY key, n`,
    q.values,
  );
  const totals: Record<string, number> = {};
  for (const row of rows) totals[row.key] = row.total;
  return { rows: rows.map(({ total: _total, ...row }) => row), totals };
}

// ---- speed to lead ----

export interface SpeedToLeadRow {
  key: string;
  leads: number;
  contacted: number;
  not_contacted: number;
  average_seconds: number | null;
  median_seconds: number | null;
  p90_seconds: number | null;
}

/**
 * First inquiry (the lead's creation) to first contact (the first applied move of its first journey to a
 * status other than new or lost), for the leads created in the range.
 */
export async function speedToLead(
  pool: pg.Pool,
  workspaceId: string,
  range: Range,
  scope: LeadScope,
): Promise<SpeedToLeadRow[]> {
  const q = new LeadQuery(workspaceId, range, scope, true);
  const seconds = 'extract(epoch FROM fc.at - s.created_at)';
  const { rows } = await analyticsQuery<Omit<SpeedToLeadRow, 'not_contacted'> & { grp: string }>(
    pool,
    `WITH ${q.scoped}
          first_contact AS (
            SELECT h.lead_id, min(h.created_at) AS at
              FROM (SELECT DISTINCT lead_id FROM scoped) s
              JOIN status_history h ON h.workspace_id = ${q.ws} AND h.lead_id = s.lead_id
             WHERE h.entry_type = 'applied' AND h.journey = 1 AND h.new_status NOT IN ('new', 'lost')
             GROUP BY h.lead_id)
     SELECT s.grp AS key, count(*)::int AS leads, count(fc.at)::int AS contacted,
            avg(${seconds})::float8 AS average_seconds,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY ${seconds}) AS median_seconds,
            percentile_cont(0.9) WITHIN GROUP (ORDER BY ${seconds}) AS p90_seconds
       FROM scoped s LEFT JOIN first_contact fc ON fc.lead_id = s.lead_id
      GROUP BY s.grp ORDER BY leads DESC, s.grp`,
    q.values,
  );
  return rows.map((row) => ({
    key: row.key,
    leads: row.leads,
    contacted: row.contacted,
    not_contacted: row.leads - row.contacted,
    average_seconds: round(row.average_seconds),
    median_seconds: round(row.median_seconds),
    p90_seconds: round(row.p90_seconds),
  }));
}

// ---- conversions (seed 004 analytics) ----

export interface ConversionScope {
  propertyId?: string;
  types?: string[];
}

export interface ConversionAnalytics {
  summary: {
    total_conversions: number;
    total_value: number;
    average_value: number;
    conversion_rate: number;
    contacts_received: number;
    converted_contacts: number;
  };
  by_workspace: {
    workspace_id: string;
    conversions: number;
    total_value: number;
    conversion_rate: number;
  }[];
  by_type: Record<string, number>;
  by_type_value: Record<string, number>;
  by_property: { property_id: string; conversions: number; total_value: number }[];
  trends: {
    daily: { date: string; conversions: number; total_value: number }[];
    weekly: { week_start: string; conversions: number; total_value: number }[];
    monthly: { month: string; conversions: number; total_value: number }[];
  };
}

/**
 * Seed 004's analytics over conversions logged in the range. conversion_rate: the share (in %) of the
 * contacts received in the range that have converted; trends are bucketed in the workspace's time zone.
 */
export async function conversionAnalytics(
  pool: pg.Pool,
  workspaceId: string,
  range: Range,
  zone: string,
  scope: ConversionScope,
): Promise<ConversionAnalytics> {
  const p = new Params(workspaceId, range);
  const where = [`c.workspace_id = ${p.ws}`, `c.converted_at >= ${p.from}`, `c.converted_at < ${p.to}`];
  if (scope.propertyId) where.push(`c.property_id = ${p.add(scope.propertyId)}`);
  if (scope.types?.length) where.push(`c.conversion_type = ANY(${p.add(scope.types)}::text[])`);
  const tz = p.add(zone);
  const leadWhere = [`l.workspace_id = ${p.ws}`, `l.created_at >= ${p.from}`, `l.created_at < ${p.to}`];
  if (scope.propertyId) leadWhere.push(`l.property_id = ${p.add(scope.propertyId)}`);
  const { rows } = await analyticsQuery<{
    section: string;
    key: string;
    conversions: number;
    total_value: number;
  }>(
    pool,
    `WITH c AS (SELECT c.* FROM conversions c WHERE ${where.join(' AND ')})
     SELECT 'summary' AS section, '' AS key, count(*)::int AS conversions, COALESCE(sum(conversion_value), 0)::float8 AS total_value FROM c
     UNION ALL SELECT 'type', conversion_type, count(*)::int, COALESCE(sum(conversion_value), 0)::float8 FROM c GROUP BY 2
     UNION ALL SELECT 'property', COALESCE(property_id, '${NONE}'), count(*)::int, COALESCE(sum(conversion_value), 0)::float8 FROM c GROUP BY 2
     UNION ALL SELECT 'daily', to_char(date_trunc('day', converted_at AT TIME ZONE ${tz}), 'YYYY-MM-DD'), count(*)::int,
                      COALESCE(sum(conversion_value), 0)::float8 FROM c GROUP BY 2
     UNION ALL SELECT 'weekly', to_char(date_trunc('week', converted_at AT TIME ZONE ${tz}), 'YYYY-MM-DD'), count(*)::int,
                      COALESCE(sum(conversion_value), 0)::float8 FROM c GROUP BY 2
     UNION ALL SELECT 'monthly', to_char(date_trunc('month', converted_at AT TIME ZONE ${tz}), 'YYYY-MM'), count(*)::int,
                      COALESCE(sum(conversion_value), 0)::float8 FROM c GROUP BY 2
     UNION ALL SELECT 'contacts', '', count(*)::int, count(*) FILTER (WHERE l.conversion_count > 0)::float8
                 FROM leads l WHERE ${leadWhere.join(' AND ')}
     ORDER BY 1, 2`,
    p.values,
  );
  const section = (name: string) => rows.filter((row) => row.section === name);
  const summary = section('summary')[0] ?? { conversions: 0, total_value: 0 };
  const contacts = section('contacts')[0] ?? { conversions: 0, total_value: 0 };
  const received = contacts.conversions;
  const converted = contacts.total_value;
  const money = (value: number) => Math.round(value * 100) / 100;
  const rate = pct(converted, received);
  const bucket = (name: string) =>
    section(name).map((row) => ({
      key: row.key,
      conversions: row.conversions,
      total_value: money(row.total_value),
    }));
  return {
    summary: {
      total_conversions: summary.conversions,
      total_value: money(summary.total_value),
      average_value: summary.conversions > 0 ? money(summary.total_value / summary.conversions) : 0,
      conversion_rate: rate,
      contacts_received: received,
      converted_contacts: converted,
    },
    by_workspace: [
      {
        workspace_id: workspaceId,
        conversions: summary.conversions,
        total_value: money(summary.total_value),
        conversion_rate: rate,
      },
    ],
    by_type: Object.fromEntries(section('type').map((row) => [row.key, row.conversions])),
    by_type_value: Object.fromEntries(section('type').map((row) => [row.key, money(row.total_value)])),
    by_property: bucket('property').map(({ key, ...row }) => ({ property_id: key, ...row })),
    trends: {
      daily: bucket('daily').map(({ key, ...row }) => ({ date: key, ...row })),
      weekly: bucket('weekly').map(({ key, ...row }) => ({ week_start: key, ...row })),
      monthly: bucket('monthly').map(({ key, ...row }) => ({ month: key, ...row })),
    },
  };
}

// ---- workspace activity (seed 004) ----

export interface WorkspaceActivity {
  workspace_id: string;
  total_contacts_received: number;
  total_contacts_sent: number;
  total_conversions: number;
  total_conversion_value: number;
  converted_contacts: number;
  conversion_rate: number;
  recent_activity: {
    action: string;
    contact_id: string | null;
    timestamp: string;
    metadata: Record<string, unknown>;
  }[];
}

/** Seed 004 `GET /workspaces/:id/activity`: contacts received and sent, conversions, and the latest actions. */
export async function workspaceActivity(
  pool: pg.Pool,
  workspaceId: string,
  range: Range,
  recent: number,
): Promise<WorkspaceActivity> {
  const totals = await pool.query<{
    received: number;
    sent: number;
    converted: number;
    conversions: number;
    value: number;
  }>(
    `SELECT count(*)::int AS received,
            count(*) FILTER (WHERE sent_from_workspace IS NOT NULL)::int AS sent,
            count(*) FILTER (WHERE conversion_count > 0)::int AS converted,
            (SELECT count(*)::int FROM conversions
              WHERE workspace_id = $1 AND converted_at >= $2 AND converted_at < $3) AS conversions,
            (SELECT COALESCE(sum(conversion_value), 0)::float8 FROM conversions
              WHERE workspace_id = $1 AND converted_at >= $2 AND converted_at < $3) AS value
       FROM leads WHERE workspace_id = $1 AND created_at >= $2 AND created_at < $3`,
    [workspaceId, range.from, range.to],
  );
  const activity = await pool.query<{
    action: string;
    lead_id: string | null;
    at: Date;
    metadata: Record<string, unknown>;
  }>(
    `(SELECT 'received' AS action, id AS lead_id, created_at AS at, jsonb_build_object('source', source) AS metadata
        FROM leads WHERE workspace_id = $1 AND created_at >= $2 AND created_at < $3
       ORDER BY created_at DESC LIMIT $4)
     UNION ALL
     (SELECT action, lead_id, created_at, metadata FROM workspace_activity
       WHERE workspace_id = $1 AND created_at >= $2 AND created_at < $3
       ORDER BY created_at DESC LIMIT $4)
     ORDER BY at DESC LIMIT $4`,
    [workspaceId, range.from, range.to, recent],
  );
  const t = totals.rows[0] ?? { received: 0, sent: 0, converted: 0, conversions: 0, value: 0 };
  return {
    workspace_id: workspaceId,
    total_contacts_received: t.received,
    total_contacts_sent: t.sent,
    total_conversions: t.conversions,
    total_conversion_value: Math.round(t.value * 100) / 100,
    converted_contacts: t.converted,
    conversion_rate: pct(t.converted, t.received),
    recent_activity: activity.rows.map((row) => ({
      action: row.action,
      contact_id: row.lead_id,
      timestamp: row.at.toISOString(),
      metadata: row.metadata,
    })),
  };
}
