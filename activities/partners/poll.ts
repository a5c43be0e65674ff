// The `pollIntegration` activity: one poll of a partner for new leads and changes, page by page from the saved
// cursor. Every fetched event goes through the same inbox (deduplicated by integration + partner event id) and
// the same delivery as a webhook; the cursor is saved after each page, so a restart resumes, never repeats.
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { KeyRing } from '../../shared/crypto';
import { idempotencyKey } from '../../shared/ids';
import { deliverInboxEvent, type DeliveryDeps } from '../../usecases/inbox';
import { JourneyClient } from '../../usecases/journeys';
import { deletePollSchedule, pollScheduleId } from '../../usecases/pollSchedules';
import { storable, storeInboxEvent, type InboxStatus } from '../../data/inbox';
import {
  loadIntegrationSecrets,
  readPollCursor,
  recordPollFailure,
  recordPollRetry,
  recordPollSuccess,
  savePollCursor,
  type IntegrationWithSecrets,
} from '../../data/integrations';
import { getProperty } from '../../data/workspaces';
import { PartnerError } from './http';
import { partnerAdapter } from './index';
import { partnerConnection } from './connection';
import type { FetchResult, InboundEvent } from './types';

export interface PollDeps {
  pool: pg.Pool;
  keyRing?: KeyRing;
  /** Signal-with-start of journeys, and the integration's schedule. */
  temporal?: Client;
  fetch?: typeof fetch;
  partnerTimeoutMs?: number;
  logger?: Logger;
  /** Pages fetched by one activity run before it hands back (`more: true`) so the workflow calls it again. */
  maxPages?: number;
}

export interface PollArgs {
  integrationId: string;
}

export interface PollResult {
  /** polled: the partner answered; skipped: nothing to poll (paused, in error, deleted); failed: a final refusal. */
  outcome: 'polled' | 'skipped' | 'failed';
  detail?: string;
  pages: number;
  /** Events the partner sent, including ones already in the inbox. */
  fetched: number;
  duplicates: number;
  /** New (or still pending) events by what delivery made of them. */
  delivered: Record<InboxStatus, number>;
  /** The partner has more right now: poll again. */
  more: boolean;
}

const DEFAULT_MAX_PAGES = 20;

const emptyResult = (outcome: PollResult['outcome'], detail?: string): PollResult => ({
  outcome,
  ...(detail ? { detail } : {}),
  pages: 0,
  fetched: 0,
  duplicates: 0,
  delivered: { pending: 0, delivered: 0, unmatched: 0, ignored: 0, failed: 0 },
  more: false,
});

export async function pollIntegration(deps: PollDeps, args: PollArgs): Promise<PollResult> {
  if (!deps.keyRing || !deps.temporal) {
    throw ApplicationFailure.create({
      type: 'worker_misconfigured',
      message: 'polling needs LEADRELAY_ENCRYPTION_KEYS and a Temporal client on the worker',
      nonRetryable: true,
    });
  }
  const integration = await loadIntegrationSecrets(deps.pool, deps.keyRing, args.integrationId);
  if (!integration) {
    // Deleted between the schedule firing and now: its schedule should be gone too.
    await deletePollSchedule(deps.temporal, args.integrationId).catch(() => undefined);
    return emptyResult('skipped', 'integration deleted');
  }
  if (integration.status !== 'active') return emptyResult('skipped', `integration is ${integration.status}`);
  const adapter = partnerAdapter(integration.partner);
  const fetchNew = adapter?.outbound?.fetchNew;
  if (!adapter?.outbound || !fetchNew) return emptyResult('skipped', `${integration.partner} is not polled`);

  const info = Context.current().info;
  // Activities of a workflow always have one; the fallback keeps keys unique for a standalone activity.
  const run = info.workflowExecution ?? { workflowId: `activity/${info.activityId}`, runId: '' };
  const delivery: DeliveryDeps = {
    pool: deps.pool,
    temporal: deps.temporal,
    // Journeys run where this activity runs: the worker's task queue.
    journeys: new JourneyClient({ client: deps.temporal, taskQueue: info.taskQueue }),
    logger: deps.logger,
  };
  const properties = new PropertyCheck(deps.pool, integration);
  const result = emptyResult('polled');
  result.more = true;
  let cursor = await readPollCursor(deps.pool, integration.id);

  while (result.pages < (deps.maxPages ?? DEFAULT_MAX_PAGES)) {
    let page: FetchResult;
    try {
      // Built in the try: credentials given for another destination are a final failure (staff told).
      page = await fetchNew(partnerConnection(integration, adapter, deps), cursor, new Date());
    } catch (error) {
      if (!(error instanceof PartnerError)) throw error;
      return partnerFailure(deps, integration, error, run);
    }
    for (const fetched of page.events) {
      const event = await properties.place(storable(fetched));
      const { row, inserted } = await storeInboxEvent(deps.pool, {
        workspaceId: integration.workspace_id,
        integrationId: integration.id,
        partner: integration.partner,
        event,
        headers: { 'x-leadrelay-origin': 'poll', 'x-leadrelay-poll-run': run.workflowId },
        rawBody: Buffer.from(JSON.stringify(fetched)),
      });
      result.fetched += 1;
      // Stored by an earlier poll (or a webhook) and settled: nothing happens twice.
      if (!inserted && row.status !== 'pending') {
        result.duplicates += 1;
        continue;
      }
      const outcome = await deliverInboxEvent(delivery, row);
      result.delivered[outcome.status] += 1;
      Context.current().heartbeat({ cursor, pages: result.pages });
    }
    await savePollCursor(deps.pool, integration.id, page.cursor);
    cursor = page.cursor;
    result.pages += 1;
    Context.current().heartbeat({ cursor, pages: result.pages });
    if (!page.more) {
      result.more = false;
      break;
    }
  }
  await recordPollSuccess(deps.pool, integration.id);
  return result;
}

