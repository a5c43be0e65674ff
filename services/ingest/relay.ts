// The inbox relay: delivers events whose signal failed (Temporal or Postgres was down, the process died
// between inbox and signal) until they are delivered. A loop in the ingest process rather than a Temporal
// Schedule: it must keep trying exactly while Temporal is the thing that is down, and needs nothing but
// Postgres and the client ingest already has. SKIP LOCKED lets several ingest replicas share the work.
import { claimDueInboxEvents } from '../../data/inbox';
import { deliverInboxEvent, type DeliveryDeps } from '../../usecases/inbox';
import { isUnavailable } from '../../shared/errors';

export interface RelayResult {
  claimed: number;
  delivered: number;
  unmatched: number;
  failed: number;
  /** Left pending for a later attempt (Temporal or Postgres unavailable). */
  retrying: number;
}

/** One pass: claims due pending rows (oldest first) and delivers each. */
export async function relayOnce(
  deps: DeliveryDeps,
  options: { limit?: number; workspaceId?: string } = {},
): Promise<RelayResult> {
  const rows = await claimDueInboxEvents(deps.pool, {
    limit: options.limit ?? 100,
    workspaceId: options.workspaceId,
  });
  const result: RelayResult = { claimed: rows.length, delivered: 0, unmatched: 0, failed: 0, retrying: 0 };
  for (const [index, row] of rows.entries()) {
    // Queued in this process already (a webhook answered during a burst): its own job delivers it.
    if (deps.signals?.has(row.id)) continue;
    try {
      const outcome = await deliverInboxEvent(deps, row);
      if (outcome.status === 'delivered') result.delivered += 1;
      else if (outcome.status === 'unmatched') result.unmatched += 1;
      else if (outcome.status === 'failed') result.failed += 1;
    } catch (error) {
      result.retrying += 1;
      // The backend is down: the rest of the batch would fail the same way; their lease expires, they come back.
      if (isUnavailable(error)) {
        result.retrying += rows.length - index - 1;
        break;
      }
    }
  }
  return result;
}

export interface Relay {
  stop(): Promise<void>;
}

/** Runs relayOnce every `intervalMs` (default 1 s; immediately again while a pass finds a full batch). */
export function startRelay(
  deps: DeliveryDeps,
  options: { intervalMs?: number; limit?: number; workspaceId?: string } = {},
): Relay {
  const intervalMs = options.intervalMs ?? 1000;
  const limit = options.limit ?? 100;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    running = relayOnce(deps, { limit, workspaceId: options.workspaceId })
      .then(
        (result) => {
          if (result.claimed > 0) deps.logger?.info(result, 'inbox relay pass');
          return result.claimed === limit && result.retrying === 0;
        },
        (error: unknown) => {
          deps.logger?.warn({ err: error }, 'inbox relay pass failed; retrying');
          return false;
        },
      )
      .then((again) => {
        if (!stopped) timer = setTimeout(tick, again ? 0 : intervalMs);
      });
  };
  timer = setTimeout(tick, intervalMs);
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
