// Delivery of stored inbox events to lead journeys: resolve the lead, signal-with-start each event, mark the
// row. Used by the webhook path, the relay, and operators' replay (API and CLI), so all three behave alike.
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import type { Logger } from 'pino';
import {
  getInboxEvent,
  listInboxEvents,
  markDelivered,
  markInbox,
  markInboxReplayed,
  markInboxRetry,
  receiveInboxEvents,
  resolveInboxLead,
  unknownProperty,
  type DeliverableRow,
  type IncomingEvents,
  type InboxFilter,
  type InboxStatus,
  type LeadTarget,
} from '../data/inbox';
import { AppError, isUnavailable } from '../shared/errors';
import { GateFull, type Gate } from '../shared/gate';
import { isStatus, isTerminal, type PartnerName } from '../shared/lifecycle';
import { journeyContext, type PolicyCache } from '../data/policies';
import { inboxJourneyEvents } from '../shared/inbound';
import type { JourneyContext } from '../shared/journey/types';
import { startInboundFetch } from './inboundFetch';
import type { JourneyClient } from './journeys';
import { settlesWithin, type SignalQueue } from './signalQueue';

export interface DeliveryDeps {
  pool: pg.Pool;
  temporal: Client;
  journeys: JourneyClient;
  logger?: Logger;
  /** How long one signal may take before the event is left pending for the relay (ms). */
  signalTimeoutMs?: number;
  /**
   * Ingest's in-process signalling (bounded, each lead in order); without one, deliveries signal inline. The
   * relay's deliveries join it, so they keep their place behind the webhooks of the same lead.
   */
  signals?: SignalQueue;
  /**
   * Journey policies (cached): with them, a signal that starts a lead's first journey (or its next, after a
   * terminal status) carries the run's context, built from the policy and the row just written, and the run
   * reads nothing back. Without them, or for a lead whose journey runs, the run loads its own when it starts.
   */
  policies?: PolicyCache;
}

export interface DeliveryOutcome {
  status: InboxStatus;
  leadId: string | null;
  error?: string;
}

const DEFAULT_SIGNAL_TIMEOUT_MS = 5000;

/**
 * Delivers one stored event. Temporal or Postgres unavailable: the row goes back to pending (due again after a
 * backoff) and the error is thrown, so the caller answers 503. A permanent failure marks the row `failed`.
 * `reresolve` looks the lead up again even when the row already names one (replay after a fix).
 */
export async function deliverInboxEvent(
  deps: DeliveryDeps,
  row: DeliverableRow,
  options: { reresolve?: boolean; fetched?: boolean } = {},
): Promise<DeliveryOutcome> {
  const event = row.normalized;
  if (!event.lead) {
    if (row.status !== 'ignored') await markInbox(deps.pool, row.id, 'ignored');
    return { status: 'ignored', leadId: row.lead_id };
  }
  try {
    // Ids only (Facebook's leadgen): its fetch workflow completes it from the partner, then delivers it.
    if (event.fetch && !event.fetch.done && !options.fetched) {
      await startInboundFetch({ ...deps, taskQueue: deps.journeys.taskQueue }, row);
      return { status: 'pending', leadId: row.lead_id };
    }
    let lead = options.reresolve ? undefined : row.lead;
    let waiting: DeliverableRow[] = [];
    if (!lead) {
      // Rows stored before leads were resolved at store time, and replays of unmatched or failed rows.
      ({ lead, waiting } = await resolveInboxLead(deps.pool, row));
      if (!lead) return { status: 'unmatched', leadId: null };
    }
    const rows = [{ ...row, lead }, ...waiting];
    const run = () => signalRows(deps, rows, { throwFirst: true });
    if (deps.signals) {
      await deps.signals.enqueue({ leads: leadsOf(rows), inboxIds: rows.map((r) => r.id), run }).done;
    } else await run();
    return { status: 'delivered', leadId: lead.id };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (isUnavailable(error) || isTemporaryFailure(error)) throw error;
    deps.logger?.error({ err: error, inboxId: row.id }, 'inbox event failed');
    await markInbox(deps.pool, row.id, 'failed', { error: message.slice(0, 2000) }).catch(() => undefined);
    return { status: 'failed', leadId: row.lead_id, error: message };
  }
}

const leadsOf = (rows: DeliverableRow[]) => [...new Set(rows.flatMap((r) => (r.lead ? [r.lead.id] : [])))];

/**
 * Signals the rows in order, then marks those signalled delivered in one statement. A row whose signal failed
 * goes back to pending with a back-off (the relay's), and so do the rows after it of the same lead; the first
 * failure is thrown once the rest are recorded (`throwFirst`), or only logged.
 */
