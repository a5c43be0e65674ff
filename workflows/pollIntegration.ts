// One poll of a partner for new leads and changes, started by the integration's Schedule (`poll/<id>`) or by
// "sync now" through it. The activity saves its cursor page by page; this loop only calls it again while the
// partner has more, up to a bound, and leaves the rest to the next scheduled poll.
import { proxyActivities } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type { PollResult } from '../activities/partners/poll';
import type { PollIntegrationInput } from '../shared/journey/messages';

type Activities = ReturnType<typeof createActivities>;

export interface PollIntegrationResult {
  outcome: PollResult['outcome'];
  detail?: string;
  runs: number;
  pages: number;
  fetched: number;
  duplicates: number;
  delivered: PollResult['delivered'];
  more: boolean;
}

/** Activity runs per poll (each up to its own page bound) before the next scheduled poll takes over. */
const MAX_RUNS = 10;

// 429 and 5xx come back as retryable failures carrying the partner's Retry-After (nextRetryDelay overrides
// this backoff); refusals for good are results, not errors. Bounded, so a partner down for long ends this
// poll as failed and the schedule's next one tries again from the saved cursor.
const partner = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '2 minutes',
  summary: 'poll partner',
  retry: {
    initialInterval: '5 seconds',
    backoffCoefficient: 2,
    maximumInterval: '5 minutes',
    maximumAttempts: 10,
    nonRetryableErrorTypes: ['worker_misconfigured'],
  },
});

export async function pollIntegration(input: PollIntegrationInput): Promise<PollIntegrationResult> {
  const total: PollIntegrationResult = {
    outcome: 'polled',
    runs: 0,
    pages: 0,
    fetched: 0,
    duplicates: 0,
    delivered: { pending: 0, delivered: 0, unmatched: 0, ignored: 0, failed: 0 },
    more: true,
  };
  while (total.more && total.runs < MAX_RUNS) {
    const result = await partner.pollIntegration({ integrationId: input.integrationId });
    total.runs += 1;
    total.outcome = result.outcome;
    if (result.detail) total.detail = result.detail;
    total.pages += result.pages;
    total.fetched += result.fetched;
    total.duplicates += result.duplicates;
    for (const status of Object.keys(total.delivered) as (keyof PollResult['delivered'])[]) {
      total.delivered[status] += result.delivered[status];
    }
    total.more = result.outcome === 'polled' && result.more;
  }
  return total;
}
