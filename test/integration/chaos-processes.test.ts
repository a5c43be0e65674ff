// CI-sized chaos (the full runs are `npm run chaos`): worker, ingest and api as real child processes against the
// test stack's Temporal and Postgres; kill -9 of each mid-load, duplicates, a burst, a partner down. Each run is then
// reconciled by counting: acknowledged webhooks = inbox rows = applied changes = SMS and emails the sandboxes saw.
import { randomUUID } from 'node:crypto';
import { startStack, type Stack } from '../../bench/stack';
import { runScenario, scenario } from '../../scripts/chaos/scenarios';
import { testStack } from '../setup/stack';
import { ENCRYPTION_KEYS } from '../support/harness';

let stack: Stack;

beforeAll(async () => {
  const shared = testStack();
  stack = await startStack({
    temporalAddress: shared.temporalAddress,
    databaseUrl: shared.databaseUrl,
    encryptionKeys: ENCRYPTION_KEYS,
    taskQueue: `chaos-${randomUUID()}`,
    workers: 1,
  });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

test('kill -9 of the worker mid-load while every webhook arrives 10 times, shuffled: each applied and notified once', async () => {
  const result = await runScenario(
    stack,
    { ...scenario('duplicates'), fault: scenario('worker-kill').fault },
    { messages: 30, copies: 10, shuffle: true, concurrency: 10, downMs: 500, settleMs: 150_000 },
  );
  expect(result.timeline.filter((line) => line.includes('kill -9 worker'))).toHaveLength(2);
  expect(result.counts.posts).toBeGreaterThanOrEqual(300);
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

test('kill -9 of ingest mid-load: cut requests are retried by the partner, none is lost or applied twice', async () => {
  const result = await runScenario(stack, scenario('ingest-kill'), {
    messages: 30,
    concurrency: 4,
    downMs: 500,
    settleMs: 120_000,
  });
  expect(result.timeline.some((line) => line.includes('kill -9 ingest'))).toBe(true);
  expect(result.mismatches).toEqual([]);
  expect(result.counts).toMatchObject({
    acknowledged: 30,
    applied: 30,
    sms: { seen: 30 },
    email: { seen: 30 },
  });
}, 240_000);

test('kill -9 of the api while staff change statuses: retries with the same Idempotency-Key apply each once', async () => {
  const result = await runScenario(stack, scenario('api-kill'), {
    messages: 20,
    concurrency: 4,
    downMs: 500,
    settleMs: 120_000,
  });
  expect(result.timeline.some((line) => line.includes('kill -9 api'))).toBe(true);
  expect(result.mismatches).toEqual([]);
  expect(result.counts).toMatchObject({
    acknowledged: 20,
    applied: 20,
    sms: { seen: 20 },
    email: { seen: 20 },
  });
}, 240_000);

test('200 webhooks at the same moment: every one acknowledged, applied and notified exactly once', async () => {
  const result = await runScenario(stack, scenario('concurrent'), {
    messages: 200,
    concurrency: Infinity,
    settleMs: 180_000,
  });
  expect(result.mismatches).toEqual([]);
  expect(result.counts).toMatchObject({
    acknowledged: 200,
    inboxRows: 200,
    applied: 200,
    sms: { leads: 200 },
  });
}, 300_000);

test('HubSpot down while ResMan statuses arrive: every push lands once when it is back', async () => {
  const result = await runScenario(stack, scenario('partner-down'), {
    messages: 10,
    concurrency: 4,
    downMs: 8000,
    settleMs: 120_000,
  });
  expect(result.timeline.some((line) => line.includes('HubSpot sandbox up again'))).toBe(true);
  expect(result.mismatches).toEqual([]);
  expect(result.counts.partner).toEqual({ writes: 10, leads: 10, syncsSucceeded: 10 });
}, 240_000);
