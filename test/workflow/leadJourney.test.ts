// The journey workflow in Temporal's time-skipping environment, with its activities on the real test
// Postgres: events, the changeStatus update and its validator, partner jumps and conflicts, terminal
// statuses, new journeys and continue-as-new.
import { randomUUID } from 'node:crypto';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import type pg from 'pg';
import { createActivities } from '../../activities';
import { loadJourneyContext } from '../../activities/db/journey';
import { createOrMatchLead } from '../../activities/db/leads';
import { createPool } from '../../activities/db/pool';
import { createWorkspace, createProperty } from '../../activities/db/workspaces';
import type { JourneyView, LeadEvent, LeadJourneyInput } from '../../shared/journey/types';
import { leadWorkflowId } from '../../shared/ids';
import { SEARCH_ATTRIBUTES } from '../../shared/searchAttributes';
import {
  changeStatusUpdate,
  leadEventSignal,
  leadJourney,
  leadStateQuery,
} from '../../workflows/leadJourney';
import { testStack } from '../setup/stack';

let env: TestWorkflowEnvironment;
let pool: pg.Pool;
let worker: Worker;
let running: Promise<void>;
let workspaceId: string;
const taskQueue = `wf-${randomUUID()}`;

beforeAll(async () => {
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // Installed by an earlier file in this process.
  }
  const stack = testStack();
  env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: stack.testServerPath } },
  });
  // The time-skipping server, like any Temporal server, needs our search attributes registered first.
  await env.connection.operatorService.addSearchAttributes({
    namespace: 'default',
    searchAttributes: Object.fromEntries(
      SEARCH_ATTRIBUTES.map((key) => [key.name, encodeSearchAttributeIndexedValueType(key.type)!]),
    ),
  });
  pool = createPool(stack.databaseUrl);
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: { codePath: stack.workflowBundlePath },
    activities: createActivities({ pool }),
  });
  running = worker.run();
  ({ workspaceId } = await createWorkspace(pool, {
    name: 'Workflow tests',
    permissions: ['admin'],
    timezone: 'UTC',
  }));
  await createProperty(pool, {
    workspaceId,
    propertyId: 'oak',
    name: 'Oak Apartments',
    timezone: 'America/Chicago',
    vertical: 'multifamily',
  });
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
  await pool?.end();
});

let sequence = 0;
const at = () => new Date(Date.UTC(2026, 0, 1, 12, 0, sequence++)).toISOString();

async function newLead(extra: { email?: string; phone?: string } = { email: `${randomUUID()}@example.com` }) {
  const { lead } = await createOrMatchLead(pool, {
    workspaceId,
    propertyId: 'oak',
    source: 'website',
    ...extra,
  });
  return lead.id;
}

function inquiry(eventId = randomUUID()): LeadEvent {
  return { kind: 'inquiry', eventId, occurredAt: at(), source: 'api', channel: 'website' };
}

async function start(leadId: string, first: LeadEvent = inquiry(), extra: Partial<LeadJourneyInput> = {}) {
  // As the services do: the starter hands the run its projection, so queries answer at once.
  const context = await loadJourneyContext(pool, { workspaceId, leadId });
  const input: LeadJourneyInput = { workspaceId, leadId, context, ...extra };
  return env.client.workflow.signalWithStart(leadJourney, {
    workflowId: leadWorkflowId(workspaceId, leadId),
    taskQueue,
    args: [input],
    signal: leadEventSignal,
    signalArgs: [first],
  });
}

async function history(leadId: string) {
  const { rows } = await pool.query(
    `SELECT entry_type, old_status, new_status, source, journey, seq, reason FROM status_history
      WHERE lead_id = $1 ORDER BY journey, seq`,
    [leadId],
  );
  return rows;
}

function change(to: string, extra: Record<string, unknown> = {}) {
  return {
    requestId: randomUUID(),
    to: to as never,
    source: 'staff' as const,
    occurredAt: at(),
    ...extra,
  };
}

type Handle = WorkflowHandle<typeof leadJourney>;

/** Queries until the journey's state satisfies the predicate with no effects in flight (bounded by the test timeout). */
async function until(handle: Handle, predicate: (state: JourneyView) => boolean): Promise<JourneyView> {
  for (;;) {
    // A deadline per query: the time-skipping server can leave a query to a run that just continued as new
    // unanswered, and the next query reaches the new run.
    const state = await env.client.connection
      .withDeadline(Date.now() + 1000, () => handle.query(leadStateQuery))
      .catch(() => undefined);
    if (state && state.pendingEvents === 0 && state.pendingEffects === 0 && predicate(state)) return state;
    await new Promise((r) => setImmediate(r));
  }
}

