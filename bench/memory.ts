// Worker memory with 10 000 open lead journeys (SPEC section 8: ≤ 1.5 GB): journeys opened by bare
// signal-with-start, each left waiting on its follow-up timers, the worker's resident memory sampled meanwhile.
import { createBareSender, drain } from './ingest';
import { round, runCount } from './load';
import { say, type BenchSettings } from './report';
import { startStack } from './stack';
import { setupWorkspace } from './workload';

export interface MemoryResult {
  journeys: number;
  /** --max-old-space-size of the worker, as deployed. */
  workerHeapMb: number;
  /** Running journeys by Temporal visibility once all were applied. */
  open: number;
  openedInSeconds: number;
  /** Peak = highest sample during the load; peakSinceStart includes bundling the workflows at start (VmHWM). */
  workerRssMb: { beforeLoad: number; afterLoad: number; peak: number; peakSinceStart: number };
  target: string;
  pass: boolean;
}

export const WORKER_HEAP_MB = 1024;

const mb = (bytes: number | undefined) => round((bytes ?? NaN) / 2 ** 20, 0);

export async function benchMemory(settings: BenchSettings): Promise<MemoryResult> {
  const { journeys, concurrency } = settings.memory;
  // The heap the deployments give the worker (infra/k8s/worker.yaml, docker-compose): the SDK sizes its
  // workflow cache from it, so it decides how many of the open journeys stay in memory.
  const stack = await startStack({
    workers: 1,
    env: { NODE_OPTIONS: `--max-old-space-size=${WORKER_HEAP_MB}` },
  });
  try {
    const worker = stack.workers()[0]!;
    const workspace = await setupWorkspace(stack, { name: 'Bench memory', partners: [] });
    const bare = await createBareSender(stack, workspace);
    await bare.ensure(journeys);
    say(`\n## Worker memory: ${journeys.toLocaleString()} open journeys\n`);
    const before = await worker.memory();
    let peak = before?.rssBytes ?? 0;
    const sampler = setInterval(() => {
      void worker.memory().then((m) => {
        if (m) peak = Math.max(peak, m.rssBytes);
      });
    }, 500);
    const started = performance.now();
    let failures: Record<string, number>;
    try {
      failures = await runCount(concurrency, journeys, () => bare.send());
      await drain(stack.pool, workspace.workspaceId, () => bare.signalled());
    } finally {
      clearInterval(sampler);
    }
    const openedInSeconds = round((performance.now() - started) / 1000);
    const after = await worker.memory();
    peak = Math.max(peak, after?.rssBytes ?? 0);
    const { count: open } = await stack.client.workflow.count(
      `WorkspaceId = "${workspace.workspaceId}" AND ExecutionStatus = "Running"`,
    );
    const result: MemoryResult = {
      journeys,
      workerHeapMb: WORKER_HEAP_MB,
      open,
      openedInSeconds,
      workerRssMb: {
        beforeLoad: mb(before?.rssBytes),
        afterLoad: mb(after?.rssBytes),
        peak: mb(peak),
        peakSinceStart: mb(after?.peakRssBytes),
      },
      target: 'worker memory ≤ 1 536 MB',
      pass: open === journeys && mb(peak) <= 1536 && Object.keys(failures).length === 0,
    };
    say(
      `  ${open} open after ${openedInSeconds} s; worker RSS ${result.workerRssMb.beforeLoad} → ${result.workerRssMb.afterLoad} MB, peak ${result.workerRssMb.peak} MB${Object.keys(failures).length ? `; failures ${JSON.stringify(failures)}` : ''}`,
    );
    return result;
  } finally {
    await stack.stop();
  }
}

export function memoryTable(result: MemoryResult): string {
  return [
    `**Worker memory** — ${result.journeys.toLocaleString('en-US')} journeys opened by signal-with-start, left waiting on their timers; worker heap limit ${result.workerHeapMb} MB as deployed (target: ${result.target}):`,
    '',
    '| open journeys | opened in | worker RSS before | after | peak under load | peak since start | |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    `| ${result.open.toLocaleString('en-US')} | ${result.openedInSeconds} s | ${result.workerRssMb.beforeLoad} MB | ${result.workerRssMb.afterLoad} MB | ${result.workerRssMb.peak} MB | ${result.workerRssMb.peakSinceStart} MB | ${result.pass ? 'pass' : '**FAIL**'} |`,
  ].join('\n');
}
