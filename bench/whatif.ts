// What-if over thousands of leads: a throwaway embedded Postgres filled with leads whose histories are API
// inquiries and staff changes (the inputs the replay rebuilds), then every lead replayed with a candidate rule,
// a page (the per-request cap) at a time. Reports leads per second, the time of each page and the heap.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { createPool } from '../data/pool';
import { createWorkspace } from '../data/workspaces';
import { migrate } from '../infra/db/migrate';
import { freePort } from '../infra/local/ports';
import { startEmbeddedPostgres } from '../infra/local/postgres';
import { runWhatIf, WHATIF_MAX_LEADS } from '../usecases/whatif';
import type { BenchSettings } from './report';
import { say } from './report';

export interface WhatIfResult {
  leads: number;
  historyRows: number;
  pages: number;
  seconds: number;
  leadsPerSecond: number;
  /** This process's CPU time per lead (ms): what a busy, shared machine does not inflate as it does wall time. */
  cpuMsPerLead: number;
  pageMs: { median: number; max: number };
  /** Heap in use after each page, the most seen (MB): bounded by a page, not by the whole set. */
  peakHeapMb: number;
  changed: number;
}

/**
 * Each lead: an API inquiry, then up to five staff changes along the funnel a few hours apart (some tours
 * booked with their time on the change's notice), over the last 60 days.
 */
async function generate(pool: pg.Pool, workspaceId: string, leads: number): Promise<void> {
  await pool.query(
    `INSERT INTO properties (workspace_id, id, name, timezone, vertical)
     SELECT $1, 'p' || i, 'Property ' || i, 'America/Chicago', 'multifamily' FROM generate_series(1, 10) i`,
    [workspaceId],
  );
  await pool.query(
    `INSERT INTO leads (id, workspace_id, property_id, source, sources, email, email_normalized, created_at)
     SELECT gen_random_uuid(), $1, 'p' || (1 + i % 10), 'website', ARRAY['website'], 'l' || i || '@bench.example',
            'l' || i || '@bench.example', now() - random() * interval '60 days'
       FROM generate_series(1, $2::int) i`,
    [workspaceId, leads],
  );
  await pool.query(
    `WITH l AS (SELECT id, created_at, 1 + floor(random() * 6)::int AS depth FROM leads WHERE workspace_id = $1),
     path AS (SELECT ARRAY['new', 'contacted', 'qualified', 'tour_scheduled', 'toured', 'application'] AS s),
     rows AS (
       SELECT l.id, l.created_at, n, (SELECT s[n] FROM path) AS status, (SELECT s[n - 1] FROM path) AS previous,
              CASE WHEN n = 1 THEN 'api:' || l.id ELSE 'status:' || l.id || ':' || n END AS event_id
         FROM l, generate_series(1, l.depth) n)
     INSERT INTO status_history (idempotency_key, workspace_id, lead_id, journey, seq, entry_type, old_status,
                                 new_status, reason, source, direction, event_id, created_at)
     SELECT 'lead/' || $1 || '/' || id || ':j1:' || event_id || ':record_history:' || n, $1, id, 1, n, 'applied',
            previous, status, CASE WHEN n = 1 THEN 'inquiry' END, CASE WHEN n = 1 THEN 'api' ELSE 'staff' END,
            'inbound', event_id, created_at + interval '3 hours' * (n - 1)
       FROM rows`,
    [workspaceId],
  );
  // Each staff change told staff (so the replay knows it was not silent); a booked tour names its time.
  await pool.query(
    `INSERT INTO notifications (idempotency_key, workspace_id, lead_id, audience, template, priority, data, created_at)
     SELECT replace(idempotency_key, ':record_history:' || seq, ':notify:staff:' || new_status), workspace_id, lead_id,
            'staff', 'status_changed', 'medium',
            jsonb_build_object('new_status', new_status, 'tour_at', created_at + interval '2 days'), created_at
       FROM status_history WHERE workspace_id = $1 AND seq > 1`,
    [workspaceId],
  );
  await pool.query(
    `UPDATE leads l SET status = h.new_status, projection_seq = h.seq, status_changed_at = h.created_at,
                        updated_at = h.created_at
       FROM (SELECT DISTINCT ON (lead_id) lead_id, new_status, seq, created_at FROM status_history
              WHERE workspace_id = $1 ORDER BY lead_id, seq DESC) h
      WHERE l.id = h.lead_id`,
    [workspaceId],
  );
  await pool.query('VACUUM ANALYZE');
}