/**
 * Retryable (429, 5xx, timeouts): recorded for health, then thrown for Temporal to retry, after the partner's
 * Retry-After when it gave one. Final (other 4xx): the integration goes to `error`, staff get a task, its
 * schedule pauses until someone fixes the integration (PATCH) or a connection test passes; not retried.
 */
async function partnerFailure(
  deps: PollDeps,
  integration: IntegrationWithSecrets,
  error: PartnerError,
  run: { workflowId: string; runId: string },
): Promise<PollResult> {
  if (error.kind === 'retryable') {
    await recordPollRetry(deps.pool, integration.id, error.message);
    throw ApplicationFailure.create({
      type: 'partner_unavailable',
      message: error.message,
      nextRetryDelay: error.details.retryAfterMs,
    });
  }
  const fellIntoError = await recordPollFailure(deps.pool, {
    integrationId: integration.id,
    error: error.message,
    taskKey: idempotencyKey('integration', integration.id, 'poll_failed', run.workflowId, run.runId),
    details: {
      integration_id: integration.id,
      partner: integration.partner,
      response_code: error.status ?? null,
      partner_code: error.details.partnerCode ?? null,
      error: error.message,
    },
  });
  if (fellIntoError) {
    await deps
      .temporal!.schedule.getHandle(pollScheduleId(integration.id))
      .pause(`integration is in error: ${error.message.slice(0, 200)}`)
      .catch((pauseError: unknown) =>
        deps.logger?.warn({ err: pauseError, integrationId: integration.id }, 'poll schedule not paused'),
      );
  }
  return { ...emptyResult('failed', error.message) };
}

/**
 * New leads belong to the property the event names when this workspace has it, else to the integration's
 * property (a webhook naming an unknown property is refused with 400; a poll has no one to answer, so it
 * files the lead under the integration instead).
 */
class PropertyCheck {
  private readonly known = new Map<string, boolean>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly integration: IntegrationWithSecrets,
  ) {}

  async place(event: InboundEvent): Promise<InboundEvent> {
    const create = event.lead?.create;
    if (!create) return event;
    const fallback = this.integration.property_id ?? undefined;
    const named = create.propertyId;
    const propertyId = named && (await this.exists(named)) ? named : fallback;
    return { ...event, lead: { ...event.lead, create: { ...create, propertyId } } };
  }

  private async exists(propertyId: string): Promise<boolean> {
    let found = this.known.get(propertyId);
    if (found === undefined) {
      found = (await getProperty(this.pool, this.integration.workspace_id, propertyId)) !== undefined;
      this.known.set(propertyId, found);
    }
    return found;
  }
}
