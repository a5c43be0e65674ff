// The outbound webhook dispatcher, a loop in the worker process: fans outbox events out to endpoints and starts
// one webhookDelivery workflow per message, one message per endpoint and lead at a time. Woken by Postgres
// NOTIFY (outbox rows of workspaces with an active endpoint, finished messages), at most once per debounce
// interval however many rows arrive, and by a poll as a fallback (which also fans out the events nobody
// subscribed to).
import pg from 'pg';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { claimStartable, fanOutOutbox, markStarted } from '../../data/outbox';
import { webhookDeliveryWorkflowId } from '../../shared/ids';
import type { WebhookDeliveryWorkflow } from '../../shared/journey/messages';

export interface DispatcherOptions {
  pool: pg.Pool;
  client: Client;
  taskQueue: string;
  logger?: Logger;
  /** Fallback poll interval when no NOTIFY arrives. */
  pollMs?: number;
  /** Shortest time between two passes woken by NOTIFY: a busy outbox is taken in batches, not row by row. */
  debounceMs?: number;
  /** Passed to every delivery workflow (tests shorten the retry schedule). */
  retryScheduleSeconds?: number[];
}

const FAN_OUT_BATCH = 500;

export class WebhookDispatcher {
  private stopped = false;
  private wake: (() => void) | undefined;
  private pending = false;
  /** Its own connection, outside the pool: activities keep every pooled connection. */
  private listener: pg.Client | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly options: DispatcherOptions) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    await this.listener?.end().catch(() => undefined);
    this.listener = undefined;
  }

  /** One pass: fan out everything waiting, then start what may start. Answers how many of each. */
  async runOnce(): Promise<{ events: number; started: number }> {
    let events = 0;
    for (;;) {
      const taken = await fanOutOutbox(this.options.pool, FAN_OUT_BATCH);
      events += taken;
      if (taken < FAN_OUT_BATCH) break;
    }
    const ids = await claimStartable(this.options.pool);
    const started: string[] = [];
    await Promise.all(
      ids.map(async (messageId) => {
        try {
          await this.options.client.workflow.start<WebhookDeliveryWorkflow>('webhookDelivery', {
            workflowId: webhookDeliveryWorkflowId(messageId),
            taskQueue: this.options.taskQueue,
            args: [{ messageId, retryScheduleSeconds: this.options.retryScheduleSeconds }],
            // A message is delivered by one workflow, ever: a second start is refused, not run again.
            workflowIdReusePolicy: 'REJECT_DUPLICATE',
            staticSummary: `Webhook message ${messageId}`,
          });
          started.push(messageId);
        } catch (error) {
          if (error instanceof WorkflowExecutionAlreadyStartedError) started.push(messageId);
          else
            this.options.logger?.warn(
              { err: error, messageId },
              'could not start webhook delivery; will retry',
            );
        }
      }),
    );
    await markStarted(this.options.pool, started);
    return { events, started: started.length };
  }

  private async listen(): Promise<void> {
    if (this.listener) return;
    const { connectionString, host, port, user, password, database, ssl } = this.options.pool.options;
    const client = new pg.Client({ connectionString, host, port, user, password, database, ssl });
    const lost = () => {
      // Postgres went away: drop this connection; the loop listens again on its next pass.
      if (this.listener === client) this.listener = undefined;
      client.end().catch(() => undefined);
    };
    client.on('notification', () => this.notify());
    client.on('error', lost);
    client.on('end', lost);
    try {
      await client.connect();
      await client.query('LISTEN leadrelay_outbox');
    } catch (error) {
      lost();
      throw error;
    }
    this.listener = client;
  }

  private notify(): void {
    this.pending = true;
    this.wake?.();
  }

  private async run(): Promise<void> {
    const pollMs = this.options.pollMs ?? 2000;
    const debounceMs = this.options.debounceMs ?? 200;
    while (!this.stopped) {
      this.pending = false;
      const passStarted = Date.now();
      try {
        await this.listen();
        await this.runOnce();
      } catch (error) {
        this.options.logger?.warn({ err: error }, 'webhook dispatch pass failed; retrying');
      }
      if (this.stopped) continue;
      // Woken while working: go again, but not sooner than the debounce interval after this pass began.
      const wait = this.pending ? Math.max(0, debounceMs - (Date.now() - passStarted)) : pollMs;
      const debouncing = this.pending;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        // While debouncing, more notifications change nothing: the next pass is already due.
        this.wake = () => {
          if (debouncing && !this.stopped) return;
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }
}
