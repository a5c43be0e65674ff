// Where B2 spends ingest's CPU: the ingest process runs under `node --cpu-prof` while autocannon drives the web
// form webhook closed loop; the profile (kept under .data/bench/) is summarised as self time per frame and per
// package, idle and garbage collection shown apart.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { PROJECT_ROOT } from '../infra/local/binaries';
import { autocannonRun } from './autocannon';
import { drain, leadCount } from './ingest';
import { round } from './load';
import { say, type BenchSettings } from './report';
import { startStack } from './stack';
import { setupWorkspace, webformInquiry } from './workload';

export interface ProfileFrame {
  frame: string;
  /** Share of the busy (non-idle) samples spent in this frame itself. */
  selfPercent: number;
}

export interface ProfileResult {
  seconds: number;
  requests: number;
  throughput: number;
  /** The .cpuprofile, relative to the project (open it in Chrome DevTools). */
  file: string;
  /** Share of all samples the process was idle (waiting on I/O). */
  idlePercent: number;
  /** Busy time per request (ms of CPU in ingest per answered webhook). */
  cpuMsPerRequest: number;
  topFrames: ProfileFrame[];
  packages: { name: string; selfPercent: number }[];
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export async function benchProfile(settings: BenchSettings): Promise<ProfileResult> {
  const dir = mkdtempSync(join(tmpdir(), 'leadrelay-prof-'));
  const stack = await startStack({
    workers: 1,
    nodeFlags: { ingest: ['--cpu-prof', `--cpu-prof-dir=${dir}`] },
  });
  const seconds = settings.quick ? 3 : 30;
  try {
    const workspace = await setupWorkspace(stack, { name: 'Bench profile', partners: ['webform'] });
    const webform = workspace.integrations.webform!;
    const tag = `prof${Date.now().toString(36)}`;
    say(`\n## Profile: B2 closed loop for ${seconds} s, ingest under --cpu-prof\n`);
    const ingest = stack.processes.find((p) => p.name === 'ingest')!;
    // The profile covers the process from its start: samples before the load (loading modules, connecting)
    // are left out of the summary.
    const loadFromMs = Date.now() - ingest.spawnedAt;
    const run = await autocannonRun({
      webhook: (i) => webformInquiry(webform, tag, i),
      connections: settings.ingest.concurrency,
      durationSeconds: seconds,
    });
    await drain(stack.pool, workspace.workspaceId, () => leadCount(stack.pool, workspace.workspaceId));
    const loadToMs = loadFromMs + seconds * 1000;
    // The profile is written when the process exits (SIGTERM: a clean shutdown).
    await ingest.stop();
    // One profile per thread: the main thread's is the largest by far.
    const written = readdirSync(dir)
      .filter((name) => name.endsWith('.cpuprofile'))
      .sort((a, b) => statSync(join(dir, b)).size - statSync(join(dir, a)).size);
    if (written.length === 0) throw new Error('ingest wrote no CPU profile');
    const outDir = join(PROJECT_ROOT, '.data', 'bench');
    mkdirSync(outDir, { recursive: true });
    const file = join(outDir, `ingest-b2-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`);
    copyFileSync(join(dir, written[0]!), file);
    const summary = summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, {
      fromMs: loadFromMs,
      toMs: loadToMs,
    });
    const busyMs = summary.busyMs;
    return {
      seconds,
      requests: run.ok,
      throughput: run.throughput,
      file: relative(PROJECT_ROOT, file),
      idlePercent: summary.idlePercent,
      cpuMsPerRequest: round(busyMs / Math.max(1, run.ok), 2),
      topFrames: summary.topFrames,
      packages: summary.packages,
    };
  } finally {
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Where a script lives: a package under node_modules, a top-level folder of ours, or node itself. */
function packageOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1]!;
  if (url.startsWith('node:')) return 'node';
  const ours = url.replace(/^file:\/\//, '');
  if (ours.startsWith(PROJECT_ROOT)) return `leadrelay/${relative(PROJECT_ROOT, ours).split('/')[0]}`;
  return url;
}

/** Self time per frame and package over the samples between `fromMs` and `toMs` of the process's life. */
export function summarizeProfile(
  profile: CpuProfile,
  window: { fromMs: number; toMs: number } = { fromMs: 0, toMs: Infinity },
): {
  busyMs: number;
  idlePercent: number;
  topFrames: ProfileFrame[];
  packages: { name: string; selfPercent: number }[];
} {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  let at = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at < window.fromMs * 1000 || at > window.toMs * 1000) return;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  });
  let idleUs = 0;
  let totalUs = 0;
  const frames = new Map<string, number>();
  const packages = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    totalUs += us;
    if (functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    const where = url
      ? `${url.replace(/^file:\/\//, '').replace(`${PROJECT_ROOT}/`, '')}:${lineNumber + 1}`
      : '';
    const frame = `${functionName || '(anonymous)'}${where ? ` ${where.replace(/.*node_modules\//, '')}` : ''}`;
    frames.set(frame, (frames.get(frame) ?? 0) + us);
    const name = packageOf(url, functionName);
    packages.set(name, (packages.get(name) ?? 0) + us);
  }
  const busyUs = totalUs - idleUs;
  const percent = (us: number) => round((100 * us) / Math.max(1, busyUs), 1);
  const top = <T>(map: Map<string, number>, n: number, make: (key: string, us: number) => T) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([key, us]) => make(key, us));
  return {
    busyMs: busyUs / 1000,
    idlePercent: round((100 * idleUs) / Math.max(1, totalUs), 1),
    topFrames: top(frames, 15, (frame, us) => ({ frame, selfPercent: percent(us) })),
    packages: top(packages, 12, (name, us) => ({ name, selfPercent: percent(us) })),
  };
}

export function profileTable(result: ProfileResult): string {
  return [
    `**CPU profile of ingest under B2** — ${result.seconds} s closed loop, ${result.requests} webhooks (${result.throughput} req/s); ingest idle ${result.idlePercent} % of the time, ${result.cpuMsPerRequest} ms of ingest CPU per webhook; profile \`${result.file}\`:`,
    '',
    '| top frames (self time, % of busy) | % | by package | % |',
    '| --- | --- | --- | --- |',
    ...Array.from({ length: Math.max(result.topFrames.length, result.packages.length) }, (_, i) => {
      const frame = result.topFrames[i];
      const pkg = result.packages[i];
      return `| ${frame ? `\`${frame.frame}\`` : ''} | ${frame?.selfPercent ?? ''} | ${pkg ? `\`${pkg.name}\`` : ''} | ${pkg?.selfPercent ?? ''} |`;
    }),
  ].join('\n');
}
