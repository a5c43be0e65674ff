// Activities of `completeInboundEvent`: the fetch that completes an ids-only inbox event from its partner
// (Facebook's leadgen → the lead's answers), then the event's delivery like any webhook's. A retryable partner
// error is retried by Temporal (after the partner's Retry-After); a final one (an expired token) is not: the
// event is delivered with what it has, the integration goes to `error` and staff get a task on the lead.
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import type { Logger } from 'pino';
import { getInboxEvent, storable } from '../../data/inbox';
import { recordFetchRefusal, saveCompletedEvent } from '../../data/inboxFetch';
import { loadIntegrationSecrets } from '../../data/integrations';
import type { KeyRing } from '../../shared/crypto';
import { idempotencyKey } from '../../shared/ids';
import type { InboundFetchInput } from '../../shared/journey/messages';
import { deliverInboxEvent, type DeliveryOutcome } from '../../usecases/inbox';
import { JourneyClient } from '../../usecases/journeys';
import { partnerConnection } from './connection';
import { PartnerError } from './http';
import { partnerAdapter } from './index';

export interface InboundFetchDeps {
  pool: pg.Pool;
  keyRing?: KeyRing;
  temporal?: Client;
  fetch?: typeof fetch;
  partnerTimeoutMs?: number;
  logger?: Logger;
}

export interface FetchOutcome {
  /** completed: the event now holds what the partner answered; refused: the partner said no for good. */
  outcome: 'completed' | 'refused' | 'skipped';
  detail?: string;
}

function requireWiring(deps: InboundFetchDeps): { keyRing: KeyRing; temporal: Client } {
  if (!deps.keyRing || !deps.temporal) {
    throw ApplicationFailure.create({
      type: 'worker_misconfigured',
      message: 'fetching inbound events needs LEADRELAY_ENCRYPTION_KEYS and a Temporal client on the worker',
      nonRetryable: true,
    });
  }
  return { keyRing: deps.keyRing, temporal: deps.temporal };
}

/** Fetches what the stored event lacks and saves the completed event on its inbox row. */
export async function completeInboxEvent(
  deps: InboundFetchDeps,
  args: InboundFetchInput,
): Promise<FetchOutcome> {
  const { keyRing } = requireWiring(deps);
  const row = await getInboxEvent(deps.pool, args.inboxId);
  if (!row) return { outcome: 'skipped', detail: 'inbox event no longer exists' };
  const event = row.normalized;
  if (!event.fetch || event.fetch.done) return { outcome: 'completed', detail: 'already complete' };
  const adapter = partnerAdapter(row.partner);
  const complete = adapter?.inbound?.complete;
  const integration = await loadIntegrationSecrets(deps.pool, keyRing, row.integration_id);
  const refuse = async (detail: string): Promise<FetchOutcome> => {
    await saveCompletedEvent(deps.pool, row.id, { ...event, fetch: { ...event.fetch!, refused: detail } });
    return { outcome: 'refused', detail };
  };
  if (!complete) return refuse(`${row.partner} events cannot be completed by a fetch`);
  if (!integration) return refuse(`the ${row.partner} integration was deleted`);
  try {
    const completed = await complete(event, partnerConnection(integration, adapter, deps));
    await saveCompletedEvent(deps.pool, row.id, storable(completed));
    return { outcome: 'completed' };
  } catch (error) {
    if (!(error instanceof PartnerError)) throw error;
    if (error.kind === 'retryable') {
      throw ApplicationFailure.create({
        type: 'partner_unavailable',
        message: error.message,
        nextRetryDelay: error.details.retryAfterMs,
      });
    }
    const outcome = await refuse(error.message);
    return { ...outcome, detail: `${error.details.partnerCode ?? 'refused'}: ${error.message}` };
  }
}

/**
 * Delivers the (completed or refused) event as a webhook's would be: lead resolved or created, journey signalled.
 * A refused fetch also leaves the integration in `error` and a staff task on the lead.
 */
export async function deliverFetchedEvent(
  deps: InboundFetchDeps,
  args: InboundFetchInput & { gaveUp?: string },
): Promise<DeliveryOutcome> {
  const { temporal } = requireWiring(deps);
  const row = await getInboxEvent(deps.pool, args.inboxId);
  if (!row) return { status: 'ignored', leadId: null };
  const fetch = row.normalized.fetch;
  if (args.gaveUp && fetch && !fetch.done && !fetch.refused) {
    row.normalized = { ...row.normalized, fetch: { ...fetch, refused: args.gaveUp } };
    await saveCompletedEvent(deps.pool, row.id, row.normalized);
  }
  const outcome = await deliverInboxEvent(
    {
      pool: deps.pool,
      temporal,
      // Journeys run where this activity runs: the worker's task queue.
      journeys: new JourneyClient({ client: temporal, taskQueue: Context.current().info.taskQueue }),
      logger: deps.logger,
    },
    row,
    // Resolved again: what the fetch brought (a replay after a reconnect) is merged into the lead it found before.
    { fetched: true, reresolve: true },
  );
  const refused = row.normalized.fetch?.refused;
  if (refused) {
    await recordFetchRefusal(deps.pool, {
      integrationId: row.integration_id,
      workspaceId: row.workspace_id,
      leadId: outcome.leadId,
      // Once per refused attempt: a replay after a reconnect that fails again tells staff again.
      taskKey: idempotencyKey('inbox', row.id, 'fetch_refused', row.replay_count),
      kind: `partner_fetch_failed:${row.partner}`,
      error: refused,
      details: {
        integration_id: row.integration_id,
        inbox_event_id: row.id,
        partner: row.partner,
        partner_event_id: row.partner_event_id,
        error: refused,
        fix: 'reconnect the integration (new credentials), then replay this inbox event',
      },
    });
  }
  return outcome;
}
