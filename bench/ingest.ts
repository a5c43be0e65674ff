// Ingest bench (SPEC section 8), three paths against the same Temporal server in the same run:
//   B0 = bare signal-with-start from an in-process client, for a lead that exists (the ceiling of our path);
//   B1 = ingest's HTTP layer, signature and zod, then the signal, no database (bench/b1.ts);
//   B2 = our webhook endpoint (signature, zod, inbox, lead, signal).
// B1 − B0 is the HTTP layer, B2 − B1 the database. Closed-loop throughput in interleaved rounds (B0 B1 B2, then
// B2 B1 B0, …), ratios per round with their spread; an open-loop capacity step test of B0 and B2 (the highest
// rate with 0 errors and p99 under 1 s); latency at half of B0's capacity, B0 and B2 interleaved.
import type pg from 'pg';
import { takesPushes } from '../activities/partners';
import { journeyContext, loadPolicyBasis } from '../data/policies';
import { JourneyClient } from '../usecases/journeys';
import type { JourneyContext, LeadEvent } from '../shared/journey/types';
import { autocannonRun } from './autocannon';
import { closedLoop, median, openLoop, round, type LatencySummary } from './load';
import { startService, type ServiceProcess } from './processes';
import { say, type BenchSettings } from './report';
import { startStack, type Stack } from './stack';
import { post, setupWorkspace, webformInquiry, type BenchWorkspace, type SignedWebhook } from './workload';
import { freePort } from '../infra/local/ports';

type PathName = 'b0' | 'b1' | 'b2';

export interface IngestResult {
  concurrency: number;
  throughput: {
    durationSeconds: number;
    /** Per round, in the order the paths ran that round. */
    rounds: {
      order: PathName[];
      b0: number;
      b1: number;
      b2: number;
      b2b0: number;
      b1b0: number;
      b2b1: number;
    }[];
    median: { b0: number; b1: number; b2: number };
    ratios: Record<'b2b0' | 'b1b0' | 'b2b1', { median: number; min: number; max: number }>;
    /** B2's cost split per request at the median rates (ms of wall time per request per connection). */
    split: { httpMs: number; databaseMs: number; temporalMs: number };
    non2xx: number;
    errors: number;
    target: string;
    pass: boolean;
  };
  capacity: {
    stepSeconds: number;
    steps: {
      rate: number;
      path: 'b0' | 'b2';
      errors: number;
      failures: Record<string, number>;
      latency: LatencySummary;
      ok: boolean;
    }[];
    b0: number;
    b2: number;
    target: string;
    pass: boolean;
  };
  latency: {
    rate: number;
    durationSeconds: number;
    rounds: {
      order: ('b0' | 'b2')[];
      b0: LatencySummary;
      b2: LatencySummary;
      p99DifferenceMs: number;
      b2Errors: number;
    }[];
    p99DifferenceMs: number;
    target: string;
    pass: boolean;
  };
}

/**
 * Leads inserted ahead of B0 and B1 (the bare signal: the lead row exists already, as it would after intake),
 * with the columns a web form gives B2's.
 */
class LeadPool {
  private ids: string[] = [];
  taken = 0;
  constructor(
    private readonly pool: pg.Pool,
    private readonly workspaceId: string,
  ) {}

  async ensure(count: number): Promise<void> {
    if (this.ids.length >= count) return;
    const { rows } = await this.pool.query<{ id: string }>(
      `INSERT INTO leads (id, workspace_id, property_id, source, sources, first_name, last_name, email,
                          email_normalized, message, custom_data)
       SELECT id, $1, 'maple', 'webform', ARRAY['webform'], 'Bench', 'Prospect ' || n, e, e,
              'Is the two-bedroom still available?', jsonb_build_object('form_id', 'contact-us', 'submission_id', id)
         FROM (SELECT gen_random_uuid() AS id, n, 'prospect.' || replace(gen_random_uuid()::text, '-', '') || '@bench.example' AS e
                 FROM generate_series(1, $2::int) n) g
       RETURNING id`,
      [this.workspaceId, count - this.ids.length + 1000],
    );
    this.ids.push(...rows.map((r) => r.id));
  }

  next(): string {
    const id = this.ids.pop();
    if (!id) throw new Error('the bench lead pool ran dry');
    this.taken += 1;
    return id;
  }
}