async function signalRows(
  deps: DeliveryDeps,
  rows: (DeliverableRow & { lead?: LeadTarget })[],
  options: { throwFirst: boolean },
): Promise<void> {
  const delivered: string[] = [];
  let failure: unknown;
  const failedLeads = new Set<string>();
  for (const row of rows) {
    const lead = row.lead!;
    if (failedLeads.has(lead.id)) {
      await markInboxRetry(deps.pool, row.id, 'an earlier event of this lead is not delivered yet').catch(
        () => undefined,
      );
      continue;
    }
    try {
      await signalEvents(deps, row, lead);
      delivered.push(row.id);
    } catch (error) {
      failure ??= error;
      failedLeads.add(lead.id);
      const message = error instanceof Error ? error.message : String(error);
      await markInboxRetry(deps.pool, row.id, message).catch(() => undefined);
    }
  }
  // The signals are durable in Temporal: a mark that cannot be written now only means the relay signals the
  // row again later, which its journey ignores (same event ids).
  await markDelivered(deps.pool, delivered).catch((error: unknown) =>
    deps.logger?.warn({ err: error, rows: delivered.length }, 'signalled rows not marked delivered yet'),
  );
  if (failure !== undefined) {
    if (options.throwFirst) throw failure;
    deps.logger?.warn({ err: failure }, 'inbox events left pending for the relay');
  }
}

/** Errors worth another try later rather than an operator's attention (anything but our own 4xx). */
function isTemporaryFailure(error: unknown): boolean {
  if (error instanceof AppError) return error.status >= 500;
  const e = error as { name?: string; code?: unknown } | undefined;
  // Postgres: serialization failure, deadlock, insufficient resources, query cancelled.
  if (typeof e?.code === 'string' && /^(40001|40P01|53\d{3}|57014)$/.test(e.code)) return true;
  // The Temporal client gives up on a deadline or a refused connection with these.
  return e?.name === 'ServiceError' || e?.name === 'GrpcError' || e?.name === 'TimeoutError';
}

/** Signal-with-start of every event of a row, in order, exactly as receiveInquiry does (same ids on every retry). */
async function signalEvents(deps: DeliveryDeps, row: DeliverableRow, lead: LeadTarget): Promise<void> {
  const target = {
    workspaceId: lead.workspaceId,
    leadId: lead.id,
    propertyId: lead.propertyId ?? undefined,
    source: lead.source,
    status: lead.status,
  };
  // A running journey ignores a context: only a run this signal is bound to start gets one.
  const starts = lead.created === true || (isStatus(lead.status) && isTerminal(lead.status));
  let context: JourneyContext | undefined;
  if (starts && deps.policies) {
    const basis = await deps.policies.get(lead.workspaceId, lead.propertyId);
    // Partners, rules and zone read with the row: the run decides its first event without reading them again.
    context = journeyContext(lead.live ? deps.policies.withLive(basis, lead.live) : basis, lead.projection);
  }
  const timeout = deps.signalTimeoutMs ?? DEFAULT_SIGNAL_TIMEOUT_MS;
  for (const journeyEvent of inboxJourneyEvents(row.id, row.partner as PartnerName, row.normalized, lead)) {
    const policyReadFor = context && lead.live ? journeyEvent.eventId : undefined;
    await deps.temporal.withDeadline(Date.now() + timeout, () =>
      deps.journeys.send(target, journeyEvent, context, { policyReadFor }),
    );
  }
}

export interface WebhookDeps extends DeliveryDeps {
  /** Admission to the database section, sized to the pool: a burst waits its turn here, in order. */
  gate?: Gate;
  /** How long a webhook waits for its turn to signal before it is answered 202, signalled from the queue. */
  signalWaitMs?: number;
  /** How long a stored row is left to this process before any relay may take it (s). */
  graceSeconds?: number;
}

export interface WebhookEventResult {
  partner_event_id: string;
  status: InboxStatus;
  duplicate: boolean;
  lead_id: string | null;
}

const DEFAULT_SIGNAL_WAIT_MS = 2000;

/**
 * A verified, parsed webhook: its events stored with their leads in one round trip (waiting its turn at the
 * gate), then signalled, each lead in order, then marked delivered. Answers each event's status: delivered,
 * duplicate (an earlier delivery was acknowledged), unmatched, ignored, or pending (stored and queued for its
 * signal, which a burst made wait longer than `signalWaitMs`: the row is durable, the queue or the relay
 * delivers it). Temporal or Postgres unavailable: thrown (503), the rows pending for the relay.
 */
