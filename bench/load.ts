// Load drivers and statistics: an open-loop driver with evenly spaced requests (latency measured from each
// request's scheduled time, so a slow server cannot hide its queue), a closed loop at fixed concurrency, and
// percentiles over plain sorted arrays.

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)]!;
}

export function summarize(latencies: number[]): LatencySummary {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted[sorted.length - 1] ?? NaN),
  };
}

export function median(values: number[]): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The median of each field over rounds. */
export function medianSummary(rounds: LatencySummary[]): LatencySummary {
  return {
    count: Math.round(median(rounds.map((r) => r.count))),
    p50: round(median(rounds.map((r) => r.p50))),
    p95: round(median(rounds.map((r) => r.p95))),
    p99: round(median(rounds.map((r) => r.p99))),
    max: round(median(rounds.map((r) => r.max))),
  };
}

export const round = (value: number, digits = 1) => Number(value.toFixed(digits));

export interface OpenLoopResult {
  sent: number;
  ok: number;
  errors: number;
  /** Answers other than success, by status or error code. */
  failures: Record<string, number>;
  /** Milliseconds from each request's scheduled send time to its answer (successes only). */
  latency: LatencySummary;
  /** The driver's worst lateness in sending a request (ms): large values mean the client itself was saturated. */
  maxSendLagMs: number;
  /** From the first scheduled send to the last answer (ms). */
  elapsedMs: number;
}

/**
 * Sends `rate` requests per second for `durationMs`, each at its own evenly spaced time whether or not earlier
 * ones were answered. `request` resolves with true for a success, or with a failure label.
 */
export async function openLoop(
  rate: number,
  durationMs: number,
  request: (i: number) => Promise<true | string>,
): Promise<OpenLoopResult> {
  const total = Math.max(1, Math.round((rate * durationMs) / 1000));
  const interval = 1000 / rate;
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  let maxSendLagMs = 0;
  const inFlight: Promise<void>[] = [];
  const start = performance.now() + 20;
  for (let i = 0; i < total;) {
    const now = performance.now();
    const due = start + i * interval;
    if (due > now) {
      await new Promise((resolveLater) => setTimeout(resolveLater, Math.max(0, due - now - 0.5)));
      continue;
    }
    // Every request whose time has come goes now (after a timer slip, several at once).
    for (; i < total && start + i * interval <= performance.now(); i++) {
      const scheduled = start + i * interval;
      maxSendLagMs = Math.max(maxSendLagMs, performance.now() - scheduled);
      inFlight.push(
        request(i).then(
          (outcome) => {
            if (outcome === true) latencies.push(performance.now() - scheduled);
            else failures[outcome] = (failures[outcome] ?? 0) + 1;
          },
          (error: unknown) => {
            const label = errorLabel(error);
            failures[label] = (failures[label] ?? 0) + 1;
          },
        ),
      );
    }
  }
  await Promise.all(inFlight);
  const errors = Object.values(failures).reduce((a, b) => a + b, 0);
  return {
    sent: total,
    ok: latencies.length,
    errors,
    failures,
    latency: summarize(latencies),
    maxSendLagMs: round(maxSendLagMs),
    elapsedMs: round(performance.now() - start),
  };
}

export interface ClosedLoopResult {
  completed: number;
  errors: number;
  failures: Record<string, number>;
  durationMs: number;
  throughput: number;
  latency: LatencySummary;
}

/** `concurrency` loops, each sending its next request when the previous one is answered, for `durationMs`. */
export async function closedLoop(
  concurrency: number,
  durationMs: number,
  request: (i: number) => Promise<true | string>,
): Promise<ClosedLoopResult> {
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  let next = 0;
  const start = performance.now();
  const end = start + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const i = next++;
        const sent = performance.now();
        let outcome: true | string;
        try {
          outcome = await request(i);
        } catch (error) {
          outcome = errorLabel(error);
        }
        if (outcome === true) latencies.push(performance.now() - sent);
        else failures[outcome] = (failures[outcome] ?? 0) + 1;
      }
    }),
  );
  const elapsed = performance.now() - start;
  return {
    completed: latencies.length,
    errors: Object.values(failures).reduce((a, b) => a + b, 0),
    failures,
    durationMs: round(elapsed),
    throughput: round((latencies.length * 1000) / elapsed),
    latency: summarize(latencies),
  };
}

export function errorLabel(error: unknown): string {
  const e = error as { cause?: { code?: string }; code?: string | number; name?: string };
  return String(e?.cause?.code ?? e?.code ?? e?.name ?? 'error');
}

export const sleep = (ms: number) => new Promise<void>((resolveLater) => setTimeout(resolveLater, ms));

/** `concurrency` loops sharing `total` requests; answers how many failed, by label. */
export async function runCount(
  concurrency: number,
  total: number,
  request: (i: number) => Promise<true | string>,
): Promise<Record<string, number>> {
  const failures: Record<string, number> = {};
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, total) }, async () => {
      for (let i = next++; i < total; i = next++) {
        let outcome: true | string;
        try {
          outcome = await request(i);
        } catch (error) {
          outcome = errorLabel(error);
        }
        if (outcome !== true) failures[outcome] = (failures[outcome] ?? 0) + 1;
      }
    }),
  );
  return failures;
}
