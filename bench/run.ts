// `npm run bench`: the measurements of SPEC section 8 that are not timed tests.
//   npm run bench -- [ingest|api|burst|memory|partner|whatif|imports|all …] [--quick] [--write-docs]
// No part names (or `all`) runs every part. --quick runs tiny sizes to check the parts work (numbers mean
// nothing); --write-docs puts the results into docs/benchmarks.md. JSON lands in .data/bench/.
import { benchApi } from './api';
import { benchBurst, burstTable, type BurstResult } from './burst';
import { benchImports, importsTable, type ImportBenchResult } from './imports';
import { benchIngest, ingestTable, type IngestResult } from './ingest';
import { benchMemory, memoryTable, type MemoryResult } from './memory';
import { benchPartner, partnerTable, type PartnerResult } from './partner';
import { benchProfile, profileTable, type ProfileResult } from './profile';
import { stopStacksOnSignal } from './stack';
import { benchWhatIf, whatIfTable, type WhatIfResult } from './whatif';
import {
  FULL,
  QUICK,
  machine,
  say,
  writeDocs,
  writeResults,
  type BenchResults,
  type BenchSettings,
} from './report';

interface Part {
  run(settings: BenchSettings): Promise<unknown>;
  /** A markdown table of the result; parts without one print their own report. */
  table?(result: unknown): string;
  /** Whether the result met its SPEC target. */
  pass?(result: unknown): boolean;
}

const PARTS: Record<string, Part> = {
  ingest: {
    run: benchIngest,
    table: (r) => ingestTable(r as IngestResult),
    pass: (r) => {
      const result = r as IngestResult;
      return result.throughput.pass && result.capacity.pass && result.latency.pass;
    },
  },
  burst: {
    run: benchBurst,
    table: (r) => burstTable(r as BurstResult),
    pass: (r) => (r as BurstResult).pass,
  },
  memory: {
    run: benchMemory,
    table: (r) => memoryTable(r as MemoryResult),
    pass: (r) => (r as MemoryResult).pass,
  },
  partner: {
    run: benchPartner,
    table: (r) => partnerTable(r as PartnerResult),
    pass: (r) => (r as PartnerResult).pass !== false,
  },
  // Bounded, not targeted: SPEC sets no figure; the table shows the pace and that memory stays flat.
  whatif: {
    run: benchWhatIf,
    table: (r) => whatIfTable(r as WhatIfResult),
  },
  // Reported beside each other, no SPEC target: rows per second, and live webhooks' p99 with and without it.
  imports: {
    run: benchImports,
    table: (r) => importsTable(r as ImportBenchResult),
    pass: (r) => (r as ImportBenchResult).outcomes.failed === 0,
  },
  profile: {
    run: benchProfile,
    table: (r) => profileTable(r as ProfileResult),
  },
  // The API read bench prints its own tables (and exits non-zero when conversions were lost or duplicated).
  api: {
    run: async () => {
      await benchApi();
      return { printed: true };
    },
  },
};

async function main(): Promise<void> {
  stopStacksOnSignal();
  const args = process.argv.slice(2);
  const flags = new Set(args.filter((a) => a.startsWith('--')));
  const unknownFlags = [...flags].filter((f) => !['--quick', '--write-docs'].includes(f));
  const named = args.filter((a) => !a.startsWith('--'));
  const unknown = named.filter((name) => name !== 'all' && !PARTS[name]);
  if (unknown.length || unknownFlags.length) {
    process.stderr.write(
      `leadrelay bench: unknown ${[...unknown, ...unknownFlags].join(', ')}; parts: ${Object.keys(PARTS).join(', ')}, all; flags: --quick, --write-docs\n`,
    );
    process.exit(2);
  }
  const wanted = named.length === 0 || named.includes('all') ? Object.keys(PARTS) : named;
  const settings = flags.has('--quick') ? QUICK : FULL;
  const results: BenchResults = {
    startedAt: new Date().toISOString(),
    quick: settings.quick,
    machine: machine(),
    settings,
    parts: {},
    command: process.argv.slice(2).join(' '),
  };
  const m = results.machine;
  say(`# leadrelay bench${settings.quick ? ' (--quick: smoke sizes, the numbers mean nothing)' : ''}`);
  say(`machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB; ${m.os}; Node ${m.node}; ${m.temporal}`);
  const tables: string[] = [];
  const failed: string[] = [];
  for (const name of wanted) {
    const part = PARTS[name]!;
    let result;
    try {
      result = await part.run(settings);
    } catch (error) {
      // A part that cannot finish (a drain that never completes under overload) is a result too: it is
      // recorded and reported, and the other parts still run.
      const message = error instanceof Error ? error.message : String(error);
      results.parts[name] = { error: message };
      tables.push(`**${name}: did not finish** — ${message}`);
      say(`\n${name}: did not finish: ${message}`);
      failed.push(name);
      continue;
    }
    results.parts[name] = result;
    if (part.table) {
      const table = part.table(result);
      tables.push(table);
      say(`\n${table}`);
    }
    if (part.pass && !part.pass(result)) failed.push(name);
  }
  results.finishedAt = new Date().toISOString();
  const file = writeResults(results);
  say(`\nresults: ${file}`);
  if (flags.has('--write-docs')) {
    await writeDocs(results, tables);
    say('docs/benchmarks.md updated');
  }
  if (failed.length) {
    say(`targets missed: ${failed.join(', ')}`);
    process.exitCode = 1;
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    process.stderr.write(
      `leadrelay bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
