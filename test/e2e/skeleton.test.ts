// The walking skeleton end to end: a lead created over HTTP is a Postgres row and a running journey
// whose status the API reads from the workflow and the visibility store finds by LeadStatus.
import { execFileSync } from 'node:child_process';
import { temporalCli } from '../../infra/local/binaries';
import { testStack } from '../setup/stack';
import { call, registerWorkspace, startHarness, type Harness } from '../support/harness';
import { waitFor } from '../support/wait';

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness();
});
afterAll(async () => {
  await harness?.stop();
});

/** Visibility is eventually consistent: ask the CLI until the workflow shows up with the status. */
async function visibleWithStatus(workflowId: string, status: string): Promise<boolean> {
  const query = `LeadStatus="${status}" AND WorkflowId="${workflowId}"`;
  const rows = await waitFor(
    `the CLI to list ${workflowId} with LeadStatus ${status}`,
    () => {
      const out = execFileSync(
        temporalCli(),
        ['workflow', 'list', '--address', testStack().temporalAddress, '--query', query, '--output', 'json'],
        { encoding: 'utf8' },
      );
      return JSON.parse(out || '[]') as { execution: { workflowId: string } }[];
    },
    { until: (found) => found.some((row) => row.execution.workflowId === workflowId) },
  );
  return rows.length > 0;
}

test('a lead created over HTTP is stored, journeys in Temporal, reads its status from the workflow and is found by LeadStatus', async () => {
  const { workspaceId, apiKey } = await registerWorkspace(harness.apiUrl);
  const created = await call(`${harness.apiUrl}/api/v1/leads`, 'POST', apiKey, {
    source: 'website',
    first_name: 'Ada',
    email: 'ada@example.com',
  });
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({ status: 'new', matched: false });
  expect(created.body.workflow_id).toBe(`lead/${workspaceId}/${created.body.id}`);

  const row = await harness.pool.query('SELECT workspace_id, status FROM leads WHERE id = $1', [
    created.body.id,
  ]);
  expect(row.rows).toEqual([{ workspace_id: workspaceId, status: 'new' }]);

  const read = await call(`${harness.apiUrl}/api/v1/leads/${created.body.id}`, 'GET', apiKey);
  expect(read.status).toBe(200);
  expect(read.body).toMatchObject({ id: created.body.id, status: 'new', live: true, source: 'website' });

  await expect(visibleWithStatus(created.body.workflow_id, 'new')).resolves.toBe(true);
  const description = await harness.client.workflow.getHandle(created.body.workflow_id).describe();
  expect(description.status.name).toBe('RUNNING');
  // No personal data in what operators see.
  // Our attributes only: Temporal's own (BuildIds holds a hex hash) may contain any letters.
  const ours = description.typedSearchAttributes
    .getAll()
    .filter((pair) =>
      ['LeadStatus', 'LeadSource', 'WorkspaceId', 'PropertyId', 'NextFollowUpAt'].includes(pair.key.name),
    );
  const attributes = JSON.stringify(ours);
  expect(attributes).toContain(workspaceId);
  expect(attributes).not.toMatch(/ada|example\.com/i);
});

test('health answers and readiness reports Temporal and Postgres reachable', async () => {
  const health = await call(`${harness.apiUrl}/healthz`, 'GET', undefined);
  expect(health).toMatchObject({ status: 200, body: { status: 'ok' } });
  const ready = await call(`${harness.ingestUrl}/readyz`, 'GET', undefined);
  expect(ready).toMatchObject({
    status: 200,
    body: { status: 'ready', checks: { postgres: true, temporal: true } },
  });
});