/** Waits until every journey started in the workspace has applied its inquiry (the worker caught up). */
export async function drain(
  pool: pg.Pool,
  workspaceId: string,
  expected: () => Promise<number> | number,
  timeoutMs = 15 * 60_000,
): Promise<number> {
  const started = performance.now();
  for (;;) {
    const want = await expected();
    const applied = await appliedCount(pool, workspaceId);
    if (applied >= want) return performance.now() - started;
    if (performance.now() - started > timeoutMs)
      throw new Error(`drain: ${applied} of ${want} journeys applied after ${timeoutMs} ms`);
    await new Promise((resolveLater) => setTimeout(resolveLater, 200));
  }
}

/** Journeys of the workspace that have applied their first inquiry (its history row is written). */
export async function appliedCount(pool: pg.Pool, workspaceId: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM status_history
      WHERE workspace_id = $1 AND entry_type = 'applied' AND old_status IS NULL`,
    [workspaceId],
  );
  return rows[0]!.n;
}

export async function leadCount(pool: pg.Pool, workspaceId: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM leads WHERE workspace_id = $1',
    [workspaceId],
  );
  return rows[0]!.n;
}

/** B0's sender: a bare signal-with-start of an inquiry for a lead that exists, the context given as ingest gives it. */
export interface BareSender {
  send(): Promise<true>;
  /** Makes sure `count` unused leads wait. */
  ensure(count: number): Promise<void>;
  signalled(): number;
  /** The context every fresh lead of the workspace starts from (B1 is handed it too). */
  context: JourneyContext;
  leads: LeadPool;
}

export async function createBareSender(stack: Stack, workspace: BenchWorkspace): Promise<BareSender> {
  const journeys = new JourneyClient({ client: stack.client, taskQueue: stack.taskQueue });
  const leads = new LeadPool(stack.pool, workspace.workspaceId);
  // Every lead here is a fresh one of the same property: one context fits all, as ingest builds it for a lead
  // it just created (its cached policy and the row it wrote).
  const now = new Date();
  const context = journeyContext(
    await loadPolicyBasis(stack.pool, workspace.workspaceId, workspace.propertyId, takesPushes),
    {
      propertyId: workspace.propertyId,
      status: 'new',
      journey: 1,
      seq: 0,
      source: 'webform',
      sources: ['webform'],
      hasEmail: true,
      hasPhone: false,
      createdAt: now,
      statusChangedAt: now,
    },
  );
  return {
    context,
    leads,
    async send() {
      const leadId = leads.next();
      const event: LeadEvent = {
        kind: 'inquiry',
        eventId: `bench/${leadId}/0`,
        occurredAt: new Date().toISOString(),
        source: 'partner:webform',
        channel: 'webform',
        propertyId: workspace.propertyId,
        facts: { hasEmail: true, hasPhone: false },
      };
      await journeys.send(
        {
          workspaceId: workspace.workspaceId,
          leadId,
          propertyId: workspace.propertyId,
          source: 'webform',
          status: 'new',
        },
        event,
        context,
        // As ingest hands it over: the context's partners, rules and zone read for this inquiry.
        { policyReadFor: event.eventId },
      );
      return true;
    },
    ensure: (count) => leads.ensure(count),
    signalled: () => leads.taken,
  };
}

interface Paths {
  b0: (i: number) => Promise<true | string>;
  /** Webhooks for autocannon (B1, B2) and for the open loop (B2 counts a 202 as not done). */
  webhook: Record<'b1' | 'b2', (i: number) => SignedWebhook>;
  b2Open: (i: number) => Promise<true | string>;
  drain(path: PathName): Promise<number>;
  /** B1's webhooks answered 2xx so far (autocannon sets requests up that it never sends). */
  b1Answered: { count: number };
  /** Makes sure B0 and B1 have `count` unused leads each. */
  ensure(count: number): Promise<void>;
  b1: ServiceProcess;
}

async function preparePaths(stack: Stack, tag: string): Promise<Paths> {
  const quiet = { followUpTimers: false } as const;
  const b0Workspace = await setupWorkspace(stack, { name: 'Bench B0', partners: [], ...quiet });
  const b1Workspace = await setupWorkspace(stack, { name: 'Bench B1', partners: ['webform'], ...quiet });
  const b2Workspace = await setupWorkspace(stack, { name: 'Bench B2', partners: ['webform'], ...quiet });
  const bare = await createBareSender(stack, b0Workspace);
  // B1 is handed its workspace's context as B0 is (the same policy: a property, no rules, timers off).
  const b1Leads = (await createBareSender(stack, b1Workspace)).leads;
  const b1Port = await freePort();
  const b1 = await startService(
    'b1',
    {
      ...stack.env,
      B1_PORT: String(b1Port),
      B1_WEBHOOK_SECRET: b1Workspace.integrations.webform!.webhook_secret!,
      B1_CONTEXT: JSON.stringify(bare.context),
      B1_WORKSPACE_ID: b1Workspace.workspaceId,
      B1_PROPERTY_ID: b1Workspace.propertyId,
    },
    { healthUrl: `http://127.0.0.1:${b1Port}/healthz` },
  );
  const b1Url = `http://127.0.0.1:${b1Port}`;
  const b2Webform = b2Workspace.integrations.webform!;
  let sequence = 0;
  const b2Webhook = (i: number) => webformInquiry(b2Webform, `${tag}-${sequence}`, i);
  const b1Answered = { count: 0 };
  return {
    b1,
    b1Answered,
    b0: () => bare.send(),
    webhook: {
      b1: (i) => {
        const webhook = webformInquiry(b1Workspace.integrations.webform!, `${tag}b1`, i);
        const leadId = b1Leads.next();
        return {
          ...webhook,
          url: webhook.url.replace(/^http:\/\/[^/]+/, b1Url),
          headers: () => ({ ...webhook.headers(), 'x-bench-lead': leadId }),
        };
      },
      b2: (i) => b2Webhook(i),
    },
    b2Open: (i) => post(webformInquiry(b2Webform, `${tag}o${sequence}`, i), 30_000, { only200: true }),
    drain: async (path) => {
      sequence += 1;
      if (path === 'b0') return drain(stack.pool, b0Workspace.workspaceId, () => bare.signalled());
      if (path === 'b1') return drain(stack.pool, b1Workspace.workspaceId, () => b1Answered.count);
      return drain(stack.pool, b2Workspace.workspaceId, () => leadCount(stack.pool, b2Workspace.workspaceId));
    },
    ensure: async (count) => {
      await bare.ensure(count);
      await b1Leads.ensure(count);
    },
  };
}

