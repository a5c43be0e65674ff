// The real Temporal server for `npm run topology`: built once from the Go module go.temporal.io/server at the version
// the development dev server reports, cached under .tools/temporal-server/<version>/; its databases on Postgres set up
// by Temporal's own SQL tool from the same module (infra/docker/temporal-schema.sh, the script docker-compose runs);
// and run the way the temporalio/server image runs it: `temporal-server start`, configured by environment through
// the server's embedded template, with our dynamic config (infra/docker/temporal-dynamicconfig.yaml).
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { executable, PROJECT_ROOT, temporalCli, TOOLS_DIR } from '../../infra/local/binaries';
import { stopChild } from '../../infra/local/process';
import { waitForFrontend } from '../../infra/local/temporal';

const SERVER_MODULE = 'go.temporal.io/server';

export interface ServerBinaries {
  version: string;
  server: string;
  sqlTool: string;
}

/** The server version the development dev server reports: `temporal version 1.9.1 (Server 1.32.0, UI 2.54.1)`. */
export function devServerVersion(): string {
  const reported = execFileSync(temporalCli(), ['--version']).toString();
  const version = /\(Server (\d+\.\d+\.\d+)/.exec(reported)?.[1];
  if (!version)
    throw new Error(`cannot read the server version from \`temporal --version\`: ${reported.trim()}`);
  return version;
}

/**
 * The server and SQL tool binaries of `version`, built with `go install` when not cached yet (the server takes a few
 * minutes and about 2 GB of Go module and build cache, once). GOTOOLCHAIN=auto lets Go fetch a newer toolchain
 * through the Go proxy when the module asks for one.
 */
export async function ensureServerBinaries(
  version: string,
  log: (line: string) => void,
): Promise<ServerBinaries> {
  const dir = join(TOOLS_DIR, 'temporal-server', version);
  const binaries = { version, server: join(dir, 'server'), sqlTool: join(dir, 'sql') };
  const missing = [
    ['cmd/server', binaries.server],
    ['cmd/tools/sql', binaries.sqlTool],
  ].filter(([, path]) => !executable(path!));
  if (missing.length === 0) return binaries;
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
  } catch {
    throw new Error(
      `the Temporal server ${version} is not built under ${dir} and Go is not on PATH: install Go (it builds ${SERVER_MODULE}/cmd/server@v${version} once)`,
    );
  }
  mkdirSync(dir, { recursive: true });
  for (const [pkg] of missing) {
    const target = `${SERVER_MODULE}/${pkg}@v${version}`;
    log(`building ${target} with go install (once; the server takes a few minutes)`);
    const started = performance.now();
    await promisify(execFile)('go', ['install', target], {
      env: { ...process.env, GOBIN: dir, GOTOOLCHAIN: process.env.GOTOOLCHAIN ?? 'auto' },
      maxBuffer: 64 * 1024 * 1024,
    });
    log(`built ${target} in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
  return binaries;
}

export interface PostgresAccess {
  host: string;
  port: number;
  user: string;
  password: string;
}

/** Creates (if missing) and upgrades Temporal's two databases with infra/docker/temporal-schema.sh. */
export async function setUpSchema(binaries: ServerBinaries, postgres: PostgresAccess): Promise<void> {
  await promisify(execFile)('sh', [join(PROJECT_ROOT, 'infra', 'docker', 'temporal-schema.sh')], {
    env: {
      PATH: process.env.PATH,
      POSTGRES_SEEDS: postgres.host,
      DB_PORT: String(postgres.port),
      POSTGRES_USER: postgres.user,
      SQL_PASSWORD: postgres.password,
      TEMPORAL_SQL_TOOL: binaries.sqlTool,
    },
    maxBuffer: 64 * 1024 * 1024,
  });
}

/**
 * A port free on 127.0.0.1 below 32768: Temporal keeps its services' membership ports in a SMALLINT column, so the
 * kernel's ephemeral ports (32768 and up) cannot be used for them.
 */
async function lowFreePort(taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (taken.has(port)) continue;
    const free = await new Promise<boolean>((resolveFree) => {
      const probe = createServer();
      probe.once('error', () => resolveFree(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolveFree(true)));
    });
    if (free) {
      taken.add(port);
      return port;
    }
  }
  throw new Error('no free port below 32768 on 127.0.0.1');
}

export interface TemporalServer {
  address: string;
  version: string;
  /** The environment the server runs with (the temporalio/server image's variables). */
  env: NodeJS.ProcessEnv;
  child(): ChildProcess;
  /** The server's last output lines. */
  output: string[];
  kill9(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function startTemporalServer(options: {
  binaries: ServerBinaries;
  postgres: PostgresAccess;
  historyShards: number;
  onLine?: (line: string) => void;
}): Promise<TemporalServer> {
  const taken = new Set<number>();
  const port = async () => String(await lowFreePort(taken));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    DB: 'postgres12',
    POSTGRES_SEEDS: options.postgres.host,
    DB_PORT: String(options.postgres.port),
    POSTGRES_USER: options.postgres.user,
    POSTGRES_PWD: options.postgres.password,
    BIND_ON_IP: '127.0.0.1',
    NUM_HISTORY_SHARDS: String(options.historyShards),
    DYNAMIC_CONFIG_FILE_PATH: join(PROJECT_ROOT, 'infra', 'docker', 'temporal-dynamicconfig.yaml'),
    TEMPORAL_ALLOW_NO_AUTH: 'true',
    LOG_LEVEL: 'warn',
    FRONTEND_GRPC_PORT: await port(),
    FRONTEND_HTTP_PORT: await port(),
    FRONTEND_MEMBERSHIP_PORT: await port(),
    HISTORY_GRPC_PORT: await port(),
    HISTORY_MEMBERSHIP_PORT: await port(),
    MATCHING_GRPC_PORT: await port(),
    MATCHING_MEMBERSHIP_PORT: await port(),
    WORKER_GRPC_PORT: await port(),
    WORKER_MEMBERSHIP_PORT: await port(),
  };
  const address = `127.0.0.1:${env.FRONTEND_GRPC_PORT}`;
  const output: string[] = [];
  let current: ChildProcess | undefined;

  const start = async () => {
    const child = spawn(options.binaries.server, ['start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    current = child;
    const collect = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        output.push(line);
        if (output.length > 100) output.shift();
        options.onLine?.(line);
      }
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code, signal) =>
        reject(
          new Error(
            `the Temporal server exited (${signal ?? code}) before it was ready: ${output.slice(-5).join(' | ')}`,
          ),
        ),
      ),
    );
    await Promise.race([waitForFrontend(address, 120_000), exited]);
    child.removeAllListeners('exit');
  };

  await start();
  return {
    address,
    version: options.binaries.version,
    env,
    output,
    child: () => current!,
    start,
    async kill9() {
      const child = current!;
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise<void>((resolveGone) => child.once('exit', () => resolveGone()));
      child.kill('SIGKILL');
      await gone;
    },
    stop: () => (current ? stopChild(current, 15_000) : Promise.resolve()),
  };
}
