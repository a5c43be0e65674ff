// Worker throughput for `npm run topology`: a backlog of journeys (chatbot webhooks acknowledged while no worker runs,
// each a new lead qualified, with a staff SMS and email) drained by N workers started together on the same server.
// The rate is taken between 10 % and 90 % done, so the workers' start-up does not count; the whole drain is reported
// too. Then the run is reconciled like a chaos scenario.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { Stack } from '../../bench/stack';
import { chatbotQualified, setupWorkspace } from '../../bench/workload';
import { deliver } from '../chaos/driver';
import { count, mismatches, settle, type ChaosCounts } from '../chaos/reconcile';

export interface ThroughputResult {
  workers: number;
  /** A summary row: the median of this worker count's drains. */
  median?: boolean;
  journeys: number;
  acknowledged: number;
  /** From starting the workers until every journey is applied and notified. */
  drainSeconds: number;
  /** Until every worker reported it polls. */
  workersReadySeconds: number;
  /** Journeys per second between 10 % and 90 % done. */
  steadyPerSecond: number;
  /** Journeys per second over the whole drain, start-up included. */
  wholePerSecond: number;
  /** Where the CPU went during the drain: the whole machine's busy share, and CPU seconds by process. */
  cpu: { machineBusyPercent: number; workersSeconds: number; temporalServerSeconds: number };
  loadAverageAtStart: number[];
  counts: ChaosCounts;
  mismatches: string[];
}

/** Busy and total CPU time of the machine so far (ms, all cores). */
function machineCpu(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const cpu of os.cpus()) {
    const { user, nice, sys, idle, irq } = cpu.times;
    busy += user + nice + sys + irq;
    total += user + nice + sys + idle + irq;
  }
  return { busy, total };
}

/** CPU seconds a process has used (Linux /proc: utime + stime in clock ticks of 1/100 s), 0 once it is gone. */
function processCpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

const POLL_MS = 250;
const DRAIN_LIMIT_MS = 15 * 60_000;

const seconds = (ms: number) => Number((ms / 1000).toFixed(1));

/** Stops every running worker gracefully and forgets it. */
export async function stopWorkers(stack: Stack): Promise<void> {
  const workers = stack.workers();
  await Promise.all(workers.map((worker) => worker.stop(30_000)));
  for (const worker of workers) stack.processes.splice(stack.processes.indexOf(worker), 1);
}

export async function drainBacklog(
  stack: Stack,
  options: {
    workers: number;
    journeys: number;
    /** The Temporal server's process, whose CPU time is reported beside the workers'. */
    temporalServerPid?: number;
    log: (line: string) => void;
  },
): Promise<ThroughputResult> {
  const { workers, journeys, log } = options;
  await stopWorkers(stack);
  const tag = `tp${workers}w${Date.now().toString(36)}`;
  const workspace = await setupWorkspace(stack, {
    name: `Topology throughput, ${workers} worker(s)`,
    partners: ['chatbot'],
    notifyOn: ['qualified'],
  });
  const chatbot = workspace.integrations.chatbot!;
  const messages = Array.from({ length: journeys }, (_, i) => chatbotQualified(chatbot, tag, i));
  const delivered = await deliver(messages, { concurrency: 16 }).done;
  log(`${workers} worker(s): ${delivered.acknowledged.size} webhooks acknowledged with no worker running`);

  const q = async (sql: string) =>
    (await stack.pool.query<{ n: number }>(sql, [workspace.workspaceId])).rows[0]!.n;
  const progress = async () => {
    const [applied, sent] = await Promise.all([
      q(`SELECT count(*)::int AS n FROM status_history
          WHERE workspace_id = $1 AND entry_type = 'applied' AND new_status = 'qualified'`),
      q(`SELECT count(*)::int AS n FROM notification_deliveries WHERE workspace_id = $1 AND status = 'sent'`),
    ]);
    // A journey is done once its change is applied and both its notifications (SMS, email) are sent.
    return Math.min(applied, Math.floor(sent / 2));
  };
  const target = delivered.acknowledged.size;
  const loadAverageAtStart = os.loadavg().map((l) => Number(l.toFixed(2)));
  const cpuBefore = machineCpu();
  const serverCpuBefore = processCpuSeconds(options.temporalServerPid);
  const started = performance.now();
  const ready = Promise.all(
    Array.from({ length: workers }, (_, i) => stack.start('worker', `worker-${i + 1}`)),
  ).then(() => performance.now());
  const reachedAt: { fraction: number; at?: number }[] = [
    { fraction: 0.1 },
    { fraction: 0.9 },
    { fraction: 1 },
  ];
  while (performance.now() - started < DRAIN_LIMIT_MS) {
    const done = await progress();
    const now = performance.now();
    for (const mark of reachedAt) if (mark.at === undefined && done >= mark.fraction * target) mark.at = now;
    if (done >= target) break;
    await new Promise((resolveLater) => setTimeout(resolveLater, POLL_MS));
  }
  const readyAt = await ready;
  const cpuAfter = machineCpu();
  const cpu = {
    machineBusyPercent: Math.round(
      (100 * (cpuAfter.busy - cpuBefore.busy)) / Math.max(1, cpuAfter.total - cpuBefore.total),
    ),
    workersSeconds: Number(
      stack
        .workers()
        .reduce((sum, worker) => sum + processCpuSeconds(worker.pid), 0)
        .toFixed(1),
    ),
    temporalServerSeconds: Number(
      (processCpuSeconds(options.temporalServerPid) - serverCpuBefore).toFixed(1),
    ),
  };
  const [p10, p90, end] = reachedAt.map((mark) => mark.at);
  const reconcileTarget = {
    pool: stack.pool,
    client: stack.client,
    twilio: stack.twilio,
    mailbox: stack.mailbox,
    workspaceId: workspace.workspaceId,
    integrationId: chatbot.id,
    status: 'qualified' as const,
  };
  const settled = await settle(reconcileTarget, target, 5 * 60_000);
  const counts = await count(reconcileTarget, delivered);
  const problems = mismatches(counts);
  if (end === undefined) problems.unshift(`not drained within ${DRAIN_LIMIT_MS / 60_000} minutes`);
  if (!settled) problems.unshift('the system did not settle (something stayed pending)');
  const result: ThroughputResult = {
    workers,
    journeys,
    acknowledged: target,
    drainSeconds: end === undefined ? NaN : seconds(end - started),
    workersReadySeconds: seconds(readyAt - started),
    steadyPerSecond:
      p10 === undefined || p90 === undefined || p90 <= p10
        ? NaN
        : Number(((0.8 * target) / ((p90 - p10) / 1000)).toFixed(1)),
    wholePerSecond: end === undefined ? NaN : Number((target / ((end - started) / 1000)).toFixed(1)),
    cpu,
    loadAverageAtStart,
    counts,
    mismatches: problems,
  };
  log(
    `${workers} worker(s): ready after ${result.workersReadySeconds} s; drained ${target} journeys in ${result.drainSeconds} s; ${result.steadyPerSecond} journeys/s between 10 % and 90 %; machine CPU ${cpu.machineBusyPercent} % busy, workers ${cpu.workersSeconds} CPU s, Temporal server ${cpu.temporalServerSeconds} CPU s; ${problems.length ? `MISMATCH: ${problems.join('; ')}` : 'exactly once'}`,
  );
  return result;
}
