// The import bench: a CSV of existing leads (50 000 rows at full size; BENCH_IMPORT_ROWS and BENCH_IMPORT_WEBHOOK_RATE
// set other sizes: a live rate the machine cannot absorb even without an import measures the machine) imported
// through the throttled workflow, its rows per second, and live webhooks while it runs beside the same without it
// (open loop, same rate, same stack): their ack p99, and how late their journeys apply them (ack → the journey's
// recorded inquiry in Postgres), with the machine's load averages at each step: the machine is shared, so a number
// needs its load. IMPORT_JOURNEY_WINDOW and IMPORT_MAX_QUEUE_DELAY_MS, when set, tune the stack's closed loop.
import os from 'node:os';
import { execFileSync } from 'node:child_process';
import { importWorkflowId } from '../shared/ids';
import { importThrottleQuery } from '../shared/journey/messages';
import { importProgress, type ImportProgress } from '../usecases/imports';
import type pg from 'pg';
import { openLoop, round, sleep, summarize, type LatencySummary } from './load';
import { say, type BenchSettings } from './report';
import { startStack, type Stack } from './stack';
import { post, setupWorkspace, webformInquiry } from './workload';

export interface ImportBenchResult {
  rows: number;
  /** The throttle the import ran under (IMPORT_ROWS_PER_SECOND). */
  rowsPerSecondLimit: number;
  /** Rows settled per second, from the import's start to its last row. */
  rowsPerSecond: number;
  seconds: number;
  outcomes: ImportProgress['rows'];
  webhooks: {
    rate: number;
    seconds: number;
    without: LatencySummary & { errors: number };
    during: LatencySummary & { errors: number };
    p99DifferenceMs: number;
  };
  /** From each live webhook's ack to its journey's recorded inquiry (ms): what staff alerts wait for. */
  journeys: { without: LatencySummary; during: LatencySummary };
  /** `uptime`'s load averages (1, 5, 15 min) before, during and after. */
  load: { before: string; during: string; after: string };
}

const STAGES = ['new', 'contacted', 'qualified', 'tour_scheduled', 'toured', 'application', 'leased', 'lost'];

/** A realistic onboarding file: every stage, a tour ahead for tours, dates over the last 90 days. */
function importFile(rows: number, tag: string): Buffer {
  const now = Date.now();
  const iso = (daysAgo: number) => new Date(now - daysAgo * 86_400_000).toISOString();
  const lines = ['email,first_name,source,status,created_at,status_changed_at,tour_at'];
  for (let i = 0; i < rows; i++) {
    const status = STAGES[i % STAGES.length]!;
    const created = 5 + (i % 85);
    const tour = status === 'tour_scheduled' ? new Date(now + (1 + (i % 10)) * 86_400_000).toISOString() : '';
    lines.push(
      `import.${tag}.${i}@bench.example,Row${i},${i % 5 === 0 ? 'apfm' : 'website'},${status},${iso(created)},${iso(created - 3)},${tour}`,
    );
  }
  return Buffer.from(lines.join('\n'));
}

function uptime(): string {
  try {
    return execFileSync('uptime')
      .toString()
      .trim()
      .replace(/^.*load average:\s*/, '');
  } catch {
    return os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(', ');
  }
}