/** Signals an event and waits until the journey has decided it and written its effects. */
async function send(handle: Handle, event: LeadEvent) {
  await handle.signal(leadEventSignal, event);
  return until(handle, (state) => state.lastEventId === event.eventId);
}

test('a staff change is applied through the update and answers seed 001 UpdateStatusResponse', async () => {
  const leadId = await newLead();
  const handle = await start(leadId);
  const result = await handle.executeUpdate(changeStatusUpdate, {
    args: [change('contacted', { reason: 'called back' })],
  });
  expect(result).toMatchObject({
    success: true,
    new_status: 'contacted',
    notifications_sent: 0,
    workflow_actions_triggered: [],
  });
  expect(await history(leadId)).toEqual([
    expect.objectContaining({ entry_type: 'applied', old_status: null, new_status: 'new', seq: 1 }),
    expect.objectContaining({
      entry_type: 'applied',
      old_status: 'new',
      new_status: 'contacted',
      seq: 2,
      reason: 'called back',
    }),
  ]);
  const state = await handle.query(leadStateQuery);
  expect(state).toMatchObject({ status: 'contacted', allowedNext: ['qualified', 'tour_scheduled', 'lost'] });
});

test('the validator refuses tour_scheduled → new style jumps with the allowed list before anything is written', async () => {
  const leadId = await newLead();
  const first = inquiry();
  const handle = await start(leadId, first);
  await until(handle, (state) => state.lastEventId === first.eventId);
  const before = await history(leadId);
  const error = await handle
    .executeUpdate(changeStatusUpdate, { args: [change('toured')] })
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
  const cause = (error as WorkflowUpdateFailedError).cause as ApplicationFailure;
  expect(cause.type).toBe('invalid_transition');
  expect(cause.details?.[0]).toEqual({
    from: 'new',
    to: 'toured',
    allowed: ['contacted', 'qualified', 'tour_scheduled', 'lost'],
  });
  expect(await history(leadId)).toEqual(before);
  // Rejected updates leave no event in the workflow history either.
  const events = (await handle.fetchHistory()).events ?? [];
  expect(events.some((e) => e.workflowExecutionUpdateAcceptedEventAttributes)).toBe(false);
});

test('a required field is named: tour_scheduled needs a tour time, which the change may carry', async () => {
  const leadId = await newLead();
  const handle = await start(leadId);
  const error = await handle
    .executeUpdate(changeStatusUpdate, { args: [change('tour_scheduled')] })
    .catch((e: unknown) => e);
  const cause = (error as WorkflowUpdateFailedError).cause as ApplicationFailure;
  expect(cause.type).toBe('missing_fields');
  expect(cause.details?.[0]).toEqual({ status: 'tour_scheduled', missing: ['tour_at'] });
  const ok = await handle.executeUpdate(changeStatusUpdate, {
    args: [change('tour_scheduled', { facts: { tourAt: '2026-02-01T15:00:00Z' } })],
  });
  expect(ok.new_status).toBe('tour_scheduled');
});

test('a repeated event id changes nothing', async () => {
  const leadId = await newLead();
  const handle = await start(leadId);
  const event: LeadEvent = {
    kind: 'partner_status',
    partner: 'resman',
    value: 'contacted',
    eventId: 'resman-1',
    occurredAt: at(),
    source: 'partner:resman',
  };
  await send(handle, event);
  await send(handle, event);
  const state = await send(handle, { ...event, value: 'qualified' });
  expect(state.status).toBe('contacted');
  expect((await history(leadId)).map((r) => r.new_status)).toEqual(['new', 'contacted']);
});

test('a partner jumping forward is applied with the skipped stages recorded', async () => {
  const leadId = await newLead();
  const handle = await start(leadId);
  const state = await send(handle, {
    kind: 'partner_status',
    partner: 'resman',
    value: 'application',
    eventId: randomUUID(),
    occurredAt: at(),
    source: 'partner:resman',
  });
  expect(state.status).toBe('application');
  expect((await history(leadId)).map((r) => [r.entry_type, r.old_status, r.new_status])).toEqual([
    ['applied', null, 'new'],
    ['skipped', 'new', 'contacted'],
    ['skipped', 'new', 'qualified'],
    ['skipped', 'new', 'tour_scheduled'],
    ['skipped', 'new', 'toured'],
    ['applied', 'new', 'application'],
  ]);
});

