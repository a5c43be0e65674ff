// The journey workflow in Temporal's time-skipping environment, with its activities on the real test
// Postgres: events, the changeStatus update and its validator, partner jumps and conflicts, terminal
// statuses, new journeys and continue-as-new.
import { randomUUID } from 'node:crypto';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, type Payload } from '@temporalio/common';
import type { LeadEvent } from '../../shared/journey/types';
import { loadJourneyContext } from '../../activities/db/journey';
import { changeStatusUpdate, leadEventSignal, leadStateQuery } from '../../shared/journey/messages';
import { at, inquiry, startTimeSkipping, type TimeSkipping } from '../support/timeSkipping';
import { decodedPayloads, scheduledActivities } from '../support/history';

let ts: TimeSkipping;
beforeAll(async () => {
  ts = await startTimeSkipping();
});
afterAll(async () => {
  await ts?.stop();
});

const newLead = (extra?: { email?: string; phone?: string }) => ts.newLead(extra);
const start: TimeSkipping['start'] = (...args) => ts.start(...args);
const send: TimeSkipping['send'] = (...args) => ts.send(...args);

async function history(leadId: string) {
  const { rows } = await ts.pool.query(
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

const until: TimeSkipping['until'] = (...args) => ts.until(...args);

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
  const tasks = await ts.pool.query('SELECT kind, details FROM staff_tasks WHERE lead_id = $1', [leadId]);
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
  const projection = await loadJourneyContext(ts.pool, { workspaceId: ts.workspaceId, leadId });
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
  const state = await until(handle, (s) => s.journey === 2);
  expect(state).toMatchObject({ journey: 2, status: 'new' });
  expect((await history(leadId)).map((r) => [r.journey, r.new_status])).toEqual([
    [1, 'new'],
    [1, 'lost'],
    [2, 'new'],
  ]);
});

test('a new journey records one patch marker and upserts a search attribute only when its value changes', async () => {
  const leadId = await newLead();
  const handle = await start(leadId);
  await handle.executeUpdate(changeStatusUpdate, { args: [change('contacted')] });
  await handle.executeUpdate(changeStatusUpdate, { args: [change('qualified')] });
  const { events } = await handle.fetchHistory();
  const decode = (fields: Record<string, { data?: Uint8Array | null }> | null | undefined) =>
    Object.fromEntries(
      Object.entries(fields ?? {}).map(([name, payload]) => [
        name,
        JSON.stringify(JSON.parse(Buffer.from(payload.data ?? []).toString() || 'null')),
      ]),
    );

  const markers = (events ?? []).filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch');
  // fewer-tasks implies every patch before it (first-read, compact-history the six before that, live-policy and
  // sequences).
  const ids = markers.map(
    (m) =>
      (
        JSON.parse(
          Buffer.from(
            m.markerRecordedEventAttributes!.details!['patch-data']!.payloads![0]!.data!,
          ).toString(),
        ) as {
          id: string;
        }
      ).id,
  );
  expect(ids).toEqual(['fewer-tasks']);

  // Every upsert names only attributes whose value differs from what the run already has (from its start on).
  const known: Record<string, string> = decode(
    events?.[0]?.workflowExecutionStartedEventAttributes?.searchAttributes?.indexedFields as never,
  );
  const upserts = (events ?? []).flatMap((e) =>
    e.upsertWorkflowSearchAttributesEventAttributes
      ? [decode(e.upsertWorkflowSearchAttributesEventAttributes.searchAttributes?.indexedFields as never)]
      : [],
  );
  for (const upsert of upserts) {
    for (const [name, value] of Object.entries(upsert)) {
      expect(`${name}=${value}`).not.toBe(`${name}=${known[name]}`);
      known[name] = value;
    }
  }
  // The SDK's own upserts of the patches (TemporalChangeVersion) aside: one upsert per decision (this start carried
  // no attributes), each with its follow-up deadline in it.
  const ours = upserts.filter((u) => Object.keys(u).some((name) => name !== 'TemporalChangeVersion'));
  expect(upserts.length - ours.length).toBeLessThanOrEqual(markers.length);
  expect(ours.map((u) => u.LeadStatus)).toEqual(['"new"', '"contacted"', '"qualified"']);
});

test('a journey started without its context, as ingest starts it, reads the live policy for its inquiry with the context: no activity of its own', async () => {
  const leadId = await newLead();
  const handle = await start(leadId, inquiry(), { context: undefined });
  const { events } = await handle.fetchHistory();
  const scheduled = scheduledActivities(events);
  // Load, then record (which matches the inquiry's sequence triggers too): no read of the policy of its own.
  expect(scheduled).toEqual(['loadJourneyContext', 'recordJourneyChange']);
  const completed = (events ?? []).flatMap((e) =>
    e.activityTaskCompletedEventAttributes ? [e.activityTaskCompletedEventAttributes] : [],
  );
  const [loaded] = await decodedPayloads(ts.env.client, completed[0]!.result!.payloads! as Payload[]);
  // The live parts came with the load, read for the lead's property (Oak's zone, not the workspace's UTC).
  expect(loaded).toMatchObject({
    propertyId: 'oak',
    live: { timeZone: 'America/Chicago' },
  });
  expect(await handle.query(leadStateQuery)).toMatchObject({ status: 'new' });

  // A later event reads the live policy itself, as every decided event does.
  await send(handle, inquiry());
  const after = (await handle.fetchHistory()).events ?? [];
  const more = scheduledActivities(after);
  expect(more.slice(scheduled.length)[0]).toBe('currentPolicy');
});

test('a journey whose starter read its policy with the inquiry decides it with that read: one activity for a new lead', async () => {
  const leadId = await newLead();
  const first = inquiry();
  const context = await loadJourneyContext(ts.pool, { workspaceId: ts.workspaceId, leadId });
  // What the starter read when it stored the inquiry: a partner Postgres does not have connected, so its push
  // shows the read was used as it was.
  const handle = await start(leadId, first, {
    context: { ...context, policy: { ...context.policy, connectedPartners: ['hubspot'] } },
    policyReadFor: first.eventId,
  });
  const scheduledOf = async () => scheduledActivities((await handle.fetchHistory()).events);
  const syncs = await ts.rowsOf(`SELECT partner, status FROM partner_syncs WHERE lead_id = $1`, [leadId]);
  expect(syncs).toEqual([{ partner: 'hubspot', status: 'new' }]);
  // No policy read and no sequence match of its own (the record answered the match): the record, then the push.
  const scheduled = await scheduledOf();
  expect(scheduled[0]).toBe('recordJourneyChange');
  expect(scheduled).not.toContain('currentPolicy');
  expect(scheduled).not.toContain('matchSequences');

  // The read was for that inquiry only: the next one reads today's policy.
  await send(handle, inquiry());
  expect((await scheduledOf()).slice(scheduled.length)).toContain('currentPolicy');
});

test('a read named for another event is not taken: the inquiry reads its own policy', async () => {
  const leadId = await newLead();
  const handle = await start(leadId, inquiry(), { policyReadFor: randomUUID() });
  const { events } = await handle.fetchHistory();
  const scheduled = scheduledActivities(events);
  expect(scheduled).toEqual(['currentPolicy', 'recordJourneyChange']);
});
