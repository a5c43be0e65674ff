// `npm run chaos`: kill -9 the worker, ingest, the api, the Temporal dev server and Postgres mid-load, take a
// partner down for minutes, send every webhook 10 times shuffled and 1 000 at once; then count. Exits non-zero
// when any count disagrees.
//   npm run chaos -- [scenario …] [--quick] [--json <file>]
// Scenarios (scripts/chaos/scenarios.ts): duplicates, concurrent, worker-kill, ingest-kill, api-kill,
// temporal-restart, postgres-stop, partner-down; none or `all` runs every one.
import { writeFileSync } from 'node:fs';
import { startStack, stopStacksOnSignal } from '../../bench/stack';
import { countsTable } from './reconcile';
import { runScenario, SCENARIOS, type ScenarioResult } from './scenarios';

const say = (line = '') => process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  stopStacksOnSignal();
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const jsonAt = args.indexOf('--json');
  const jsonFile = jsonAt >= 0 ? args[jsonAt + 1] : undefined;
  const rest = args.filter((_, i) => jsonAt < 0 || (i !== jsonAt && i !== jsonAt + 1));
  const named = rest.filter((a) => !a.startsWith('--'));
  const unknown = [
    ...named.filter((name) => name !== 'all' && !SCENARIOS.some((s) => s.name === name)),
    ...rest.filter((a) => a.startsWith('--') && a !== '--quick'),
    ...(jsonAt >= 0 && !jsonFile ? ['--json without a file'] : []),
  ];
  if (unknown.length) {
    process.stderr.write(
      `leadrelay chaos: unknown ${unknown.join(', ')}; scenarios: ${SCENARIOS.map((s) => s.name).join(', ')}, all; flags: --quick, --json <file>\n`,
    );
    process.exit(2);
  }
  const wanted =
    named.length === 0 || named.includes('all') ? SCENARIOS : SCENARIOS.filter((s) => named.includes(s.name));
  say(`# leadrelay chaos${quick ? ' (--quick sizes)' : ''}: ${wanted.map((s) => s.name).join(', ')}`);
  say(
    'starting a throwaway stack: Temporal dev server (SQLite), Postgres, mailbox, sandboxes, worker, ingest, api',
  );
  const stack = await startStack({
    workers: 1,
    // LEADRELAY_CHAOS_LOG=1 prints the services' warnings and errors as they happen.
    onLine: process.env.LEADRELAY_CHAOS_LOG
      ? (label, line) => {
          if (/"level":(40|50|60)|WARN|ERROR/.test(line)) say(`  [${label}] ${line.slice(0, 600)}`);
        }
      : undefined,
  });
  say(`stack under ${stack.dir}`);
  const results: ScenarioResult[] = [];
  try {
    for (const scenario of wanted) {
      say(`\n## ${scenario.name}: ${scenario.describe}\n`);
      const result = await runScenario(stack, scenario, quick ? scenario.quick : scenario.full, { log: say });
      results.push(result);
      say('');
      say(countsTable(scenario.name, result.counts));
      say('');
      say(
        result.mismatches.length
          ? `MISMATCH in ${scenario.name}:\n${result.mismatches.map((m) => `  - ${m}`).join('\n')}`
          : `${scenario.name}: every acknowledged event applied exactly once, every notification sent exactly once (${result.seconds} s)`,
      );
    }
  } finally {
    await stack.stop();
  }
  say('\n## Summary\n');
  say('| scenario | acknowledged | applied | SMS | emails | partner writes | result |');
  say('| --- | --- | --- | --- | --- | --- | --- |');
  for (const r of results) {
    const c = r.counts;
    say(
      `| ${r.name} | ${c.acknowledged}/${c.messages} | ${c.applied} | ${c.sms.seen} | ${c.email.seen} | ${c.partner ? c.partner.writes : '—'} | ${r.mismatches.length ? `**${r.mismatches.length} mismatches**` : 'exactly once'} |`,
    );
  }
  if (jsonFile) writeFileSync(jsonFile, `${JSON.stringify(results, null, 2)}\n`);
  if (results.some((r) => r.mismatches.length)) process.exitCode = 1;
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    process.stderr.write(
      `leadrelay chaos: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
