// The partner side of a chaos run: sends every copy of every message and, like a real partner, keeps retrying a
// copy (fresh signature, same message id) until it is acknowledged with a 2xx. It records every answer, so the
// run can count what was acknowledged.
import type { SignedWebhook } from '../../bench/workload';

export interface DeliveryOptions {
  /** Copies of each message (at-least-once delivery gone wild); default 1. */
  copies?: number;
  /** Send the copies in a shuffled order (seeded, reproducible); default false. */
  shuffle?: boolean;
  seed?: number;
  /** Requests in flight at once; Infinity sends everything at the same moment. Default 8. */
  concurrency?: number;
  /** Stop retrying an unacknowledged copy after this long (ms); default 10 minutes. */
  giveUpAfterMs?: number;
}

export interface DeliveryLog {
  messages: number;
  copies: number;
  /** Every HTTP attempt. */
  posts: number;
  /** Answers by status (or network error code). */
  answers: Record<string, number>;
  /** Message ids answered 2xx at least once. */
  acknowledged: Set<string>;
  /** Copies that were never acknowledged before the give-up time. */
  abandoned: number;
}

export interface RunningDelivery {
  log: DeliveryLog;
  /** Resolves once at least `count` distinct messages were acknowledged (or everything finished). */
  acknowledgedAtLeast(count: number): Promise<void>;
  /** Stops sending: copies not yet acknowledged are abandoned. */
  abort(): void;
  done: Promise<DeliveryLog>;
}

/** A small seeded PRNG (mulberry32): the same seed gives the same shuffle. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffled<T>(items: T[], seed: number): T[] {
  const random = seededRandom(seed);
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

export function deliver(messages: SignedWebhook[], options: DeliveryOptions = {}): RunningDelivery {
  const copies = options.copies ?? 1;
  const all = messages.flatMap((message) => Array.from({ length: copies }, () => message));
  const queue = options.shuffle ? shuffled(all, options.seed ?? 1) : all;
  const giveUpAfterMs = options.giveUpAfterMs ?? 10 * 60_000;
  const log: DeliveryLog = {
    messages: messages.length,
    copies: queue.length,
    posts: 0,
    answers: {},
    acknowledged: new Set(),
    abandoned: 0,
  };
  const waiters: { count: number; resolve: () => void }[] = [];
  let finished = false;
  let aborted = false;
  const wake = () => {
    for (const waiter of [...waiters]) {
      if (finished || log.acknowledged.size >= waiter.count) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };

  const sendCopy = async (message: SignedWebhook) => {
    const deadline = Date.now() + giveUpAfterMs;
    for (let attempt = 0; ; attempt++) {
      if (aborted) {
        log.abandoned += 1;
        return;
      }
      log.posts += 1;
      let label: string;
      try {
        const response = await fetch(message.url, {
          method: message.method ?? 'POST',
          headers: message.headers(),
          body: message.body,
          signal: AbortSignal.timeout(30_000),
        });
        await response.arrayBuffer();
        label = String(response.status);
        if (response.ok) {
          log.answers[label] = (log.answers[label] ?? 0) + 1;
          log.acknowledged.add(message.id);
          wake();
          return;
        }
      } catch (error) {
        const e = error as { cause?: { code?: string }; name?: string };
        label = e.cause?.code ?? e.name ?? 'error';
      }
      log.answers[label] = (log.answers[label] ?? 0) + 1;
      if (Date.now() > deadline) {
        log.abandoned += 1;
        return;
      }
      // A partner's backoff: quick at first, then every few seconds.
      await new Promise((resolveLater) => setTimeout(resolveLater, Math.min(5000, 200 * 2 ** attempt)));
    }
  };

  const concurrency = Math.min(options.concurrency ?? 8, queue.length);
  let next = 0;
  const done = Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < queue.length; i = next++) await sendCopy(queue[i]!);
    }),
  ).then(() => {
    finished = true;
    wake();
    return log;
  });
  return {
    log,
    done,
    abort() {
      aborted = true;
    },
    acknowledgedAtLeast: (count) =>
      new Promise<void>((resolveWait) => {
        if (finished || log.acknowledged.size >= count) resolveWait();
        else waiters.push({ count, resolve: resolveWait });
      }),
  };
}
