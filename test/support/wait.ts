// Every wait in the tests: poll with back-off (a slow machine is not hammered by the waiter), stop before
// jest's own timeout, and fail naming what was awaited and the last value or error seen.
import { inspect } from 'node:util';
import type { Recorder } from '../../infra/sandbox/http';
import type { JourneyView } from '../../shared/journey/types';

declare global {
  /** When the running test or hook times out (ms since epoch); set by test/setup/environment.js. */
  var __leadrelayDeadline: number | undefined;
}

/** Time kept back from jest's timeout so a wait's own message wins, with room for afterEach hooks. */
const MARGIN_MS = 5_000;
/** Outside jest (scripts reusing test support), or when a caller asks for no more. */
const DEFAULT_WAIT_MS = 90_000;
const FIRST_PAUSE_MS = 10;
const LONGEST_PAUSE_MS = 500;

export interface WaitOptions<T = unknown> {
  /** When the probe's answer is what was awaited (default: truthy); the answer is shown when it never is. */
  until?: (value: T) => boolean;
  /** Give up sooner than the test's deadline. */
  timeoutMs?: number;
  /** How to show the last value in the failure message (default: util.inspect). */
  show?: (value: unknown) => string;
}

export class WaitTimeout extends Error {
  override name = 'WaitTimeout';
}

/** The moment a wait starting now must give up. */
export function waitDeadline(timeoutMs?: number): number {
  const now = Date.now();
  const own = now + (timeoutMs ?? DEFAULT_WAIT_MS);
  const test = globalThis.__leadrelayDeadline;
  return test === undefined ? own : Math.max(now, Math.min(own, test - MARGIN_MS));
}

const pause = (ms: number) => new Promise((resolveLater) => setTimeout(resolveLater, ms));

/** Rejects at `deadline` with `message()` unless `work` settles first. */
function raceDeadline<T>(work: Promise<T>, deadline: number, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new WaitTimeout(message())), Math.max(0, deadline - Date.now()));
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

/**
 * Calls `probe` until it returns something truthy, pausing longer each time (10 ms doubling to 500 ms). A
 * probe that throws counts as "not yet"; the failure message names `what`, the time waited and the last
 * value or error.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  options: WaitOptions<T> = {},
): Promise<T> {
  const until = options.until ?? ((value: T) => Boolean(value));
  const started = Date.now();
  const deadline = waitDeadline(options.timeoutMs);
  const show = options.show ?? ((value: unknown) => inspect(value, { depth: 4, breakLength: 120 }));
  let last: { value?: unknown; error?: unknown; seen: boolean } = { seen: false };
  const describe = () => {
    const seen = !last.seen
      ? 'no answer yet'
      : last.error !== undefined
        ? `last error: ${last.error instanceof Error ? last.error.message : String(last.error)}`
        : `last value: ${show(last.value)}`;
    return `waited ${((Date.now() - started) / 1000).toFixed(1)} s for ${what}; ${seen}`;
  };
  let wait = FIRST_PAUSE_MS;
  for (;;) {
    try {
      const value = await raceDeadline(Promise.resolve(probe()), deadline, describe);
      last = { value, seen: true };
      if (value && until(value)) return value;
    } catch (error) {
      if (error instanceof WaitTimeout) throw error;
      last = { error, seen: true };
    }
    if (Date.now() >= deadline) throw new WaitTimeout(describe());
    await pause(Math.min(wait, deadline - Date.now()));
    wait = Math.min(wait * 2, LONGEST_PAUSE_MS);
  }
}

/** Milliseconds a wait starting now may take: for event-driven waits that take a timeout (the mailbox). */
export function remainingMs(timeoutMs?: number): number {
  return waitDeadline(timeoutMs) - Date.now();
}

/**
 * Awaits an event-driven wait (a sandbox recorder's) under the same deadline; `seen` tells what did arrive
 * for the failure message.
 */
export function within<T>(
  what: string,
  work: Promise<T>,
  options: { timeoutMs?: number; seen?: () => unknown } = {},
): Promise<T> {
  const started = Date.now();
  return raceDeadline(work, waitDeadline(options.timeoutMs), () => {
    const seen = options.seen
      ? `; seen instead: ${inspect(options.seen(), { depth: 3, breakLength: 120 })}`
      : '';
    return `waited ${((Date.now() - started) / 1000).toFixed(1)} s for ${what}${seen}`;
  });
}

/** The first item a sandbox recorder holds, or will hold, that matches; fails naming the last few it got. */
export function recorded<T>(
  what: string,
  recorder: Recorder<T>,
  predicate: (item: T) => boolean,
): Promise<T> {
  return within(what, recorder.waitFor(predicate), { seen: () => recorder.items.slice(-5) });
}

/** A journey's state, short enough for a failure message. */
export function journeySummary(state: JourneyView | undefined): unknown {
  if (!state) return state;
  const { status, lastEventId, pendingEvents, pendingEffects, pendingPushes, counters } = state;
  return { status, lastEventId, pendingEvents, pendingEffects, pendingPushes, counters };
}
