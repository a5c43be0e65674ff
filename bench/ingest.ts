// Ingest bench (SPEC section 8): B0 = bare signal-with-start from an in-process client, B2 = our webhook endpoint
// (signature, zod, inbox, lead resolution, signal), against the same Temporal server in the same run: maximum
// throughput closed-loop (autocannon for B2) and latency open-loop at fixed rates, each after a warm-up, median of 3.
import type pg from 'pg';
import { loadJourneyContext } from '../activities/db/journey';
import { JourneyClient } from '../usecases/journeys';
import type { JourneyContext, LeadEvent } from '../shared/journey/types';
import { autocannonRun } from './autocannon';
import { closedLoop, median, medianSummary, openLoop, round, type LatencySummary } from './load';
import { say, type BenchSettings } from './report';
import { startStack, type Stack } from './stack';
import { post, setupWorkspace, webformInquiry, type BenchWorkspace } from './workload';

export interface IngestResult {
  concurrency: number;
  throughput: {
    durationSeconds: number;
    b0: { rounds: number[]; median: number };
    b2: { rounds: number[]; median: number; non2xx: number; errors: number };
    ratio: number;
    target: string;
    pass: boolean;
  };
  latency: {
    rate: number;
    durationSeconds: number;
    b0: LatencySummary;
    b2: LatencySummary;
    b2Errors: number;
    p99DifferenceMs: number;
    target: string;
    pass: boolean;
  }[];
}

/** Leads inserted ahead of B0 (B0 is the bare signal: the lead row exists already, as it would after intake). */
class LeadPool {
  private ids: string[] = [];
  signalled = 0;
  constructor(
    private readonly pool: pg.Pool,
    private readonly workspaceId: string,
  ) {}

  async ensure(count: number): Promise<void> {
    if (this.ids.length >= count) return;
    const { rows } = await this.pool.query<{ id: string }>(
      `INSERT INTO leads (id, workspace_id, property_id, source, sources)
       SELECT gen_random_uuid(), $1, 'maple', 'webform', ARRAY['webform'] FROM generate_series(1, $2::int)
       RETURNING id`,
      [this.workspaceId, count - this.ids.length + 1000],
    );
    this.ids.push(...rows.map((r) => r.id));
  }