test('a partner moving backward is recorded as a conflict, not applied, and staff get a task', async () => {
  const leadId = await newLead();
  const handle = await start(leadId);
  await handle.executeUpdate(changeStatusUpdate, { args: [change('qualified')] });
  const state = await send(handle, {
    kind: 'partner_status',
    partner: 'resman',
    value: 'contacted',
    eventId: randomUUID(),
    occurredAt: at(),
    source: 'partner:resman',
  });
  expect(state.status).toBe('qualified');
  const rows = await history(leadId);
  expect(rows[rows.length - 1]).toMatchObject({
    entry_type: 'conflict',
    old_status: 'qualified',
    new_status: 'contacted',
  });
  const tasks = await pool.query('SELECT kind, details FROM staff_tasks WHERE lead_id = $1', [leadId]);
  expect(tasks.rows).toEqual([expect.objectContaining({ kind: 'partner_conflict' })]);
});

test('a terminal status ends the run; a later inquiry starts journey 2 under the same workflow id', async () => {
  const leadId = await newLead();
  const handle = await start(leadId);
  await handle.executeUpdate(changeStatusUpdate, {
    args: [change('lost', { reason: 'chose another community' })],
  });
  const ended = await handle.result();
  expect(ended).toMatchObject({ status: 'lost', journey: 1 });

  const next = await start(leadId, inquiry());
  expect(next.workflowId).toBe(handle.workflowId);
  const state = await until(next, (s) => s.journey === 2);
  expect(state).toMatchObject({ status: 'new', journey: 2 });
  const rows = await history(leadId);
  expect(rows.map((r) => [r.journey, r.old_status, r.new_status])).toEqual([
    [1, null, 'new'],
    [1, 'new', 'lost'],
    [2, null, 'new'],
  ]);
  const projection = await loadJourneyContext(pool, { workspaceId, leadId });
  expect(projection).toMatchObject({ status: 'new', journey: 2 });
});

test('an inquiry arriving while the ending run still works opens the next journey through continue-as-new', async () => {
  const leadId = await newLead();
  const handle = await start(leadId);
  await handle.signal(leadEventSignal, {
    kind: 'partner_status',
    partner: 'resman',
    value: 'lost',
    eventId: randomUUID(),
    occurredAt: at(),
    source: 'partner:resman',
  });
  // As ingest does, without waiting: the inquiry reaches the ending run (which continues as new into journey 2)
  // or, if that run already closed, starts a new one. Either way: journey 2 at status new, journey 1 kept.
  await start(leadId, inquiry());
  const state = await until(
    env.client.workflow.getHandle<typeof leadJourney>(handle.workflowId),
    (s) => s.journey === 2,
  );
  expect(state).toMatchObject({ journey: 2, status: 'new' });
  expect((await history(leadId)).map((r) => [r.journey, r.new_status])).toEqual([
    [1, 'new'],
    [1, 'lost'],
    [2, 'new'],
  ]);
});

test('a long journey continues as new carrying its state and remembered event ids', async () => {
  const leadId = await newLead();
  const handle = await start(leadId, inquiry(), { historyLimit: 40 });
  const first = (await handle.describe()).runId;
  for (let i = 0; i < 30; i++) {
    await send(handle, {
      kind: 'note',
      noteId: `n${i}`,
      eventId: `note-${i}`,
      occurredAt: at(),
      source: 'staff',
    });
  }
  await env.client.workflow
    .getHandle<typeof leadJourney>(handle.workflowId)
    .executeUpdate(changeStatusUpdate, { args: [change('contacted')] });
  const latest = env.client.workflow.getHandle<typeof leadJourney>(handle.workflowId);
  const description = await latest.describe();
  expect(description.runId).not.toBe(first);
  // A note id from the first run is still known to the new one.
  const state = await send(latest, {
    kind: 'note',
    noteId: 'n0',
    eventId: 'note-0',
    occurredAt: at(),
    source: 'staff',
  });
  expect(state).toMatchObject({ status: 'contacted', counters: expect.objectContaining({ notes: 30 }) });
});