export async function benchWhatIf(settings: BenchSettings): Promise<WhatIfResult> {
  const leads = settings.quick ? 2_000 : Number(process.env.BENCH_WHATIF_LEADS ?? 20_000);
  const dir = mkdtempSync(join(tmpdir(), 'leadrelay-bench-whatif-'));
  chmodSync(dir, 0o755);
  const postgres = await startEmbeddedPostgres({
    dataDir: join(dir, 'pg'),
    port: await freePort(),
    database: 'leadrelay_bench',
  });
  const pool = createPool(postgres.url, 4);
  try {
    await migrate(postgres.url);
    const { workspaceId } = await createWorkspace(pool, {
      name: 'What-if bench',
      permissions: ['admin'],
      timezone: 'America/Chicago',
    });
    await generate(pool, workspaceId, leads);
    const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM status_history');
    say(`# what-if bench: ${leads.toLocaleString()} leads, ${rows[0]!.n.toLocaleString()} history rows`);
    const deps = { pool, channels: { configured: new Set(['email', 'slack'] as const) } };
    const query = {
      workspaceId,
      candidate: {
        rule: {
          property_id: null,
          trigger_status: 'contacted' as const,
          target_status: null,
          conditions: {},
          actions: [{ type: 'create_task' as const, config: { kind: 'call_back' } }],
          is_active: true,
        },
      },
      limit: WHATIF_MAX_LEADS,
    };
    // Warm-up: one page, so the first measured page does not pay for cold caches.
    await runWhatIf(deps, { ...query, limit: 100 });
    const pageMs: number[] = [];
    let peakHeap = 0;
    let examined = 0;
    let changed = 0;
    let cursor: string | undefined;
    const started = performance.now();
    const cpu = process.cpuUsage();
    do {
      const pageStarted = performance.now();
      const report = await runWhatIf(deps, { ...query, ...(cursor ? { cursor } : {}) });
      pageMs.push(performance.now() - pageStarted);
      peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
      examined += report.totals.leads;
      changed += report.totals.leads_changed;
      cursor = report.next_cursor ?? undefined;
    } while (cursor);
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    const sorted = [...pageMs].sort((a, b) => a - b);
    return {
      leads: examined,
      historyRows: rows[0]!.n,
      pages: pageMs.length,
      seconds: Number(seconds.toFixed(2)),
      leadsPerSecond: Math.round(examined / seconds),
      cpuMsPerLead: Number(((used.user + used.system) / 1000 / examined).toFixed(2)),
      pageMs: {
        median: Math.round(sorted[Math.floor(sorted.length / 2)]!),
        max: Math.round(sorted[sorted.length - 1]!),
      },
      peakHeapMb: Math.round(peakHeap / 2 ** 20),
      changed,
    };
  } finally {
    await pool.end();
    await postgres.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function whatIfTable(result: WhatIfResult): string {
  return [
    '| what-if | leads | pages (≤ 1000 leads) | total | leads/s | CPU per lead | page median / max | peak heap | changed |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    `| a rule on contacted | ${result.leads.toLocaleString()} | ${result.pages} | ${result.seconds} s | ${result.leadsPerSecond} | ${result.cpuMsPerLead} ms | ${result.pageMs.median} / ${result.pageMs.max} ms | ${result.peakHeapMb} MB | ${result.changed.toLocaleString()} |`,
  ].join('\n');
}
