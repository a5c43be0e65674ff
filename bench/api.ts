// API read latency, analytics query times and 1 000 concurrent conversions (SPEC section 8), on a throwaway
// embedded Postgres filled with generate_series: 100 000 leads and 1 000 000 status-history rows.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, chmodSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type pg from 'pg';
import {
  analyticsQuery,
  conversionAnalytics,
  funnel,
  speedToLead,
  timeInStatus,
  transitions,
} from '../data/analytics';
import { createPool } from '../data/pool';
import { createWorkspace } from '../data/workspaces';
import { migrate } from '../infra/db/migrate';
import { freePort } from '../infra/local/ports';
import { startEmbeddedPostgres } from '../infra/local/postgres';
import { startTemporalDevServer } from '../infra/local/temporal';
import { createApiApp } from '../services/api/app';
import { EXPORT_MEMORY_BUDGET_MB, exportTable, measureExport } from './export';
import { JourneyClient } from '../usecases/journeys';
import { resolveRange } from '../shared/dateRange';
import { createLogger } from '../shared/logger';

const LEADS = Number(process.env.BENCH_LEADS ?? 100_000);
const HISTORY_PER_LEAD = 10;
const CONVERSIONS = 1000;
const ROUNDS = 3;
/** `exports`: only the export measurement (after generating the leads), e.g. to check a writer change. */
const ONLY = process.env.BENCH_API_ONLY;

const say = (line = '') => process.stdout.write(`${line}\n`);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)]!;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const ms = (value: number) => `${value.toFixed(1)} ms`;

/** Closed loop at fixed concurrency: `total` requests, answers the latencies (ms) of each. */
async function load(
  concurrency: number,
  total: number,
  request: (i: number) => Promise<void>,
): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < total; i = next++) {
        const started = performance.now();
        await request(i);
        latencies.push(performance.now() - started);
      }
    }),
  );
  return latencies.sort((a, b) => a - b);
}

export async function generate(pool: pg.Pool, workspaceId: string): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('SELECT setseed(0.42)');
    await client.query(
      `INSERT INTO properties (workspace_id, id, name, timezone, vertical)
       SELECT $1, 'p' || i, 'Property ' || i, 'America/Chicago',
              CASE WHEN i % 2 = 0 THEN 'multifamily' ELSE 'senior_living' END
         FROM generate_series(1, 20) i`,
      [workspaceId],
    );
    await client.query(
      `INSERT INTO leads (id, workspace_id, property_id, source, sources, first_name, email, email_normalized,
                          created_at, updated_at, status_changed_at)
       SELECT gen_random_uuid(), $1, 'p' || (1 + i % 20), src, ARRAY[src], 'Lead ' || i,
              'lead' || i || '@bench.example', 'lead' || i || '@bench.example', ts, ts, ts
         FROM (SELECT i, (ARRAY['website', 'apfm', 'caring', 'chatbot', 'webform', 'callrail'])[1 + floor(random() * 6)::int] AS src,
                      now() - random() * interval '365 days' AS ts
                 FROM generate_series(1, $2::int) i) g`,
      [workspaceId, LEADS],
    );
    // Each lead: `depth` applied rows along the funnel (the last one lost for ~30%), then refused attempts
    // up to 10 rows — the audit rows every analytics query has to skip.
    await client.query(
      `WITH l AS (
         SELECT id, created_at,
                1 + floor(random() * 7)::int AS depth,
                random() < 0.3 AS ends_lost,
                interval '1 minute' * (5 + random() * 900) AS step,
                ARRAY['new', 'contacted', 'qualified', 'tour_scheduled', 'toured', 'application',
                      CASE WHEN substr(property_id, 2)::int % 2 = 1 THEN 'placed' ELSE 'leased' END] AS path
           FROM leads WHERE workspace_id = $1),
       rows AS (
         SELECT l.*, n,
                CASE WHEN n = l.depth AND l.ends_lost AND n > 1 THEN 'lost' ELSE l.path[LEAST(n, l.depth)] END AS status
           FROM l, generate_series(1, $2::int) n)
       INSERT INTO status_history (idempotency_key, workspace_id, lead_id, journey, seq, entry_type, old_status,
                                   new_status, source, direction, created_at)
       SELECT 'bench:' || id || ':' || n, $1, id, 1,
              CASE WHEN n <= depth THEN n END,
              CASE WHEN n <= depth THEN 'applied' ELSE 'refused' END,
              CASE WHEN n = 1 THEN NULL WHEN n <= depth THEN path[n - 1] ELSE status END,
              CASE WHEN n <= depth THEN status ELSE 'new' END,
              'staff', 'inbound', created_at + step * (n - 1)
         FROM rows`,
      [workspaceId, HISTORY_PER_LEAD],
    );
    await client.query(
      `UPDATE leads l SET status = h.new_status, projection_seq = h.seq, status_changed_at = h.created_at
         FROM (SELECT DISTINCT ON (lead_id) lead_id, new_status, seq, created_at FROM status_history
                WHERE workspace_id = $1 AND entry_type = 'applied' ORDER BY lead_id, seq DESC) h
        WHERE l.id = h.lead_id`,
      [workspaceId],
    );
    await client.query(
      `INSERT INTO conversions (id, workspace_id, lead_id, request_hash, conversion_type, conversion_value,
                                converted_by, converted_at, property_id)
       SELECT gen_random_uuid(), $1, id, 'bench',
              (ARRAY['sale', 'appointment', 'lease', 'move_in', 'deposit'])[1 + floor(random() * 5)::int],
              round((random() * 5000)::numeric, 2), 'bench', created_at + interval '3 days', property_id
         FROM leads WHERE workspace_id = $1 AND status IN ('leased', 'placed', 'application')`,
      [workspaceId],
    );
    await client.query(
      `UPDATE leads l SET conversion_count = c.n, lifetime_value = c.total, conversion_status = 'converted'
         FROM (SELECT lead_id, count(*) AS n, sum(conversion_value) AS total FROM conversions GROUP BY lead_id) c
        WHERE l.id = c.lead_id`,
    );
    await client.query(
      `INSERT INTO referral_fees (workspace_id, lead_id, journey, partner, property_id, won_status, won_at, terms_source,
                                  fee_type, rate, amount)
       SELECT $1, id, 1, source, property_id, status, status_changed_at, 'terms', 'flat', 3000, 3000
         FROM leads WHERE workspace_id = $1 AND status IN ('leased', 'placed') AND source IN ('apfm', 'caring')`,
      [workspaceId],
    );
    // As autovacuum would on a live database: statistics, and the visibility map index-only scans need.
    await client.query('VACUUM ANALYZE');
  } finally {
    client.release();
  }
}