/** A size the bench's environment may set instead of the settings' (a whole number, at least 1). */
function sizeFromEnv(name: string, otherwise: number): number {
  const value = Number(process.env[name] ?? otherwise);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a whole number, at least 1`);
  return value;
}

/** The closed loop's settings, passed to the stack when the bench's environment sets them. */
const TUNING = ['IMPORT_JOURNEY_WINDOW', 'IMPORT_MAX_QUEUE_DELAY_MS'] as const;

export async function benchImports(settings: BenchSettings): Promise<ImportBenchResult> {
  const { rowsPerSecond, webhookSeconds } = settings.imports;
  const rows = sizeFromEnv('BENCH_IMPORT_ROWS', settings.imports.rows);
  const webhookRate = sizeFromEnv('BENCH_IMPORT_WEBHOOK_RATE', settings.imports.webhookRate);
  const tuning = Object.fromEntries(
    TUNING.filter((name) => process.env[name] !== undefined).map((name) => [name, process.env[name]!]),
  );
  // The api takes the file and starts the import under its throttle, as in production.
  const stack = await startStack({
    workers: 1,
    env: { IMPORT_ROWS_PER_SECOND: String(rowsPerSecond), ...tuning },
  });
  try {
    return await runImport(stack, { rows, rowsPerSecond, webhookRate, webhookSeconds }, settings);
  } finally {
    await stack.stop();
  }
}

async function runImport(
  stack: Stack,
  sizes: BenchSettings['imports'],
  settings: BenchSettings,
): Promise<ImportBenchResult> {
  const tag = `imp${Date.now().toString(36)}`;
  const workspace = await setupWorkspace(stack, { name: 'import bench', partners: ['webform'] });
  const webform = workspace.integrations.webform!;
  // Each acknowledged live webhook's lead (by its email) and when its ack came.
  const acks = new Map<string, Map<string, number>>();
  const live = (phase: string) => {
    const phaseAcks = new Map<string, number>();
    acks.set(phase, phaseAcks);
    return async (i: number) => {
      const outcome = await post(webformInquiry(webform, `${tag}${phase}`, i));
      if (outcome === true) phaseAcks.set(`prospect.${tag}${phase}.${i}@bench.example`, Date.now());
      return outcome;
    };
  };
  say(
    `\n## Import: ${sizes.rows} rows at most ${sizes.rowsPerSecond}/s; live webhooks at ${sizes.webhookRate}/s\n`,
  );

  const before = uptime();
  say(`load before: ${before}`);
  await openLoop(sizes.webhookRate, settings.warmupSeconds * 1000, live('warm'));
  const without = await openLoop(sizes.webhookRate, sizes.webhookSeconds * 1000, live('base'));
  const journeysWithout = await journeyLateness(stack.pool, workspace.workspaceId, acks.get('base')!);
  say(
    `  without an import: ack p99 ${without.latency.p99} ms (${without.errors} errors); journeys applied p50 ${journeysWithout.p50} / p99 ${journeysWithout.p99} ms after the ack`,
  );

  const file = importFile(sizes.rows, tag);
  const started = performance.now();
  const query = new URLSearchParams({ property_id: workspace.propertyId, file_name: 'bench.csv' });
  const upload = await fetch(`${stack.apiUrl}/api/v1/imports?${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${workspace.apiKey}`, 'content-type': 'text/csv' },
    body: file,
  });
  const answer = (await upload.json()) as { id: string };
  if (upload.status !== 202)
    throw new Error(`the upload answered ${upload.status}: ${JSON.stringify(answer)}`);
  const { id } = answer;
  const stored = (performance.now() - started) / 1000;
  say(
    `  file of ${(file.length / 1e6).toFixed(1)} MB stored in ${stored.toFixed(1)} s; import ${id} running`,
  );
  const progress = () => importProgress(stack.pool, workspace.workspaceId, id);
  // Measured once the import is in its stride, and only while it runs.
  while ((await progress()).rows.read < Math.min(sizes.rows / 10, sizes.rowsPerSecond * 5)) await sleep(500);
  const during = await openLoop(sizes.webhookRate, sizes.webhookSeconds * 1000, live('during'));
  const duringLoad = uptime();
  const midway = await progress();
  const journeysDuring = await journeyLateness(stack.pool, workspace.workspaceId, acks.get('during')!);
  say(
    `  during the import (${midway.rows.read} rows in): ack p99 ${during.latency.p99} ms (${during.errors} errors); journeys applied p50 ${journeysDuring.p50} / p99 ${journeysDuring.p99} ms after the ack`,
  );
  say(`  load during: ${duringLoad}`);
  // What the import's closed loop saw then (its pace follows its probes of live lateness).
  const throttle = await stack.client.workflow
    .getHandle(importWorkflowId(id))
    .query(importThrottleQuery)
    .catch(() => undefined);
  if (throttle)
    say(
      `  the import's throttle then: pace ${throttle.pace ?? '–'} rows/s, ${throttle.waits} holds this run, last probe ${throttle.last?.lateMs ?? '–'} ms${throttle.last?.probeRunning ? ' (still running)' : ''}, queue's oldest task ${throttle.last?.queueDelayMs ?? '–'} ms`,
    );
  if (midway.status === 'completed')
    say('  (the import finished before the measurement did: raise imports.rows)');

  let last = midway;
  while (last.status !== 'completed' && last.status !== 'failed') {
    await sleep(2000);
    last = await progress();
  }
  const seconds = (Date.parse(last.finished_at!) - Date.parse(last.started_at!)) / 1000;
  const rate = round(last.rows.read / seconds);
  const after = uptime();
  say(`  ${last.rows.read} rows in ${seconds.toFixed(0)} s: ${rate} rows/s (limit ${sizes.rowsPerSecond})`);
  say(`  outcomes: ${JSON.stringify(last.rows)}; load after: ${after}`);
  return {
    rows: sizes.rows,
    rowsPerSecondLimit: sizes.rowsPerSecond,
    rowsPerSecond: rate,
    seconds: round(seconds),
    outcomes: last.rows,
    webhooks: {
      rate: sizes.webhookRate,
      seconds: sizes.webhookSeconds,
      without: { ...without.latency, errors: without.errors },
      during: { ...during.latency, errors: during.errors },
      p99DifferenceMs: round(during.latency.p99 - without.latency.p99),
    },
    journeys: { without: journeysWithout, during: journeysDuring },
    load: { before, during: duringLoad, after },
  };
}

