// An ids-only partner event (Facebook's leadgen) completed before delivery: fetch what the notification lacks
// from the partner, with retries, then deliver it like a webhook. The webhook was answered once the event was
// stored and this workflow started (both durable); the fetch never runs inside the partner's request.
import { proxyActivities } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type { InboundFetchInput } from '../shared/journey/messages';
import { POSTGRES_OUTAGE, RETRY } from './activityBounds';

type Activities = ReturnType<typeof createActivities>;
type Delivered = Awaited<ReturnType<Activities['deliverFetchedEvent']>>;

// Retryable partner errors (429, 5xx, Graph's throttling codes) come back as failures carrying the partner's
// Retry-After; a final refusal is an answer, not an error. Bounded: after a day the event is delivered as it is.
const { completeInboxEvent } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  scheduleToCloseTimeout: '24 hours',
  summary: 'fetch the event from the partner',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '10 minutes',
    nonRetryableErrorTypes: ['worker_misconfigured'],
  },
});

const { deliverFetchedEvent } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  scheduleToCloseTimeout: POSTGRES_OUTAGE,
  summary: 'deliver the event to its lead',
  retry: RETRY,
});

export async function completeInboundEvent(input: InboundFetchInput): Promise<Delivered> {
  try {
    await completeInboxEvent(input);
  } catch (error) {
    // Out of retries: the event still reaches its lead, and staff learn why it has no contact details.
    const reason =
      error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
    return deliverFetchedEvent({ ...input, gaveUp: `the partner did not answer for a day: ${reason}` });
  }
  return deliverFetchedEvent(input);
}
