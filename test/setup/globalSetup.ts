// Starts the real parts once per test run: a Temporal dev server and an embedded Postgres on free
// ports (migrated), the time-skipping server's path, and the workflow bundle built once.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { migrate } from '../../infra/db/migrate';
import { temporalTestServer } from '../../infra/local/binaries';
import { startOnFreePort } from '../../infra/local/ports';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../infra/local/postgres';
import { startTemporalDevServer, type DevServer } from '../../infra/local/temporal';
import { WORKFLOWS_PATH } from '../../services/worker/worker';
import { FAILURE_CONVERTER_PATH } from '../../shared/failureConverter';
import type { TestStack } from './stack';

declare global {
  var __leadrelayStack: { temporal: DevServer; postgres: EmbeddedPostgres; dir: string } | undefined;
}

export default async function globalSetup(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'leadrelay-test-'));
  // The embedded Postgres runs as an unprivileged user, which must reach its data directory.
  chmodSync(dir, 0o755);
  const started = await Promise.allSettled([
    startOnFreePort((port) => startTemporalDevServer({ port })),
    startOnFreePort((port) =>
      startEmbeddedPostgres({ dataDir: join(dir, 'pg'), port, database: 'leadrelay_test' }),
    ),
    bundleWorkflowCode({
      workflowsPath: WORKFLOWS_PATH,
      failureConverterPath: FAILURE_CONVERTER_PATH,
      logger: quietLogger,
    }),
  ]);
  const failed = started.find((result) => result.status === 'rejected');
  if (failed) {
    // Jest runs no teardown after a failed setup: stop what did start.
    await Promise.all(
      started.map((result) =>
        result.status === 'fulfilled' && 'stop' in result.value ? result.value.stop() : Promise.resolve(),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
    throw (failed as PromiseRejectedResult).reason;
  }
  const [temporal, postgres, bundle] = started.map(
    (result) => (result as PromiseFulfilledResult<unknown>).value,
  ) as [DevServer, EmbeddedPostgres, Awaited<ReturnType<typeof bundleWorkflowCode>>];
  await migrate(postgres.url);
  const workflowBundlePath = join(dir, 'workflow-bundle.js');
  writeFileSync(workflowBundlePath, bundle.code);
  const stack: TestStack = {
    temporalAddress: temporal.address,
    databaseUrl: postgres.url,
    workflowBundlePath,
    testServerPath: temporalTestServer(),
  };
  process.env.LEADRELAY_TEST_STACK = JSON.stringify(stack);
  globalThis.__leadrelayStack = { temporal, postgres, dir };
}

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: (message: string, meta?: unknown) => console.error(message, meta),
};