/** The statements an analytics function runs (its BEGIN/SET/COMMIT left out), by running it on a recording pool. */
export async function capture(
  pool: pg.Pool,
  run: (p: pg.Pool) => Promise<unknown>,
): Promise<{ text: string; values: unknown[] }[]> {
  const statements: { text: string; values: unknown[] }[] = [];
  const record = (text: string, values: unknown[]) => {
    if (!/^(BEGIN|SET|COMMIT|ROLLBACK)\b/.test(text)) statements.push({ text, values });
  };
  const recording = {
    query: (text: string, values: unknown[]) => {
      record(text, values);
      return pool.query(text, values);
    },
    connect: async () => {
      const client = await pool.connect();
      return {
        query: (text: string, values?: unknown[]) => {
          record(text, values ?? []);
          return client.query(text, values);
        },
        release: () => client.release(),
      };
    },
  } as unknown as pg.Pool;
  await run(recording);
  return statements;
}

/** EXPLAIN (ANALYZE, BUFFERS) of every statement an analytics function runs, with its work_mem. */
export async function explain(
  pool: pg.Pool,
  name: string,
  run: (p: pg.Pool) => Promise<unknown>,
  print: (line: string) => void = say,
): Promise<void> {
  for (const statement of await capture(pool, run)) {
    const { rows } = await analyticsQuery<{ 'QUERY PLAN': string }>(
      pool,
      `EXPLAIN (ANALYZE, BUFFERS) ${statement.text}`,
      statement.values,
    );
    print(`\n#### EXPLAIN ${name}\n`);
    print('```');
    for (const row of rows) print(row['QUERY PLAN']);
    print('```');
  }
}

