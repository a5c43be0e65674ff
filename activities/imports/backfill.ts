// The `listBackfillPage` activity: one page of a connected partner's leads, stored as rows of the import together
// with where the listing goes on, so a restarted worker resumes the listing and never stores a page twice.
import { ApplicationFailure } from '@temporalio/activity';
import type pg from 'pg';
import type { KeyRing } from '../../shared/crypto';
import { loadImport, markImport, storeBackfillPage } from '../../data/imports';
import { loadIntegrationSecrets } from '../../data/integrations';
import { PartnerError } from '../partners/http';
import { partnerAdapter } from '../partners';
import { partnerConnection } from '../partners/connection';

export interface BackfillDeps {
  pool: pg.Pool;
  keyRing?: KeyRing;
  fetch?: typeof fetch;
  partnerTimeoutMs?: number;
}

export interface BackfillPageResult {
  /** The listing is over (the last page is stored, or it failed for good). */
  done: boolean;
  stored: number;
  /** Why the listing stopped early: the rows stored so far are still imported. */
  error?: string;
}

export async function listBackfillPage(
  deps: BackfillDeps,
  args: { importId: string },
): Promise<BackfillPageResult> {
  const imp = await loadImport(deps.pool, args.importId);
  if (!imp || imp.kind !== 'backfill' || imp.listing_done) return { done: true, stored: 0 };
  if (!deps.keyRing) {
    throw ApplicationFailure.create({
      type: 'worker_misconfigured',
      message: 'backfills need LEADRELAY_ENCRYPTION_KEYS on the worker',
      nonRetryable: true,
    });
  }
  const integration = imp.integration_id
    ? await loadIntegrationSecrets(deps.pool, deps.keyRing, imp.integration_id)
    : undefined;
  const stop = async (error: string): Promise<BackfillPageResult> => {
    await markImport(deps.pool, imp.id, 'running', error);
    await storeBackfillPage(deps.pool, {
      importId: imp.id,
      from: imp.backfill_cursor,
      records: [],
      next: null,
      done: true,
    });
    return { done: true, stored: 0, error };
  };
  if (!integration) return stop('the integration was deleted');
  const adapter = partnerAdapter(integration.partner);
  const listLeads = adapter?.outbound?.listLeads;
  if (!adapter || !listLeads) return stop(`${integration.partner} cannot list its leads`);
  let page;
  try {
    page = await listLeads(partnerConnection(integration, adapter, deps), {
      since: (imp.since ?? new Date(0)).toISOString(),
      ...(imp.backfill_cursor ? { cursor: imp.backfill_cursor } : {}),
    });
  } catch (error) {
    if (!(error instanceof PartnerError)) throw error;
    // 429, 5xx and timeouts: Temporal retries, after the partner's Retry-After when it gave one.
    if (error.kind === 'retryable') {
      throw ApplicationFailure.create({
        type: 'partner_unavailable',
        message: error.message,
        nextRetryDelay: error.details.retryAfterMs,
      });
    }
    return stop(`${integration.partner} refused the listing: ${error.message}`);
  }
  await storeBackfillPage(deps.pool, {
    importId: imp.id,
    from: imp.backfill_cursor,
    records: page.records,
    next: page.cursor ?? null,
    done: page.cursor === undefined,
  });
  return { done: page.cursor === undefined, stored: page.records.length };
}