  next(): string {
    const id = this.ids.pop();
    if (!id) throw new Error('the B0 lead pool ran dry');
    this.signalled += 1;
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
    const { rows } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM status_history
        WHERE workspace_id = $1 AND entry_type = 'applied' AND old_status IS NULL`,
      [workspaceId],
    );
    if (rows[0]!.n >= want) return performance.now() - started;
    if (performance.now() - started > timeoutMs)
      throw new Error(`drain: ${rows[0]!.n} of ${want} journeys applied after ${timeoutMs} ms`);
    await new Promise((resolveLater) => setTimeout(resolveLater, 200));
  }
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
}

export async function createBareSender(stack: Stack, workspace: BenchWorkspace): Promise<BareSender> {
  const journeys = new JourneyClient({ client: stack.client, taskQueue: stack.taskQueue });
  const leads = new LeadPool(stack.pool, workspace.workspaceId);
  await leads.ensure(1);
  // Every lead here is a fresh one of the same property: one context fits all.
  const probe = await stack.pool.query<{ id: string }>(
    'SELECT id FROM leads WHERE workspace_id = $1 LIMIT 1',
    [workspace.workspaceId],
  );
  const context: JourneyContext = await loadJourneyContext(stack.pool, {
    workspaceId: workspace.workspaceId,
    leadId: probe.rows[0]!.id,
  });
  return {
    async send() {
      const leadId = leads.next();
      const event: LeadEvent = {
        kind: 'inquiry',
        eventId: `bench/${leadId}/0`,
        occurredAt: new Date().toISOString(),
        source: 'partner:webform',
        channel: 'webform',
        propertyId: workspace.propertyId,
        facts: { hasEmail: false, hasPhone: false },
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
      );
      return true;
    },
    ensure: (count) => leads.ensure(count),
    signalled: () => leads.signalled,
  };
}

interface Paths {
  b0: (i: number) => Promise<true | string>;
  b2: (i: number) => Promise<true | string>;
  drainB0(): Promise<number>;
  drainB2(): Promise<number>;
  /** Makes sure B0 has `count` unused leads. */
  ensure(count: number): Promise<void>;
  b2Workspace: BenchWorkspace;
}

async function preparePaths(stack: Stack, tag: string): Promise<Paths> {
  const b0Workspace = await setupWorkspace(stack, { name: 'Bench B0', partners: [] });
  const b2Workspace = await setupWorkspace(stack, { name: 'Bench B2', partners: ['webform'] });
  const bare = await createBareSender(stack, b0Workspace);
  const webform = b2Workspace.integrations.webform!;
  let b2Sequence = 0;
  return {
    b2Workspace,
    b0: () => bare.send(),
    b2: () => post(webformInquiry(webform, tag, b2Sequence++)),
    drainB0: () => drain(stack.pool, b0Workspace.workspaceId, () => bare.signalled()),
    drainB2: () =>
      drain(stack.pool, b2Workspace.workspaceId, () => leadCount(stack.pool, b2Workspace.workspaceId)),
    ensure: (count) => bare.ensure(count),
  };
}

export async function benchIngest(settings: BenchSettings): Promise<IngestResult> {
  const stack = await startStack({ workers: 1 });
  try {
    return await runIngest(stack, settings);
  } finally {
    await stack.stop();
  }
}

async function runIngest(stack: Stack, settings: BenchSettings): Promise<IngestResult> {
  const tag = `b2${Date.now().toString(36)}`;
  const paths = await preparePaths(stack, tag);
  const { concurrency, throughputSeconds, latencySeconds, rates, rounds } = settings.ingest;
  // Closed-loop B0 may use up to (a generous) 2 000 leads a second.
  const capacity = (seconds: number) => seconds * 2000;

  say(`\n## Ingest: B0 (bare signalWithStart) vs B2 (webhook endpoint), same Temporal server\n`);
  say(`warm-up: ${settings.warmupSeconds} s closed loop each, then drain`);
  await paths.ensure(capacity(settings.warmupSeconds));
  await closedLoop(concurrency, settings.warmupSeconds * 1000, paths.b0);
  await paths.drainB0();
  await autocannonRun({
    webhook: (i) => webformInquiry(paths.b2Workspace.integrations.webform!, `${tag}w`, i),
    connections: concurrency,
    durationSeconds: settings.warmupSeconds,
  });
  await paths.drainB2();

  const b0Rounds: number[] = [];
  const b2Rounds: number[] = [];
  let non2xx = 0;
  let errors = 0;
  for (let round_ = 0; round_ < rounds; round_++) {
    await paths.ensure(capacity(throughputSeconds));
    const b0 = await closedLoop(concurrency, throughputSeconds * 1000, paths.b0);
    await paths.drainB0();
    const b2 = await autocannonRun({
      webhook: (i) => webformInquiry(paths.b2Workspace.integrations.webform!, `${tag}t${round_}`, i),
      connections: concurrency,
      durationSeconds: throughputSeconds,
    });
    await paths.drainB2();
    b0Rounds.push(b0.throughput);
    b2Rounds.push(b2.throughput);
    non2xx += b2.non2xx;
    errors += b2.errors + b0.errors;
    say(
      `  round ${round_ + 1}: B0 ${b0.throughput} req/s (${b0.errors} errors), B2 ${b2.throughput} req/s (${b2.non2xx} non-2xx, ${b2.errors} errors)`,
    );
  }
  const b0Median = round(median(b0Rounds));
  const b2Median = round(median(b2Rounds));
  const ratio = round(b2Median / b0Median, 2);
  const throughput = {
    durationSeconds: throughputSeconds,
    b0: { rounds: b0Rounds, median: b0Median },
    b2: { rounds: b2Rounds, median: b2Median, non2xx, errors },
    ratio,
    target: 'B2 ≥ 0.8 × B0',
    pass: ratio >= 0.8 && non2xx === 0,
  };
  say(`  throughput: B0 ${b0Median} req/s, B2 ${b2Median} req/s, ratio ${ratio}`);

  const latency: IngestResult['latency'] = [];
  for (const rate of rates) {
    const b0Summaries: LatencySummary[] = [];
    const b2Summaries: LatencySummary[] = [];
    let b2Errors = 0;
    for (let round_ = 0; round_ < rounds; round_++) {
      await paths.ensure(rate * latencySeconds + 100);
      // Alternate which goes first, so neither always meets a warmer (or more loaded) server.
      const order = round_ % 2 === 0 ? (['b0', 'b2'] as const) : (['b2', 'b0'] as const);
      for (const which of order) {
        const result = await openLoop(rate, latencySeconds * 1000, paths[which]);
        if (which === 'b0') {
          b0Summaries.push(result.latency);
          await paths.drainB0();
        } else {
          b2Summaries.push(result.latency);
          b2Errors += result.errors;
          await paths.drainB2();
        }
        if (result.maxSendLagMs > 20)
          say(`  (${which} at ${rate}/s: the driver sent up to ${result.maxSendLagMs} ms late)`);
      }
    }
    const b0 = medianSummary(b0Summaries);
    const b2 = medianSummary(b2Summaries);
    const p99DifferenceMs = round(b2.p99 - b0.p99);
    const row = {
      rate,
      durationSeconds: latencySeconds,
      b0,
      b2,
      b2Errors,
      p99DifferenceMs,
      target: rate === 100 ? 'p99(B2) − p99(B0) ≤ 15 ms and p99(B2) ≤ 75 ms' : 'reported',
      pass: rate !== 100 || (p99DifferenceMs <= 15 && b2.p99 <= 75 && b2Errors === 0),
    };
    latency.push(row);
    say(
      `  ${rate} req/s: p99 B0 ${b0.p99} ms, B2 ${b2.p99} ms (difference ${p99DifferenceMs} ms), ${b2Errors} B2 errors`,
    );
  }
  return { concurrency, throughput, latency };
}

const mark = (pass: boolean) => (pass ? 'pass' : '**FAIL**');

export function ingestTable(result: IngestResult): string {
  const t = result.throughput;
  const lines = [
    `**Ingest** — closed loop, ${result.concurrency} concurrent, median of ${t.b0.rounds.length} × ${t.durationSeconds} s (B2 by autocannon):`,
    '',
    '| path | req/s (median) | rounds |',
    '| --- | --- | --- |',
    `| B0 bare signalWithStart | ${t.b0.median} | ${t.b0.rounds.join(', ')} |`,
    `| B2 webhook endpoint | ${t.b2.median} | ${t.b2.rounds.join(', ')} |`,
    `| B2 / B0 (target ≥ 0.8) | ${t.ratio} | ${mark(t.pass)}${t.b2.non2xx ? `, ${t.b2.non2xx} non-2xx` : ''} |`,
    '',
    'Open loop, evenly spaced requests, latency from each scheduled send time (ms, median of rounds):',
    '',
    '| rate | B0 p50 / p95 / p99 | B2 p50 / p95 / p99 | p99(B2) − p99(B0) | B2 errors | target |',
    '| --- | --- | --- | --- | --- | --- |',
    ...result.latency.map(
      (r) =>
        `| ${r.rate}/s × ${r.durationSeconds} s | ${r.b0.p50} / ${r.b0.p95} / ${r.b0.p99} | ${r.b2.p50} / ${r.b2.p95} / ${r.b2.p99} | ${r.p99DifferenceMs} | ${r.b2Errors} | ${r.rate === 100 ? `≤ 15 and p99 ≤ 75: ${mark(r.pass)}` : '—'} |`,
    ),
  ];
  return lines.join('\n');
}
