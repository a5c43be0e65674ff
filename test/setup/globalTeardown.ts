// Stops what globalSetup started and removes its temporary directory.
import { rmSync } from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  const stack = globalThis.__leadrelayStack;
  if (!stack) return;
  await Promise.all([stack.temporal.stop(), stack.postgres.stop()]);
  rmSync(stack.dir, { recursive: true, force: true });
}
