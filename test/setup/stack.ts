// What globalSetup started, handed to test files through the environment.
export interface TestStack {
  temporalAddress: string;
  databaseUrl: string;
  workflowBundlePath: string;
  testServerPath: string;
}

export function testStack(): TestStack {
  const raw = process.env.LEADRELAY_TEST_STACK;
  if (!raw)
    throw new Error(
      'LEADRELAY_TEST_STACK is not set: run stack tests through jest (test/setup/globalSetup.ts)',
    );
  return JSON.parse(raw) as TestStack;
}
