// Replays recorded histories (test/histories, written by scripts/record-histories.ts) through today's
// workflow code: a change that is not replay-safe fails here, before it can break running journeys.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { testStack } from '../setup/stack';

const DIR = join(__dirname, '..', 'histories');

beforeAll(() => {
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // Installed by an earlier file in this process.
  }
});

test('every recorded history of every workflow replays without nondeterminism', async () => {
  const files = readdirSync(DIR).filter((name) => name.endsWith('.json'));
  expect(files.length).toBeGreaterThanOrEqual(3);
  const histories = files.map((name) => ({
    workflowId: name.replace(/\.json$/, ''),
    history: historyFromJSON(JSON.parse(readFileSync(join(DIR, name), 'utf8'))),
  }));
  // Every workflow the worker registers has recorded histories, so a change to any of them is checked.
  const types = new Set(
    histories.map((h) => h.history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name),
  );
  expect([...types].sort()).toEqual([
    'completeInboundEvent',
    'importProbe',
    'leadImport',
    'leadJourney',
    'pollIntegration',
    'webhookDelivery',
  ]);
  const results = [];
  for await (const result of Worker.runReplayHistories(
    { workflowBundle: { codePath: testStack().workflowBundlePath } },
    histories,
  )) {
    results.push(result);
  }
  expect(results.map((r) => [r.workflowId, r.error ? String(r.error) : null])).toEqual(
    histories.map((h) => [h.workflowId, null]),
  );
});
