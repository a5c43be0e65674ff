// Delivery of one outbound webhook message: attempts on the Standard Webhooks schedule (5 s … 10 h, about
// 28 hours in all), each a logged activity, sleeping durably in between. The dispatcher starts one message
// per endpoint and lead at a time, so a lead's events arrive in order.
import { proxyActivities, sleep } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type { AttemptResult } from '../activities/webhooks/deliver';
import type { WebhookDeliveryInput, WebhookDeliveryOutcome } from '../shared/journey/messages';
import { RETRY_SCHEDULE_SECONDS, retryDelaySeconds } from '../shared/webhooks';
import { POSTGRES_OUTAGE } from './activityBounds';

type Activities = ReturnType<typeof createActivities>;

// HTTP failures are results, not errors: these retries only cover the worker's own trouble (Postgres down).
const RETRY = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes' } as const;

function attempt(
  n: number,
  args: Parameters<Activities['attemptWebhookDelivery']>[0],
): Promise<AttemptResult> {
  return proxyActivities<Activities>({
    startToCloseTimeout: '1 minute',
    scheduleToCloseTimeout: POSTGRES_OUTAGE,
    summary: `webhook attempt ${n}`,
    retry: RETRY,
  }).attemptWebhookDelivery(args);
}

const { finishWebhookMessage } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: POSTGRES_OUTAGE,
  summary: 'finish webhook message',
  retry: RETRY,
});

export async function webhookDelivery(input: WebhookDeliveryInput): Promise<WebhookDeliveryOutcome> {
  const schedule = input.retryScheduleSeconds ?? RETRY_SCHEDULE_SECONDS;
  for (let n = 1; ; n++) {
    const retryIn = schedule[n - 1];
    const result = await attempt(n, {
      messageId: input.messageId,
      attempt: n,
      // Temporal's clock: deterministic, and skipped ahead by time-skipping tests.
      attemptedAt: new Date().toISOString(),
      retryInSeconds: retryIn ?? null,
    });
    if (result.outcome === 'delivered' || result.outcome === 'cancelled') {
      await finishWebhookMessage({ messageId: input.messageId, outcome: result.outcome });
      return result.outcome;
    }
    if (result.outcome === 'endpoint_disabled' || retryIn === undefined) {
      await finishWebhookMessage({ messageId: input.messageId, outcome: 'failed' });
      return 'failed';
    }
    await sleep(retryDelaySeconds(retryIn, result.retryAfterSeconds) * 1000, {
      summary: `retry ${n + 1} of webhook ${input.messageId}`,
    });
  }
}
