// Journey behaviour that needs the real dev server: continue-as-new under a small history threshold, and
// effects recorded in the order they were decided.
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { loadJourneyContext } from '../../activities/db/journey';
import { createOrMatchLead } from '../../data/leads';
import { createWorkspace } from '../../data/workspaces';
import { leadWorkflowId } from '../../shared/ids';
import type { JourneyView, LeadEvent } from '../../shared/journey/types';
import { type leadJourney } from '../../workflows/leadJourney';
import { changeStatusUpdate, leadEventSignal } from '../../shared/journey/messages';
import { startHarness, type Harness } from '../support/harness';
import { settledJourney } from '../support/ingest';

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness();
});
afterAll(async () => {
  await harness?.stop();
});

function until(handle: WorkflowHandle<typeof leadJourney>, predicate: (s: JourneyView) => boolean) {
  return settledJourney(harness.client, handle.workflowId, predicate, predicate.toString());
}

test('a long journey continues as new carrying its state and remembered event ids', async () => {
  const { workspaceId } = await createWorkspace(harness.pool, {
    name: 'CAN',
    permissions: ['admin'],
    timezone: 'UTC',
  });
  const { lead } = await createOrMatchLead(harness.pool, {
    workspaceId,
    source: 'website',
    email: `${randomUUID()}@example.com`,
  });
  const context = await loadJourneyContext(harness.pool, { workspaceId, leadId: lead.id });
  const inquiry: LeadEvent = {
    kind: 'inquiry',
    eventId: randomUUID(),
    occurredAt: new Date().toISOString(),
    source: 'api',
  };
  const started = await harness.client.workflow.signalWithStart<typeof leadJourney, [LeadEvent]>(
    'leadJourney',
    {
      workflowId: leadWorkflowId(workspaceId, lead.id),
      taskQueue: harness.taskQueue,
      args: [{ workspaceId, leadId: lead.id, context, historyLimit: 40 }],
      signal: leadEventSignal,
      signalArgs: [inquiry],
    },
  );
  const handle = harness.client.workflow.getHandle<typeof leadJourney>(started.workflowId);
  const firstRun = (await handle.describe()).runId;
  for (let i = 0; i < 30; i++) {
    const note: LeadEvent = {
      kind: 'note',
      noteId: `n${i}`,
      eventId: `note-${i}`,
      occurredAt: new Date().toISOString(),
      source: 'staff',
    };
    await handle.signal(leadEventSignal, note);
    await until(handle, (s) => s.lastEventId === note.eventId);
  }
  await handle.executeUpdate(changeStatusUpdate, {
    args: [
      { requestId: randomUUID(), to: 'contacted', source: 'staff', occurredAt: new Date().toISOString() },
    ],
  });
  expect((await handle.describe()).runId).not.toBe(firstRun);
  // A note id from the first run is still known to the latest one: the repeat changes nothing.
  await handle.signal(leadEventSignal, {
    kind: 'note',
    noteId: 'n0',
    eventId: 'note-0',
    occurredAt: new Date().toISOString(),
    source: 'staff',
  });
  const marker: LeadEvent = {
    kind: 'note',
    noteId: 'last',
    eventId: 'note-last',
    occurredAt: new Date().toISOString(),
    source: 'staff',
  };
  await handle.signal(leadEventSignal, marker);
  const state = await until(handle, (s) => s.lastEventId === marker.eventId);
  expect(state).toMatchObject({ status: 'contacted', counters: expect.objectContaining({ notes: 31 }) });
  const runs = await harness.client.workflowService.listWorkflowExecutions({
    namespace: 'default',
    query: `WorkflowId = "${handle.workflowId}"`,
  });
  expect(runs.executions?.length).toBeGreaterThan(1);
});

test('a status change decided while the inquiry is still being recorded is recorded after it', async () => {
  // The api answers an inquiry before the journey has written it; a staff change arriving at once is decided at
  // once, and its outbox events must still follow the inquiry's (webhook receivers see them in that order).
  const { workspaceId } = await createWorkspace(harness.pool, {
    name: 'Order',
    permissions: ['admin'],
    timezone: 'UTC',
  });
  const leads = await Promise.all(
    Array.from({ length: 30 }, async () => {
      const { lead } = await createOrMatchLead(harness.pool, {
        workspaceId,
        source: 'website',
        email: `${randomUUID()}@example.com`,
      });
      await harness.journeys.send(
        { workspaceId, leadId: lead.id, source: 'website' },
        { kind: 'inquiry', eventId: randomUUID(), occurredAt: new Date().toISOString(), source: 'api' },
        await loadJourneyContext(harness.pool, { workspaceId, leadId: lead.id }),
      );
      await harness.journeys.changeStatus(workspaceId, lead.id, {
        requestId: randomUUID(),
        to: 'contacted',
        source: 'staff',
        occurredAt: new Date().toISOString(),
      });
      return lead.id;
    }),
  );
  for (const leadId of leads) {
    await until(harness.journeys.handle(workspaceId, leadId), (s) => s.status === 'contacted');
  }
  const { rows } = await harness.pool.query<{ lead_id: string; types: string[] }>(
    `SELECT lead_id, array_agg(event_type ORDER BY seq) AS types FROM outbox_events
      WHERE workspace_id = $1 GROUP BY lead_id`,
    [workspaceId],
  );
  expect(rows).toHaveLength(leads.length);
  const outOfOrder = rows.filter((row) => row.types.join(',') !== 'lead.created,lead.status_changed');
  expect(outOfOrder).toEqual([]);
});
