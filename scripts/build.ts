// `npm run build`: the production output in dist/, a tree shaped like the sources that runs with plain `node` (no
// tsx): compiled JavaScript of every entry point (services, jobs, CLIs), the files they read beside their code (SQL
// migrations, the API docs page), package.json (the OpenAPI document's version), the dashboard when web/dist is
// built, and the workflow bundle, made once here and loaded by the worker with `workflowBundle`.
//   npm run build
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { PROJECT_ROOT } from '../infra/local/binaries';
import { WORKFLOW_BUNDLE_FILE } from '../services/worker/worker';

/** Source folders the entry points compile from; their other files (SQL, HTML) are copied as they are. */
const SOURCE_DIRS = ['shared', 'workflows', 'activities', 'data', 'usecases', 'services', 'infra/db'];

function copyAssets(from: string, out: string): number {
  let copied = 0;
  for (const name of readdirSync(from)) {
    const path = join(from, name);
    if (statSync(path).isDirectory()) copied += copyAssets(path, out);
    else if (!name.endsWith('.ts')) {
      const target = join(out, relative(PROJECT_ROOT, path));
      mkdirSync(dirname(target), { recursive: true });
      cpSync(path, target);
      copied += 1;
    }
  }
  return copied;
}

export async function build(out = join(PROJECT_ROOT, 'dist'), log: (line: string) => void = () => undefined) {
  const started = performance.now();
  rmSync(out, { recursive: true, force: true });
  // tsconfig.build.json lists the entry points; tsc follows their imports.
  execFileSync(
    process.execPath,
    [join(PROJECT_ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', out],
    { cwd: PROJECT_ROOT, stdio: 'inherit' },
  );
  log(`compiled to ${relative(PROJECT_ROOT, out) || out}`);
  const assets = SOURCE_DIRS.reduce((n, dir) => n + copyAssets(join(PROJECT_ROOT, dir), out), 0);
  cpSync(join(PROJECT_ROOT, 'package.json'), join(out, 'package.json'));
  log(`copied ${assets} files read at run time, and package.json`);
  const web = join(PROJECT_ROOT, 'web', 'dist');
  if (existsSync(join(web, 'index.html'))) {
    cpSync(web, join(out, 'web', 'dist'), { recursive: true });
    log('copied the dashboard (web/dist)');
  } else log('no web/dist: the api answers /app with "not built" (npm run build:web first to include it)');
  // From the compiled workflows: the bundle holds exactly the code this build's worker replays.
  const bundle = await bundleWorkflowCode({
    workflowsPath: join(out, 'workflows', 'index.js'),
    // The compiled failure converter: workflow failures are encoded as the worker's and clients' are.
    failureConverterPath: join(out, 'shared', 'failureConverter.js'),
    logger: quiet,
  });
  writeFileSync(join(out, WORKFLOW_BUNDLE_FILE), bundle.code);
  log(`bundled the workflows (${(bundle.code.length / 1024).toFixed(0)} KB)`);
  log(`built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

const quiet = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => process.stderr.write(`bundle: ${message}\n`),
  error: (message: string) => process.stderr.write(`bundle: ${message}\n`),
};

if (require.main === module) {
  build(undefined, (line) => process.stdout.write(`build: ${line}\n`)).catch((error: unknown) => {
    process.stderr.write(`leadrelay build: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