export async function benchIngest(settings: BenchSettings): Promise<IngestResult> {
  const stack = await startStack({ workers: 1 });
  let paths: Paths | undefined;
  try {
    paths = await preparePaths(stack, `b${Date.now().toString(36)}`);
    return await runIngest(paths, settings);
  } finally {
    await paths?.b1.stop();
    await stack.stop();
  }
}

const spread = (values: number[]) => ({
  median: round(median(values), 2),
  min: round(Math.min(...values), 2),
  max: round(Math.max(...values), 2),
});

async function runIngest(paths: Paths, settings: BenchSettings): Promise<IngestResult> {
  const { concurrency, throughputSeconds, latencySeconds, rounds, capacityRates, stepSeconds } =
    settings.ingest;
  // Closed-loop B0 and B1 may use up to (a generous) 2 000 leads a second.
  const capacity = (seconds: number) => seconds * 2000;

  say(
    `\n## Ingest: B0 (bare signalWithStart), B1 (HTTP + signal), B2 (webhook endpoint), same Temporal server\n`,
  );
  const closed = async (path: PathName, seconds: number) => {
    if (path === 'b0') {
      const result = await closedLoop(concurrency, seconds * 1000, paths.b0);
      return { throughput: result.throughput, non2xx: 0, errors: result.errors };
    }
    const result = await autocannonRun({
      webhook: paths.webhook[path],
      connections: concurrency,
      durationSeconds: seconds,
    });
    if (path === 'b1') paths.b1Answered.count += result.ok;
    return { throughput: result.throughput, non2xx: result.non2xx, errors: result.errors };
  };
  say(`warm-up: ${settings.warmupSeconds} s closed loop each, then drain`);
  await paths.ensure(capacity(settings.warmupSeconds));
  for (const path of ['b0', 'b1', 'b2'] as const) {
    await closed(path, settings.warmupSeconds);
    await paths.drain(path);
  }

  // ---- closed loop, interleaved: B0 B1 B2, then B2 B1 B0, … ----
  const roundResults: IngestResult['throughput']['rounds'] = [];
  let non2xx = 0;
  let errors = 0;
  for (let r = 0; r < rounds; r++) {
    await paths.ensure(capacity(throughputSeconds));
    const order: PathName[] = r % 2 === 0 ? ['b0', 'b1', 'b2'] : ['b2', 'b1', 'b0'];
    const rates: Record<PathName, number> = { b0: 0, b1: 0, b2: 0 };
    for (const path of order) {
      const result = await closed(path, throughputSeconds);
      rates[path] = result.throughput;
      non2xx += result.non2xx;
      errors += result.errors;
      await paths.drain(path);
    }
    const row = {
      order,
      ...rates,
      b2b0: round(rates.b2 / rates.b0, 3),
      b1b0: round(rates.b1 / rates.b0, 3),
      b2b1: round(rates.b2 / rates.b1, 3),
    };
    roundResults.push(row);
    say(
      `  round ${r + 1} (${order.join(' ')}): B0 ${rates.b0}, B1 ${rates.b1}, B2 ${rates.b2} req/s; B2/B0 ${row.b2b0}, B1/B0 ${row.b1b0}, B2/B1 ${row.b2b1}`,
    );
  }
  const med = {
    b0: round(median(roundResults.map((r) => r.b0))),
    b1: round(median(roundResults.map((r) => r.b1))),
    b2: round(median(roundResults.map((r) => r.b2))),
  };
  const ratios = {
    b2b0: spread(roundResults.map((r) => r.b2b0)),
    b1b0: spread(roundResults.map((r) => r.b1b0)),
    b2b1: spread(roundResults.map((r) => r.b2b1)),
  };
  // Per request on one connection: 1/rate × connections. B1 − B0 is HTTP, B2 − B1 the database, B0 Temporal.
  const perRequest = (rate: number) => (1000 * concurrency) / rate;
  const split = {
    temporalMs: round(perRequest(med.b0)),
    httpMs: round(perRequest(med.b1) - perRequest(med.b0)),
    databaseMs: round(perRequest(med.b2) - perRequest(med.b1)),
  };
  const throughput = {
    durationSeconds: throughputSeconds,
    rounds: roundResults,
    median: med,
    ratios,
    split,
    non2xx,
    errors,
    target: 'B2 ≥ 0.85 × B0 (median of paired rounds)',
    pass: ratios.b2b0.median >= 0.85 && non2xx === 0,
  };
  say(
    `  median B2/B0 ${ratios.b2b0.median} (rounds ${ratios.b2b0.min}–${ratios.b2b0.max}); split per request: Temporal ${split.temporalMs} ms, HTTP ${split.httpMs} ms, database ${split.databaseMs} ms`,
  );

  // ---- capacity: open loop, rising rates, until each path fails a step ----
  const steps: IngestResult['capacity']['steps'] = [];
  const best = { b0: 0, b2: 0 };
  const failed = { b0: false, b2: false };
  for (const [i, rate] of capacityRates.entries()) {
    if (failed.b0 && failed.b2) break;
    await paths.ensure(rate * stepSeconds + 100);
    const order = (i % 2 === 0 ? ['b0', 'b2'] : ['b2', 'b0']) as ('b0' | 'b2')[];
    for (const path of order) {
      if (failed[path]) continue;
      const result = await openLoop(rate, stepSeconds * 1000, path === 'b0' ? paths.b0 : paths.b2Open);
      await paths.drain(path);
      const ok = result.errors === 0 && result.latency.p99 < 1000;
      steps.push({
        rate,
        path,
        errors: result.errors,
        failures: result.failures,
        latency: result.latency,
        ok,
      });
      say(
        `  capacity ${path} at ${rate}/s: p99 ${result.latency.p99} ms, ${result.errors} errors ${result.errors ? JSON.stringify(result.failures) : ''}${ok ? '' : ' — over'}`,
      );
      if (ok) best[path] = rate;
      else failed[path] = true;
    }
  }
  const capacityResult = {
    stepSeconds,
    steps,
    b0: best.b0,
    b2: best.b2,
    target: 'B2 open-loop capacity (0 errors, p99 < 1 s) ≥ 70 req/s',
    pass: best.b2 >= 70,
  };

  // ---- latency at half of B0's capacity, B0 and B2 interleaved ----
  const half = Math.max(1, Math.floor(best.b0 / 2));
  const latencyRounds: IngestResult['latency']['rounds'] = [];
  for (let r = 0; r < rounds; r++) {
    await paths.ensure(half * latencySeconds + 100);
    const order = (r % 2 === 0 ? ['b0', 'b2'] : ['b2', 'b0']) as ('b0' | 'b2')[];
    const summaries: Partial<Record<'b0' | 'b2', LatencySummary>> = {};
    let b2Errors = 0;
    for (const path of order) {
      const result = await openLoop(half, latencySeconds * 1000, path === 'b0' ? paths.b0 : paths.b2Open);
      summaries[path] = result.latency;
      if (path === 'b2') b2Errors = result.errors;
      await paths.drain(path);
    }
    const row = {
      order,
      b0: summaries.b0!,
      b2: summaries.b2!,
      p99DifferenceMs: round(summaries.b2!.p99 - summaries.b0!.p99),
      b2Errors,
    };
    latencyRounds.push(row);
    say(
      `  latency at ${half}/s (${order.join(' ')}): p99 B0 ${row.b0.p99} ms, B2 ${row.b2.p99} ms (difference ${row.p99DifferenceMs} ms), ${b2Errors} B2 errors`,
    );
  }
  const difference = round(median(latencyRounds.map((r) => r.p99DifferenceMs)));
  const latency = {
    rate: half,
    durationSeconds: latencySeconds,
    rounds: latencyRounds,
    p99DifferenceMs: difference,
    target: 'at half of B0’s capacity, p99(B2) − p99(B0) ≤ 25 ms',
    pass: difference <= 25 && latencyRounds.every((r) => r.b2Errors === 0),
  };
  return { concurrency, throughput, capacity: capacityResult, latency };
}

