// Delivery of stored inbox events to lead journeys: resolve the lead, signal-with-start each event, mark the
// row. Used by the webhook path, the relay, and operators' replay (API and CLI), so all three behave alike.
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import type { Logger } from 'pino';
import {
  findLeadId,
  getInboxEvent,
  listInboxEvents,
  markInbox,
  markInboxReplayed,
  markInboxRetry,
  setCallLead,
  setInboxLead,
  unmatchedForExternalIds,
  type InboxFilter,
  type InboxRow,
  type InboxStatus,
} from '../data/inbox';
import { loadJourneyContext } from '../activities/db/journey';
import { createOrMatchLead, getLead, type LeadRecord } from '../data/leads';
import type { InboundEvent } from '../activities/partners/types';
import { AppError } from '../shared/errors';
import type { PartnerName } from '../shared/lifecycle';
import { inboxJourneyEvents } from '../shared/inbound';
import { isUnavailable } from '../shared/errors';
import { startInboundFetch } from './inboundFetch';
import type { JourneyClient } from './journeys';

export interface DeliveryDeps {
  pool: pg.Pool;
  temporal: Client;
  journeys: JourneyClient;
  logger?: Logger;
  /** How long one signal may take before the event is left pending for the relay (ms). */
  signalTimeoutMs?: number;
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
  row: InboxRow,
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
    const lead = await resolveLead(deps, row, event, options.reresolve ?? false);
    if (!lead) {
      await markInbox(deps.pool, row.id, 'unmatched', {
        error: 'no lead matches this event yet; replay it once the lead exists',
      });
      return { status: 'unmatched', leadId: null };
    }
    await signalEvents(deps, row, event, lead);
    if (event.record?.kind === 'call') {
      await setCallLead(deps.pool, row.workspace_id, row.partner, event.record.callId, lead.id);
    }
    await markInbox(deps.pool, row.id, 'delivered', { leadId: lead.id });
    if (event.lead.create) await deliverWaiting(deps, lead);
    return { status: 'delivered', leadId: lead.id };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (isUnavailable(error) || isTemporaryFailure(error)) {
      await markInboxRetry(deps.pool, row.id, message).catch(() => undefined);
      throw error;
    }
    deps.logger?.error({ err: error, inboxId: row.id }, 'inbox event failed');
    await markInbox(deps.pool, row.id, 'failed', { error: message.slice(0, 2000) }).catch(() => undefined);
    return { status: 'failed', leadId: row.lead_id, error: message };
  }
}

/**
 * Events that arrived before their lead (a referral's status before the referral) are delivered as soon as an
 * inquiry makes the lead known. Best effort: whatever fails stays unmatched for an operator's replay.
 */
async function deliverWaiting(deps: DeliveryDeps, lead: LeadRecord): Promise<void> {
  try {
    const waiting = await unmatchedForExternalIds(deps.pool, lead.workspace_id, lead.external_ids);
    for (const row of waiting) await deliverInboxEvent(deps, row, { reresolve: true });
  } catch (error) {
    deps.logger?.warn({ err: error, leadId: lead.id }, 'could not deliver events waiting for this lead');
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

async function resolveLead(
  deps: DeliveryDeps,
  row: InboxRow,
  event: InboundEvent,
  reresolve: boolean,
): Promise<LeadRecord | undefined> {
  if (row.lead_id && !reresolve) {
    const known = await getLead(deps.pool, row.workspace_id, row.lead_id);
    if (known) return known;
  }
  const locator = event.lead!;
  let lead: LeadRecord | undefined;
  if (locator.create) {
    const contact = locator.create;
    ({ lead } = await createOrMatchLead(deps.pool, {
      workspaceId: row.workspace_id,
      propertyId: contact.propertyId,
      source: contact.source ?? row.partner,
      firstName: contact.firstName,
      lastName: contact.lastName,
      email: contact.email,
      phone: contact.phone,
      message: contact.message,
      externalIds: contact.externalIds,
      customData: contact.customData,
    }));
  } else {
    const leadId = await findLeadId(deps.pool, row.workspace_id, locator.find ?? []);
    lead = leadId ? await getLead(deps.pool, row.workspace_id, leadId) : undefined;
  }
  // Remembered before signalling: a retry signals the same lead without resolving (or creating) it again.
  if (lead && lead.id !== row.lead_id) await setInboxLead(deps.pool, row.id, lead.id);
  return lead;
}

/** Signal-with-start of every event, in order, exactly as receiveInquiry does (same ids on every retry). */
async function signalEvents(
  deps: DeliveryDeps,
  row: InboxRow,
  event: InboundEvent,
  lead: LeadRecord,
): Promise<void> {
  const events = inboxJourneyEvents(row.id, row.partner as PartnerName, event, {
    propertyId: lead.property_id,
    hasEmail: lead.email !== null,
    hasPhone: lead.phone_e164 !== null,
  });
  if (events.length === 0) return;
  const context = await loadJourneyContext(deps.pool, { workspaceId: lead.workspace_id, leadId: lead.id });
  const target = {
    workspaceId: lead.workspace_id,
    leadId: lead.id,
    propertyId: lead.property_id ?? undefined,
    source: lead.source,
    status: lead.status,
  };
  const timeout = deps.signalTimeoutMs ?? DEFAULT_SIGNAL_TIMEOUT_MS;
  for (const journeyEvent of events) {
    await deps.temporal.withDeadline(Date.now() + timeout, () =>
      deps.journeys.send(target, journeyEvent, context),
    );
  }
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
