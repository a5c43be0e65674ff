// CI-sized chaos: the Temporal dev server killed (-9) mid-load and started again on its SQLite file. It needs a
// dev server of its own (the test run shares one): started here on free ports, with the test stack's Postgres.
import { startStack, type Stack } from '../../bench/stack';
import { runScenario, scenario } from '../../scripts/chaos/scenarios';
import { testStack } from '../setup/stack';
import { ENCRYPTION_KEYS } from '../support/harness';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    databaseUrl: testStack().databaseUrl,
    encryptionKeys: ENCRYPTION_KEYS,
    workers: 1,
  });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

test('a Temporal restart mid-load loses no acknowledged webhook and applies none twice', async () => {
  const result = await runScenario(stack, scenario('temporal-restart'), {
    messages: 30,
    concurrency: 4,
    downMs: 1500,
    settleMs: 150_000,
  });
  expect(result.timeline.some((line) => line.includes('Temporal dev server started again'))).toBe(true);
  expect(result.mismatches).toEqual([]);
  expect(result.counts).toMatchObject({
    acknowledged: 30,
    inboxRows: 30,
    applied: 30,
    journeysAtStatus: 30,
    sms: { seen: 30, leads: 30 },
    email: { seen: 30, leads: 30 },
  });
}, 300_000);
