// The parts of a lead's policy that staff change while journeys run: the partners its changes are pushed to,
// the active workflow rules and the time zone rules read local time in. Journeys read them when they decide
// (the `currentPolicy` activity), not once per run, so a partner connected or a rule created mid-journey
// applies to the next event of every lead.
import type pg from 'pg';
import { livePolicyOf, type LivePolicy, type LivePolicyRow } from '../../data/policies';
import { takesPushes } from '../partners';

export type { LivePolicy };

export interface LivePolicyArgs {
  workspaceId: string;
  /** The lead's property (its integrations, rules and time zone apply besides the workspace's). */
  propertyId?: string;
}

/** One round trip (leadrelay_live_policy, which ingest and the api also read when they store a run's first event). */
export async function loadLivePolicy(pool: pg.Pool, args: LivePolicyArgs): Promise<LivePolicy> {
  const { rows } = await pool.query<{ live: LivePolicyRow }>('SELECT leadrelay_live_policy($1, $2) AS live', [
    args.workspaceId,
    args.propertyId ?? null,
  ]);
  return livePolicyOf(rows[0]!.live, takesPushes);
}