const mark = (pass: boolean) => (pass ? 'pass' : '**FAIL**');

export function ingestTable(result: IngestResult): string {
  const t = result.throughput;
  const c = result.capacity;
  const l = result.latency;
  return [
    `**Ingest** — closed loop, ${result.concurrency} concurrent, ${t.rounds.length} interleaved rounds × ${t.durationSeconds} s (B1, B2 by autocannon):`,
    '',
    '| round (order) | B0 req/s | B1 req/s | B2 req/s | B2/B0 | B1/B0 | B2/B1 |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...t.rounds.map(
      (r, i) =>
        `| ${i + 1} (${r.order.join(' ')}) | ${r.b0} | ${r.b1} | ${r.b2} | ${r.b2b0} | ${r.b1b0} | ${r.b2b1} |`,
    ),
    `| median (min–max) | ${t.median.b0} | ${t.median.b1} | ${t.median.b2} | **${t.ratios.b2b0.median}** (${t.ratios.b2b0.min}–${t.ratios.b2b0.max}) | ${t.ratios.b1b0.median} (${t.ratios.b1b0.min}–${t.ratios.b1b0.max}) | ${t.ratios.b2b1.median} (${t.ratios.b2b1.min}–${t.ratios.b2b1.max}) |`,
    '',
    `B2/B0 target ≥ 0.85: ${mark(t.pass)}${t.non2xx ? ` (${t.non2xx} non-2xx)` : ''}. Per request on one connection at the median rates: Temporal (B0) ${t.split.temporalMs} ms, HTTP layer (B1 − B0) ${t.split.httpMs} ms, database (B2 − B1) ${t.split.databaseMs} ms.`,
    '',
    `Open-loop capacity (steps of ${c.stepSeconds} s, evenly spaced requests, latency from each scheduled send; a step passes with 0 errors and p99 < 1 s, a 202 counting as an error for B2):`,
    '',
    '| rate | B0 p50 / p99 ms | B2 p50 / p99 ms |',
    '| --- | --- | --- |',
    ...[...new Set(c.steps.map((s) => s.rate))].map((rate) => {
      const cell = (path: 'b0' | 'b2') => {
        const step = c.steps.find((s) => s.rate === rate && s.path === path);
        if (!step) return '—';
        return `${step.latency.p50} / ${step.latency.p99}${step.errors ? `, ${step.errors} errors` : ''}${step.ok ? '' : ' ✗'}`;
      };
      return `| ${rate}/s | ${cell('b0')} | ${cell('b2')} |`;
    }),
    `| **capacity** | **${c.b0} req/s** | **${c.b2} req/s** (target ≥ 70: ${mark(c.pass)}) |`,
    '',
    `Latency at half of B0's capacity (${l.rate} req/s × ${l.durationSeconds} s, rounds interleaved):`,
    '',
    '| round (order) | B0 p50 / p95 / p99 ms | B2 p50 / p95 / p99 ms | p99(B2) − p99(B0) | B2 errors |',
    '| --- | --- | --- | --- | --- |',
    ...l.rounds.map(
      (r, i) =>
        `| ${i + 1} (${r.order.join(' ')}) | ${r.b0.p50} / ${r.b0.p95} / ${r.b0.p99} | ${r.b2.p50} / ${r.b2.p95} / ${r.b2.p99} | ${r.p99DifferenceMs} | ${r.b2Errors} |`,
    ),
    `| median | | | **${l.p99DifferenceMs} ms** (target ≤ 25: ${mark(l.pass)}) | |`,
  ].join('\n');
}