export async function benchApi(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'leadrelay-bench-'));
  chmodSync(dir, 0o755);
  const [pgPort, temporalPort] = [await freePort(), await freePort()];
  say(
    `# API bench: ${LEADS.toLocaleString()} leads, ${(LEADS * HISTORY_PER_LEAD).toLocaleString()} history rows`,
  );
  say(`(throwaway Postgres and Temporal dev server under ${dir})`);
  const [postgres, temporal] = await Promise.all([
    startEmbeddedPostgres({ dataDir: join(dir, 'pg'), port: pgPort, database: 'leadrelay_bench' }),
    startTemporalDevServer({ port: temporalPort }),
  ]);
  let server: Server | undefined;
  const pool = createPool(postgres.url, 20);
  const connection = await Connection.connect({ address: temporal.address });
  try {
    await migrate(postgres.url);
    const { workspaceId, apiKey } = await createWorkspace(pool, {
      name: 'Bench',
      permissions: ['read', 'update', 'convert', 'admin'],
      timezone: 'America/Chicago',
      rateLimitPerHour: 100_000_000,
    });
    let started = performance.now();
    await generate(pool, workspaceId);
    const counts = await pool.query<{ leads: number; history: number; conversions: number }>(
      `SELECT (SELECT count(*) FROM leads)::int AS leads, (SELECT count(*) FROM status_history)::int AS history,
              (SELECT count(*) FROM conversions)::int AS conversions`,
    );
    say(
      `generated in ${((performance.now() - started) / 1000).toFixed(1)} s: ${JSON.stringify(counts.rows[0])}`,
    );

    const client = new Client({ connection });
    const app = createApiApp({
      pool,
      temporal: client,
      journeys: new JourneyClient({ client, taskQueue: 'bench' }),
      logger: createLogger('bench', 'silent'),
    });
    server = await new Promise<Server>((resolve) => {
      // A deep accept backlog: the conversion burst opens 2 000 connections at once.
      const s = app.listen(0, '127.0.0.1', 4096, () => resolve(s));
    });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;
    const headers = { authorization: `Bearer ${apiKey}` };
    const get = async (path: string) => {
      const response = await fetch(`${base}${path}`, { headers });
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`${path}: ${response.status}`);
    };
    const ids = (
      await pool.query<{ id: string }>('SELECT id FROM leads ORDER BY random() LIMIT 2000')
    ).rows.map((r) => r.id);

    say(
      '\n## API reads (closed loop, concurrency 8, 1 000 requests per round after 100 warm-up; median of 3 rounds)\n',
    );
    say('| request | p50 | p95 | p99 |');
    say('| --- | --- | --- | --- |');
    const reads: [string, (i: number) => string][] = [
      ['GET /leads?limit=50', () => '/leads?limit=50'],
      ['GET /leads?status=qualified&source=apfm', () => '/leads?status=qualified&source=apfm&limit=50'],
      ['GET /leads?q=Lead 4242', () => '/leads?q=Lead%204242&limit=50'],
      ['GET /leads/:id (projection + journey query)', (i) => `/leads/${ids[i % ids.length]}`],
      ['GET /leads/:id/status-history', (i) => `/leads/${ids[i % ids.length]}/status-history`],
      ['GET /conversions?limit=50', () => '/conversions?limit=50'],
      ['GET /conversions?contact_id=…', (i) => `/conversions?contact_id=${ids[i % ids.length]}`],
      ['GET /referral-fees?limit=50', () => '/referral-fees?limit=50'],
      ['GET /contacts/:id/conversion', (i) => `/contacts/${ids[i % ids.length]}/conversion`],
    ];
    for (const [name, path] of ONLY === 'exports' ? [] : reads) {
      await load(8, 100, (i) => get(path(i)));
      const rounds: number[][] = [];
      for (let r = 0; r < ROUNDS; r++) rounds.push(await load(8, 1000, (i) => get(path(i + r * 1000))));
      const stat = (p: number) => median(rounds.map((l) => percentile(l, p)));
      say(`| ${name} | ${ms(stat(50))} | ${ms(stat(95))} | ${ms(stat(99))} |`);
    }

    say(`\n## Exports of every lead, streamed (budget: ${EXPORT_MEMORY_BUDGET_MB} MB of growth)\n`);
    const exports = [
      await measureExport(`${base}/leads`, headers, 'csv'),
      await measureExport(`${base}/leads`, headers, 'xlsx'),
    ];
    say(exportTable(exports));
    const bounded = exports.every((m) => m.heapMb <= EXPORT_MEMORY_BUDGET_MB);
    say(`- ${bounded ? 'PASS' : 'FAIL'}: peak heap growth within the budget`);
    if (!bounded) process.exitCode = 1;
    if (ONLY === 'exports') return;

    say('\n## Analytics over HTTP (one at a time, median of 3 after a warm-up)\n');
    say('| endpoint | last 30 days | last 365 days |');
    say('| --- | --- | --- |');
    const analytics = [
      '/analytics/funnel',
      '/analytics/funnel?group_by=partner',
      '/analytics/time-in-status',
      '/analytics/time-in-status?group_by=property',
      '/analytics/transitions',
      '/analytics/speed-to-lead',
      '/analytics/speed-to-lead?group_by=source',
      '/conversions/analytics',
      `/workspaces/${workspaceId}/activity`,
    ];
    const today = new Date();
    const daysAgo = (days: number) => new Date(today.getTime() - days * 86_400_000).toISOString();
    for (const path of analytics) {
      const cells = [];
      for (const days of [30, 365]) {
        const url = `${path}${path.includes('?') ? '&' : '?'}from_date=${encodeURIComponent(daysAgo(days))}`;
        await get(url);
        const times: number[] = [];
        for (let r = 0; r < ROUNDS; r++) {
          started = performance.now();
          await get(url);
          times.push(performance.now() - started);
        }
        cells.push(ms(median(times)));
      }
      say(`| GET ${path} | ${cells.join(' | ')} |`);
    }

    say(`\n## ${CONVERSIONS} concurrent conversions, each posted twice at once (same Idempotency-Key)\n`);
    const targets = (
      await pool.query<{ id: string }>('SELECT id FROM leads ORDER BY random() LIMIT $1', [CONVERSIONS])
    ).rows.map((r) => r.id);
    const before = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM conversions');
    const run = randomUUID().slice(0, 8);
    const statuses: Record<string, number> = {};
    let retries = 0;
    const networkErrors: Record<string, number> = {};
    const post = async (i: number) => {
      // A client retries 5xx with the same key, as it should; the key makes the retry harmless.
      for (let attempt = 0; ; attempt++) {
        let response: Response;
        try {
          response = await fetch(`${base}/conversions`, {
            method: 'POST',
            headers: { ...headers, 'content-type': 'application/json', 'idempotency-key': `${run}-${i}` },
            body: JSON.stringify({ contact_id: targets[i], conversion_type: 'lease', conversion_value: i }),
          });
          await response.arrayBuffer();
        } catch (error) {
          // The connection failed (e.g. reset under 2 000 simultaneous connects): not answered, so retried.
          if (attempt >= 5) throw error;
          retries += 1;
          networkErrors[String((error as { cause?: { code?: string } }).cause?.code)] =
            (networkErrors[String((error as { cause?: { code?: string } }).cause?.code)] ?? 0) + 1;
          continue;
        }
        if (response.status < 500 || attempt >= 5) {
          statuses[response.status] = (statuses[response.status] ?? 0) + 1;
          return;
        }
        retries += 1;
      }
    };
    started = performance.now();
    await Promise.all(Array.from({ length: CONVERSIONS * 2 }, (_, i) => post(i % CONVERSIONS)));
    const elapsed = performance.now() - started;
    const after = await pool.query<{ n: number; distinct_keys: number; total: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT idempotency_key)::int AS distinct_keys,
              COALESCE(sum(conversion_value), 0)::float8 AS total
         FROM conversions WHERE idempotency_key LIKE $1`,
      [`${run}-%`],
    );
    const expectedTotal = (CONVERSIONS * (CONVERSIONS - 1)) / 2;
    const row = after.rows[0]!;
    const ok = row.n === CONVERSIONS && row.distinct_keys === CONVERSIONS && row.total === expectedTotal;
    say(
      `- ${CONVERSIONS * 2} posts in ${(elapsed / 1000).toFixed(2)} s; answers ${JSON.stringify(statuses)}; ${retries} client retries`,
    );
    say(
      `- conversions stored: ${row.n} (expected ${CONVERSIONS}), distinct keys ${row.distinct_keys}, value sum ${row.total} (expected ${expectedTotal})`,
    );
    say(`- total conversions table: ${before.rows[0]!.n} → ${before.rows[0]!.n + row.n}`);
    say(`- ${ok ? 'PASS: none lost, none duplicated' : 'FAIL: lost or duplicated conversions'}`);

    say('\n## Query plans (EXPLAIN ANALYZE, last 365 days, whole workspace)');
    const zone = 'America/Chicago';
    const range = resolveRange({ from: daysAgo(365), zone });
    await explain(pool, 'funnel', (p) => funnel(p, workspaceId, range, {}));
    await explain(pool, 'time in status', (p) => timeInStatus(p, workspaceId, range, {}));
    await explain(pool, 'transitions', (p) => transitions(p, workspaceId, range, {}, 10));
    await explain(pool, 'speed to lead', (p) => speedToLead(p, workspaceId, range, {}));
    await explain(pool, 'conversion analytics', (p) => conversionAnalytics(p, workspaceId, range, zone, {}));
    if (!ok) process.exitCode = 1;
  } finally {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server?.closeAllConnections();
    await pool.end();
    await connection.close();
    await Promise.all([postgres.stop(), temporal.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
}
