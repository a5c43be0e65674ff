// A time-skipping Temporal environment with a worker whose activities use the real test Postgres, a
// workspace with one property, and helpers to start journeys and wait on their state.
import { randomUUID } from 'node:crypto';
import { inspect } from 'node:util';
import type { WorkflowHandle } from '@temporalio/client';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import type pg from 'pg';
import { createActivities, type ActivityDeps } from '../../activities';
import { loadJourneyContext } from '../../activities/db/journey';
import { createOrMatchLead } from '../../data/leads';
import { createPool } from '../../data/pool';
import { createProperty, createWorkspace } from '../../data/workspaces';
import { encryptedDataConverter } from '../../shared/codec';
import { KeyRing } from '../../shared/crypto';
import { leadWorkflowId } from '../../shared/ids';
import type { JourneyView, LeadEvent, LeadJourneyInput } from '../../shared/journey/types';
import { SEARCH_ATTRIBUTES } from '../../shared/searchAttributes';
import { leadJourney } from '../../workflows/leadJourney';
import { leadEventSignal, leadStateQuery } from '../../shared/journey/messages';
import { testStack } from '../setup/stack';
import { journeySummary, waitFor } from './wait';

export type JourneyHandle = WorkflowHandle<typeof leadJourney>;

export interface TimeSkipping {
  env: TestWorkflowEnvironment;
  pool: pg.Pool;
  workspaceId: string;
  /** A property of its own in a zone where it is `hour` o'clock now on the test clock (quiet hours at night). */
  propertyAt(hour: number, name?: string): Promise<string>;
  /** A lead row in Postgres (property `oak`, multifamily, America/Chicago). */
  newLead(extra?: { email?: string; phone?: string; source?: string; propertyId?: string }): Promise<string>;
  /** Signal-with-starts the journey as the services do, with the projection as context. */
  start(leadId: string, first?: LeadEvent, extra?: Partial<LeadJourneyInput>): Promise<JourneyHandle>;
  /** Queries until the state satisfies the predicate with nothing pending (bounded by the test timeout). */
  until(handle: JourneyHandle, predicate: (state: JourneyView) => boolean): Promise<JourneyView>;
  /** Signals an event and waits until the journey decided it and wrote its effects. */
  send(handle: JourneyHandle, event: LeadEvent): Promise<JourneyView>;
  /** Waits until a Postgres query returns rows (bounded by the test timeout). */
  rowsOf(sql: string, params: unknown[]): Promise<Record<string, unknown>[]>;
  /** Stops the worker (as a crash or deploy would between two tasks) and starts a fresh one. */
  restartWorker(): Promise<void>;
  stop(): Promise<void>;
}

let sequence = 0;
/** Distinct, ordered event times. */
export const at = () => new Date(Date.UTC(2026, 0, 1, 12, 0, sequence++)).toISOString();

/** A staff status change as the api sends it (the changeStatus update's request). */
export function staffChange(to: string, extra: Record<string, unknown> = {}) {
  return { requestId: randomUUID(), to: to as never, source: 'staff' as const, occurredAt: at(), ...extra };
}

export function inquiry(eventId = randomUUID()): LeadEvent {
  return { kind: 'inquiry', eventId, occurredAt: at(), source: 'api', channel: 'website' };
}

