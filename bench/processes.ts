// Our services as real child processes (`node --import tsx services/<name>/main.ts`, or the production build's
// `node dist/services/<name>/main.js`), for the bench, the chaos and topology runs and the tests: started with an
// environment, waited on until they serve, killed with SIGKILL, started again.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../infra/local/binaries';
import { stopChild } from '../infra/local/process';

export type ServiceName = 'worker' | 'ingest' | 'api' | 'b1';

/** The script each runs: our services, and the bench's B1 (ingest's HTTP layer without its database). */
const SCRIPTS: Record<ServiceName, string[]> = {
  worker: ['services', 'worker', 'main.ts'],
  ingest: ['services', 'ingest', 'main.ts'],
  api: ['services', 'api', 'main.ts'],
  b1: ['bench', 'b1.ts'],
};

export interface ServiceProcess {
  name: ServiceName;
  /** Distinguishes several processes of one service (worker-1, worker-2). */
  label: string;
  child: ChildProcess;
  pid: number;
  /** The last lines the process wrote (stdout and stderr). */
  output: string[];
  /** Resolves with the exit code or signal once the process is gone. */
  exited: Promise<string>;
  /** Whether we ended it (kill9/stop); an exit otherwise is a crash. */
  endedByUs: boolean;
  /** When it was spawned (ms since epoch). */
  spawnedAt: number;
  /** SIGKILL: no shutdown hook runs, in-flight work is cut mid-way. */
  kill9(): Promise<void>;
  /** SIGTERM, then SIGKILL after the grace period. */
  stop(graceMs?: number): Promise<void>;
  /** Resident set size now and its peak (VmHWM) in bytes (Linux /proc), or undefined once the process is gone. */
  memory(): Promise<{ rssBytes: number; peakRssBytes: number } | undefined>;
}

export interface StartServiceOptions {
  label?: string;
  /** The TypeScript sources through tsx (default), or the compiled output of `npm run build` in dist/. */
  from?: 'source' | 'build';
  /** Ready when this answers 200 (api, ingest); the worker is ready when it logs that it started. */
  healthUrl?: string;
  timeoutMs?: number;
  onLine?: (label: string, line: string) => void;
  /** Flags for node itself, before the script (the bench's --cpu-prof of ingest). */
  nodeFlags?: string[];
}

const OUTPUT_LINES = 200;

export async function startService(
  name: ServiceName,
  env: NodeJS.ProcessEnv,
  options: StartServiceOptions = {},
): Promise<ServiceProcess> {
  const label = options.label ?? name;
  const spawnedAt = Date.now();
  const child = spawn(
    process.execPath,
    [
      ...(options.nodeFlags ?? []),
      // B1 exists only as source; the services run from the build when asked.
      ...(options.from === 'build' && name !== 'b1'
        ? [join(PROJECT_ROOT, 'dist', ...SCRIPTS[name]).replace(/\.ts$/, '.js')]
        : ['--import', 'tsx', join(PROJECT_ROOT, ...SCRIPTS[name])]),
    ],
    {
      cwd: PROJECT_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const output: string[] = [];
  let started = false;
  let onStarted: (() => void) | undefined;
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      output.push(line);
      if (output.length > OUTPUT_LINES) output.shift();
      options.onLine?.(label, line);
      if (!started && line.includes('"msg":"worker started"')) {
        started = true;
        onStarted?.();
      }
    }
  };
  // Both streams are always drained: a full pipe would block the child mid-write.
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<string>((resolveExit) =>
    child.once('exit', (code, signal) => resolveExit(signal ?? String(code))),
  );
  const service: ServiceProcess = {
    name,
    label,
    child,
    pid: child.pid ?? -1,
    output,
    exited,
    endedByUs: false,
    spawnedAt,
    async kill9() {
      service.endedByUs = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
    stop(graceMs = 15_000) {
      service.endedByUs = true;
      return stopChild(child, graceMs);
    },
    memory: () => memoryOf(child.pid),
  };

  const timeoutMs = options.timeoutMs ?? 180_000;
  const ready =
    name === 'worker'
      ? new Promise<void>((resolveReady) => {
          if (started) resolveReady();
          onStarted = resolveReady;
        })
      : waitForHttp(options.healthUrl!, timeoutMs);
  const failed = exited.then((how) => {
    throw new Error(`${label} exited (${how}) while starting: ${output.slice(-5).join(' | ')}`);
  });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new Error(`${label} was not ready within ${timeoutMs} ms: ${output.slice(-5).join(' | ')}`)),
      timeoutMs,
    );
  });
  try {
    await Promise.race([ready, failed, timedOut]);
  } catch (error) {
    await service.kill9();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  failed.catch(() => undefined);
  return service;
}

async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolveLater) => setTimeout(resolveLater, 100));
  }
}

async function memoryOf(
  pid: number | undefined,
): Promise<{ rssBytes: number; peakRssBytes: number } | undefined> {
  if (!pid) return undefined;
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { rssBytes: kb('VmRSS'), peakRssBytes: kb('VmHWM') };
  } catch {
    return undefined;
  }
}