export function importsTable(result: ImportBenchResult): string {
  const w = result.webhooks;
  const j = result.journeys;
  return [
    `**Import** — ${result.rows} CSV rows, throttled at ${result.rowsPerSecondLimit} rows/s; live webform webhooks at ${w.rate}/s for ${w.seconds} s, open loop (ms):`,
    '',
    '| measure | value |',
    '| --- | --- |',
    `| rows per second (start to last row) | ${result.rowsPerSecond} over ${result.seconds} s |`,
    `| outcomes | ${result.outcomes.created} created, ${result.outcomes.matched} matched, ${result.outcomes.skipped} skipped, ${result.outcomes.failed} failed |`,
    `| webhooks without an import: p50 / p95 / p99 | ${w.without.p50} / ${w.without.p95} / ${w.without.p99} (${w.without.errors} errors) |`,
    `| webhooks during the import: p50 / p95 / p99 | ${w.during.p50} / ${w.during.p95} / ${w.during.p99} (${w.during.errors} errors) |`,
    `| p99 during − p99 without | ${w.p99DifferenceMs} |`,
    `| live journeys applied, ack → recorded inquiry, without: p50 / p95 / p99 | ${j.without.p50} / ${j.without.p95} / ${j.without.p99} |`,
    `| live journeys applied, ack → recorded inquiry, during: p50 / p95 / p99 | ${j.during.p50} / ${j.during.p95} / ${j.during.p99} |`,
    `| load averages (uptime) before / during / after | ${result.load.before} / ${result.load.during} / ${result.load.after} |`,
  ].join('\n');
}

/** Longest a live journey may take to apply its inquiry before the bench gives up on it. */
const JOURNEY_WAIT_MS = 20 * 60_000;

/**
 * How late live journeys applied their webhooks: from each ack to the journey's recorded inquiry (its first history
 * row, stamped with the workflow's clock when it ran). Waits until every acknowledged lead has one.
 */
async function journeyLateness(
  pool: pg.Pool,
  workspaceId: string,
  acked: Map<string, number>,
): Promise<LatencySummary> {
  const emails = [...acked.keys()];
  const deadline = Date.now() + JOURNEY_WAIT_MS;
  for (;;) {
    const { rows } = await pool.query<{ email: string; at: Date }>(
      `SELECT l.email, min(h.created_at) AS at FROM leads l
         JOIN status_history h ON h.lead_id = l.id AND h.old_status IS NULL
        WHERE l.workspace_id = $1 AND l.email = ANY($2) GROUP BY l.email`,
      [workspaceId, emails],
    );
    if (rows.length === emails.length || Date.now() > deadline) {
      if (rows.length < emails.length)
        say(`  ${emails.length - rows.length} live journeys had not applied their inquiry after 20 min`);
      return summarize(rows.map((r) => Math.max(0, r.at.getTime() - acked.get(r.email)!)));
    }
    await sleep(1000);
  }
}