export async function startTimeSkipping(
  options: {
    notify?: Omit<ActivityDeps, 'pool'>;
    /**
     * No workflow cache, hence no sticky queue: a restarted worker takes over at once. (With a cache, the
     * time-skipping server waits on the dead worker's sticky queue and time stops.)
     */
    restartable?: boolean;
  } = {},
): Promise<TimeSkipping> {
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // Installed by an earlier file in this process.
  }
  const stack = testStack();
  // Payloads encrypted as in production, with a key of this environment's own.
  const dataConverter = encryptedDataConverter(KeyRing.parse(KeyRing.generateSpec('ts')));
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: stack.testServerPath } },
    client: { dataConverter },
  });
  // The time-skipping server, like any Temporal server, needs our search attributes registered first.
  await env.connection.operatorService.addSearchAttributes({
    namespace: 'default',
    searchAttributes: Object.fromEntries(
      SEARCH_ATTRIBUTES.map((key) => [key.name, encodeSearchAttributeIndexedValueType(key.type)!]),
    ),
  });
  const pool = createPool(stack.databaseUrl);
  const taskQueue = `wf-${randomUUID()}`;
  const newWorker = () =>
    Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: { codePath: stack.workflowBundlePath },
      dataConverter,
      activities: createActivities({ pool, ...options.notify }),
      ...(options.restartable ? { maxCachedWorkflows: 0 } : {}),
    });
  let worker = await newWorker();
  let running = worker.run();
  const { workspaceId } = await createWorkspace(pool, {
    name: 'Workflow tests',
    permissions: ['admin'],
    timezone: 'UTC',
  });
  await createProperty(pool, {
    workspaceId,
    propertyId: 'oak',
    name: 'Oak Apartments',
    timezone: 'America/Chicago',
    vertical: 'multifamily',
  });

  const until: TimeSkipping['until'] = (handle, predicate) => {
    let last: JourneyView | undefined;
    return waitFor(
      `journey ${handle.workflowId} to settle with ${predicate.toString()}`,
      async () => {
        // A deadline per query: the time-skipping server can leave a query to a run that just continued as new
        // unanswered, and the next query reaches the new run.
        last = await env.client.connection.withDeadline(Date.now() + 1000, () =>
          handle.query(leadStateQuery),
        );
        return last.pendingEvents === 0 && last.pendingEffects === 0 && predicate(last) ? last : undefined;
      },
      { show: () => inspect(journeySummary(last), { depth: 3, breakLength: 120 }) },
    );
  };

  return {
    env,
    pool,
    workspaceId,
    async propertyAt(hour, name = 'Night Owl Flats') {
      const now = new Date(await env.currentTimeMs());
      const offset = ((now.getUTCHours() - hour + 36) % 24) - 12; // Etc/GMT+N is UTC-N: local hour = UTC - offset
      const zone = offset === 0 ? 'Etc/GMT' : `Etc/GMT${offset > 0 ? '+' : '-'}${Math.abs(offset)}`;
      const propertyId = `at${hour}-${randomUUID().slice(0, 8)}`;
      await createProperty(pool, { workspaceId, propertyId, name, timezone: zone, vertical: 'multifamily' });
      return propertyId;
    },
    async newLead(extra = { email: `${randomUUID()}@example.com` }) {
      const { lead } = await createOrMatchLead(pool, {
        workspaceId,
        propertyId: 'oak',
        source: 'website',
        ...extra,
      });
      return lead.id;
    },
    async start(leadId, first = inquiry(), extra = {}) {
      const context = await loadJourneyContext(pool, { workspaceId, leadId });
      const input: LeadJourneyInput = { workspaceId, leadId, context, ...extra };
      const started = await env.client.workflow.signalWithStart(leadJourney, {
        workflowId: leadWorkflowId(workspaceId, leadId),
        taskQueue,
        args: [input],
        signal: leadEventSignal,
        signalArgs: [first],
      });
      const handle = env.client.workflow.getHandle<typeof leadJourney>(started.workflowId);
      await until(handle, (state) => state.lastEventId !== undefined);
      return handle;
    },
    until,
    async send(handle, event) {
      await handle.signal(leadEventSignal, event);
      return until(handle, (state) => state.lastEventId === event.eventId);
    },
    rowsOf(sql, params) {
      return waitFor(`rows of ${sql} ${JSON.stringify(params ?? [])}`, async () => {
        const { rows } = await pool.query(sql, params);
        return rows.length > 0 ? rows : undefined;
      });
    },
    async restartWorker() {
      worker.shutdown();
      await running;
      worker = await newWorker();
      running = worker.run();
    },
    async stop() {
      worker.shutdown();
      await running;
      await env.teardown();
      await pool.end();
    },
  };
}