export async function receiveWebhook(
  deps: WebhookDeps,
  input: IncomingEvents,
): Promise<WebhookEventResult[]> {
  const store = () => receiveInboxEvents(deps.pool, { ...input, graceSeconds: deps.graceSeconds });
  const received = await (deps.gate ? admitted(deps.gate, store) : store());
  if ('unknownProperty' in received) throw unknownProperty(received.unknownProperty);

  const results: WebhookEventResult[] = received.events.map(({ row, duplicate }, i) => ({
    partner_event_id: input.events[i]!.partnerEventId,
    status: row.status,
    // Acknowledged once already: nothing happens. A pending row's first answer was not a 2xx (or it is still in
    // flight): this delivery signals it again, which its journey ignores if it has it.
    duplicate: duplicate && row.status !== 'pending',
    lead_id: row.lead_id,
  }));
  const toSignal = received.events.flatMap(({ row, waiting }, i) =>
    results[i]!.duplicate || row.status !== 'pending' ? [] : [{ index: i, rows: [row, ...waiting] }],
  );
  // Rows left pending without a lead (stored before leads were resolved at store time) take the long way.
  for (const item of toSignal.filter((item) => !item.rows[0]!.lead)) {
    const outcome = await deliverInboxEvent(deps, item.rows[0]!);
    results[item.index] = { ...results[item.index]!, status: outcome.status, lead_id: outcome.leadId };
  }
  const ready = toSignal.filter((item) => item.rows[0]!.lead);
  if (ready.length === 0) return results;
  const rows = ready.flatMap((item) => item.rows);
  const run = () => signalRows(deps, rows, { throwFirst: true });
  if (!deps.signals) {
    try {
      await run();
    } catch (error) {
      if (!isDeadline(error)) throw error;
      return results;
    }
  } else {
    const job = deps.signals.enqueue({ leads: leadsOf(rows), inboxIds: rows.map((r) => r.id), run });
    if (!(await settlesWithin(job.started, deps.signalWaitMs ?? DEFAULT_SIGNAL_WAIT_MS))) {
      // Still in line: answered now (stored, pending); the queue signals it in its turn, the relay if we die.
      job.done.catch((error: unknown) =>
        deps.logger?.warn({ err: error }, 'queued webhook not signalled; left to the relay'),
      );
      return results;
    }
    try {
      await job.done;
    } catch (error) {
      // Temporal answering slower than the signal deadline is busy, not down: the rows are durable and pending
      // (due after a back-off), so the answer is 202 rather than a 503 that would only add retries.
      if (!isDeadline(error)) throw error;
      deps.logger?.warn({ err: error }, 'signal deadline passed; webhook left pending for the relay');
      return results;
    }
  }
  for (const item of ready) results[item.index]!.status = 'delivered';
  return results;
}

/**
 * Runs the database section once the gate admits it. Refused (the queue would hold it past a client's patience):
 * 503 `overloaded` with Retry-After, before anything is stored, so the partner's retry loses nothing.
 */
async function admitted<T>(gate: Gate, work: () => Promise<T>): Promise<T> {
  try {
    return await gate.run(work);
  } catch (error) {
    if (!(error instanceof GateFull)) throw error;
    throw new AppError(
      'overloaded',
      'ingest is at capacity; nothing was stored, retry after the given delay',
      {
        retry_after: error.retryAfterSeconds,
        expected_wait_ms: Math.round(error.expectedWaitMs),
        max_wait_ms: error.maxWaitMs,
      },
    );
  }
}

/** A signal that ran out of time (gRPC DEADLINE_EXCEEDED), as opposed to a server that cannot be reached. */
function isDeadline(error: unknown): boolean {
  const e = error as { code?: unknown; cause?: { code?: unknown }; name?: string } | undefined;
  return e?.code === 4 || e?.cause?.code === 4 || e?.name === 'TimeoutError';
}

export interface ReplayResult {
  id: string;
  previous_status: InboxStatus;
  status: InboxStatus;
  lead_id: string | null;
  error?: string;
}

/**
 * Replays one stored event: the lead is looked up again when it was unmatched or failed, then every event is
 * signalled again with its original ids, so a journey that already applied one ignores it (replay is safe).
 */
export async function replayInboxEvent(
  deps: DeliveryDeps,
  id: string,
  workspaceId?: string,
): Promise<ReplayResult | undefined> {
  const row = await getInboxEvent(deps.pool, id, workspaceId);
  if (!row) return undefined;
  await markInboxReplayed(deps.pool, row.id);
  const outcome = await deliverInboxEvent(deps, row, {
    reresolve: row.status === 'unmatched' || row.status === 'failed',
  });
  return {
    id: row.id,
    previous_status: row.status,
    status: outcome.status,
    lead_id: outcome.leadId,
    ...(outcome.error ? { error: outcome.error } : {}),
  };
}

/** Replays every event in a time window (oldest first), up to `limit`; stops at the first unavailability. */
export async function replayInboxWindow(
  deps: DeliveryDeps,
  filter: Omit<InboxFilter, 'oldestFirst' | 'cursor'>,
): Promise<ReplayResult[]> {
  const rows = await listInboxEvents(deps.pool, { ...filter, oldestFirst: true });
  const results: ReplayResult[] = [];
  for (const row of rows) {
    const result = await replayInboxEvent(deps, row.id, row.workspace_id);
    if (result) results.push(result);
  }
  return results;
}
