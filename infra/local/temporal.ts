// Runs `temporal server start-dev` as a child process with our search attributes registered.
import { spawn, type ChildProcess } from 'node:child_process';
import { Connection } from '@temporalio/client';
import { searchAttributeFlags } from '../../shared/searchAttributes';
import { temporalCli } from './binaries';
import { stopChild } from './process';

export interface DevServerOptions {
  port: number;
  /** Web UI port; undefined runs headless (tests). */
  uiPort?: number;
  /** SQLite file; undefined keeps everything in memory. */
  dbFile?: string;
  ip?: string;
  namespace?: string;
  /** Codec endpoint the Web UI calls to decode payloads. */
  uiCodecEndpoint?: string;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  onOutput?: (line: string) => void;
}

export interface DevServer {
  address: string;
  uiUrl?: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export async function startTemporalDevServer(options: DevServerOptions): Promise<DevServer> {
  const ip = options.ip ?? '127.0.0.1';
  const args = ['server', 'start-dev', '--ip', ip, '--port', String(options.port), ...searchAttributeFlags()];
  args.push('--log-level', options.logLevel ?? 'warn');
  if (options.namespace && options.namespace !== 'default') args.push('--namespace', options.namespace);
  if (options.uiPort) {
    args.push('--ui-port', String(options.uiPort), '--ui-disable-news-fetch');
    if (options.uiCodecEndpoint) args.push('--ui-codec-endpoint', options.uiCodecEndpoint);
  } else {
    args.push('--headless');
  }
  if (options.dbFile) {
    // WAL with synchronous=NORMAL: durable across process crashes (a power loss may lose the last
    // transactions), and an order of magnitude faster than the default rollback journal.
    args.push(
      '--db-filename',
      options.dbFile,
      '--sqlite-pragma',
      'journal_mode=wal',
      '--sqlite-pragma',
      'synchronous=NORMAL',
    );
  }
  const child = spawn(temporalCli(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      output.push(line);
      if (output.length > 50) output.shift();
      options.onOutput?.(line);
    }
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const address = `${ip}:${options.port}`;
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) =>
      reject(
        new Error(
          `the Temporal dev server exited (code ${code}) before it was ready: ${output.slice(-5).join(' | ')}`,
        ),
      ),
    ),
  );
  await Promise.race([waitForFrontend(address, 60_000), exited]);
  child.removeAllListeners('exit');
  return {
    address,
    uiUrl: options.uiPort ? `http://localhost:${options.uiPort}` : undefined,
    child,
    stop: () => stopChild(child),
  };
}

/** Resolves once the frontend answers a health check. */
export async function waitForFrontend(address: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.healthService.check({});
        await connection.workflowService.getSystemInfo({});
        return;
      } finally {
        await connection.close();
      }
    } catch (error) {
      lastError = error;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`Temporal at ${address} did not become ready within ${timeoutMs} ms: ${String(lastError)}`);
}
