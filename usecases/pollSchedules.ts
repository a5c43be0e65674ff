// Temporal Schedules that poll partners: one per integration of a partner whose adapter can fetch
// (`poll/<integrationId>`), kept in step with the integration by the api (created, re-timed, paused, deleted)
// and reconciled at worker start. Each action runs the `pollIntegration` workflow.
import { createHash } from 'node:crypto';
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleDescription,
  type ScheduleHandle,
  type ScheduleOptions,
} from '@temporalio/client';
import type pg from 'pg';
import type { Logger } from 'pino';
import { integrationStates, listIntegrationsOfPartners, type IntegrationRecord } from '../data/integrations';
import { partnerAdapter } from '../activities/partners';
import { isPollable, pollIntervalMinutes } from '../activities/partners/templates';
import { isUuid } from '../shared/ids';
import { PARTNERS } from '../shared/lifecycle';
import { WorkspaceIdAttribute } from '../shared/searchAttributes';
import type { PollIntegrationInput } from '../shared/journey/messages';

export interface ScheduleDeps {
  client: Client;
  /** Where the poll workflows run: the worker's task queue. */
  taskQueue: string;
  logger?: Logger;
}

const PREFIX = 'poll/';

/** Schedule id of an integration's polls; also the prefix of each poll's workflow id (Temporal adds the time). */
export function pollScheduleId(integrationId: string): string {
  return `${PREFIX}${integrationId}`;
}

type ScheduleTarget = Pick<
  IntegrationRecord,
  'id' | 'workspace_id' | 'partner' | 'config' | 'status' | 'has_credentials'
>;

/**
 * Whether an integration is polled: its partner's adapter fetches, it holds credentials (every partner API
 * wants them; a ResMan relay without them only receives webhooks), and its config does not say
 * `polling: false` (referral communities poll only when they opt in, as the adapter's schema defaults it).
 */
export function pollsFor(
  integration: Pick<IntegrationRecord, 'partner' | 'has_credentials' | 'config'>,
): boolean {
  if (!isPollable(integration.partner) || !integration.has_credentials) return false;
  const parsed = partnerAdapter(integration.partner)?.integration.config?.safeParse(integration.config);
  const config = parsed?.success ? (parsed.data as Record<string, unknown>) : integration.config;
  return config.polling !== false;
}

/**
 * Where in each interval this integration polls: a fixed offset from its id, so a thousand integrations of
 * one partner do not all call it in the same second.
 */
function offsetMs(integrationId: string, everyMs: number): number {
  const hash = createHash('sha256').update(integrationId).digest().readUInt32BE(0);
  return (hash % Math.floor(everyMs / 1000)) * 1000;
}

function scheduleOptions(deps: ScheduleDeps, integration: ScheduleTarget) {
  const everyMs = pollIntervalMinutes(integration.partner, integration.config) * 60_000;
  const input: PollIntegrationInput = {
    integrationId: integration.id,
    workspaceId: integration.workspace_id,
  };
  return {
    spec: { intervals: [{ every: everyMs, offset: offsetMs(integration.id, everyMs) }] },
    action: {
      type: 'startWorkflow' as const,
      workflowType: 'pollIntegration',
      taskQueue: deps.taskQueue,
      workflowId: pollScheduleId(integration.id),
      args: [input],
      // A poll never outlives a few intervals: a stuck one must not hold the schedule (overlap SKIP) forever.
      workflowRunTimeout: '1 hour',
      staticSummary: `Poll ${integration.partner} integration ${integration.id}`,
      typedSearchAttributes: [{ key: WorkspaceIdAttribute, value: integration.workspace_id }],
    },
    policies: {
      // A poll still running when the next is due is doing that work already.
      overlap: ScheduleOverlapPolicy.SKIP,
      // Missed polls need no catching up: the next one starts from the cursor and fetches everything since.
      catchupWindow: '1 minute',
      pauseOnFailure: false,
    },
    state: {
      paused: integration.status !== 'active',
      note: integration.status === 'active' ? 'polling' : `integration is ${integration.status}`,
    },
  } satisfies Omit<ScheduleOptions, 'scheduleId'>;
}

export type ScheduleChange = 'created' | 'updated' | 'deleted' | 'none';

/** Makes the integration's schedule match it: exists iff it is polled (pollsFor) and not deleted. */
export async function syncPollSchedule(
  deps: ScheduleDeps,
  integration: ScheduleTarget,
): Promise<ScheduleChange> {
  if (!pollsFor(integration) || integration.status === 'deleted') {
    return (await deletePollSchedule(deps.client, integration.id)) ? 'deleted' : 'none';
  }
  const options = scheduleOptions(deps, integration);
  const scheduleId = pollScheduleId(integration.id);
  try {
    await deps.client.schedule.create({ scheduleId, ...options });
    return 'created';
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
  await deps.client.schedule.getHandle(scheduleId).update((previous) => ({
    spec: options.spec,
    action: options.action,
    policies: options.policies,
    state: { ...options.state, remainingActions: previous.state.remainingActions },
  }));
  return 'updated';
}

/** Deletes the schedule; answers false when there was none. */
export async function deletePollSchedule(client: Client, integrationId: string): Promise<boolean> {
  try {
    await client.schedule.getHandle(pollScheduleId(integrationId)).delete();
    return true;
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) return false;
    throw error;
  }
}

export interface PollScheduleState {
  schedule_id: string;
  /** scheduled: polls run on time; paused: none run; missing: there is no schedule (reconciled at worker start). */
  state: 'scheduled' | 'paused' | 'missing' | 'unknown';
  interval_minutes: number | null;
  next_run_at: string | null;
  last_run_at: string | null;
  running_workflow_id: string | null;
}

function stateOf(scheduleId: string, description: ScheduleDescription): PollScheduleState {
  const interval = description.spec.intervals?.[0]?.every;
  const recent = description.info.recentActions.at(-1);
  return {
    schedule_id: scheduleId,
    state: description.state.paused ? 'paused' : 'scheduled',
    interval_minutes: typeof interval === 'number' ? Math.round(interval / 60_000) : null,
    next_run_at: description.state.paused
      ? null
      : (description.info.nextActionTimes[0]?.toISOString() ?? null),
    last_run_at: recent?.takenAt.toISOString() ?? null,
    running_workflow_id: description.info.runningActions[0]?.workflow.workflowId ?? null,
  };
}

/** The schedule's state for health; `unknown` when Temporal cannot be asked right now. */
export async function describePollSchedule(
  client: Client,
  integrationId: string,
): Promise<PollScheduleState> {
  const scheduleId = pollScheduleId(integrationId);
  const blank = {
    schedule_id: scheduleId,
    interval_minutes: null,
    next_run_at: null,
    last_run_at: null,
    running_workflow_id: null,
  };
  try {
    return stateOf(scheduleId, await client.schedule.getHandle(scheduleId).describe());
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) return { ...blank, state: 'missing' };
    return { ...blank, state: 'unknown' };
  }
}

/** How long `triggerPoll` waits to see the run the trigger started before answering without its id. */
const TRIGGER_WAIT_MS = 10_000;
const TRIGGER_PROBE_MS = 100;

/** One run a schedule started: Temporal reuses a workflow id within the same second, so the run id tells them apart. */
export interface PollRun {
  workflowId: string;
  runId: string;
}

type ActionResult = ScheduleDescription['info']['runningActions'][number];
const runOf = (action: ActionResult): PollRun => ({
  workflowId: action.workflow.workflowId,
  runId: action.workflow.firstExecutionRunId,
});

/**
 * Runs a poll now through the schedule (its overlap policy holds: a poll already running is answered instead
 * of starting a second). Answers the poll's run once the scheduler has started it (null if not seen in time).
 */
export async function triggerPoll(
  client: Client,
  integrationId: string,
): Promise<{ run: PollRun | null; alreadyRunning: boolean }> {
  const handle = client.schedule.getHandle(pollScheduleId(integrationId));
  const before = await handle.describe();
  const running = before.info.runningActions[0];
  if (running) return { run: runOf(running), alreadyRunning: true };
  const seen = new Set(before.info.recentActions.map((a) => runOf(a.action).runId));
  await handle.trigger(ScheduleOverlapPolicy.SKIP);
  return { run: await newRun(handle, seen), alreadyRunning: false };
}

/** The scheduler starts a triggered run asynchronously: wait (briefly) until it shows in the description. */
async function newRun(handle: ScheduleHandle, seen: Set<string>): Promise<PollRun | null> {
  const deadline = Date.now() + TRIGGER_WAIT_MS;
  while (Date.now() < deadline) {
    const { info } = await handle.describe();
    const started = [...info.runningActions, ...info.recentActions.map((a) => a.action)]
      .map(runOf)
      .find((run) => !seen.has(run.runId));
    if (started) return started;
    await new Promise((resolveLater) => setTimeout(resolveLater, TRIGGER_PROBE_MS));
  }
  return null;
}

export interface ReconcileReport {
  created: number;
  updated: number;
  deleted: number;
  failed: number;
}

/**
 * Every integration of a polled partner gets its schedule, as it should be (interval, paused, task queue), and
 * schedules of deleted or no-longer-polled integrations go. Run at worker start; schedules whose integration
 * this database does not know are left alone (another deployment may share the namespace).
 */
export async function ensurePollSchedules(
  deps: ScheduleDeps & { pool: pg.Pool },
  options: { workspaceId?: string } = {},
): Promise<ReconcileReport> {
  const report: ReconcileReport = { created: 0, updated: 0, deleted: 0, failed: 0 };
  const partners = PARTNERS.filter((partner) => isPollable(partner));
  const integrations = await listIntegrationsOfPartners(deps.pool, partners, options.workspaceId);
  for (const integration of integrations) {
    try {
      const change = await syncPollSchedule(deps, integration);
      if (change !== 'none') report[change] += 1;
    } catch (error) {
      report.failed += 1;
      deps.logger?.warn({ err: error, integrationId: integration.id }, 'poll schedule not reconciled');
    }
  }
  const scheduled: string[] = [];
  for await (const summary of deps.client.schedule.list()) {
    if (summary.scheduleId.startsWith(PREFIX)) scheduled.push(summary.scheduleId.slice(PREFIX.length));
  }
  const known = await integrationStates(deps.pool, scheduled.filter(isUuid));
  for (const [id, state] of known) {
    if (!state.deleted && partners.includes(state.partner)) continue;
    if (await deletePollSchedule(deps.client, id)) report.deleted += 1;
  }
  return report;
}
