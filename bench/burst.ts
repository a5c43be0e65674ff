// Bursts (SPEC section 8): 1 000 web form webhooks sent evenly within one second, and 5 000 within ten, open
// loop; every webhook must end acknowledged (a 202 is one: stored, its signal queued), and the drain time is from
// the first send until every journey has applied its inquiry. The driver behaves as a partner does: a 503 (ingest's
// bounded gate refusing, nothing stored) is sent again after its Retry-After, and every 503 and retry is counted.
import os from 'node:os';
import { cpuBetween, cpuLine, readCpu, type CpuSplit } from './cpu';
import { appliedCount, drain, leadCount } from './ingest';
import { median, openLoop, round, type LatencySummary } from './load';
import { say, type BenchSettings } from './report';
import { startStack } from './stack';
import { post, postAnswer, setupWorkspace, webformInquiry, type SignedWebhook } from './workload';

export interface BurstRound {
  sent: number;
  /** Webhooks never acknowledged (a status other than 2xx or 503, a timeout, or 503 past the last attempt). */
  errors: number;
  /** 503 answers (each followed by a retry, but past the last attempt). */
  answered503: number;
  /** Webhooks that needed at least one retry before their 2xx. */
  retried: number;
  failures: Record<string, number>;
  answers: LatencySummary;
  /** First send → last answer. */
  answeredMs: number;
  /** Journeys of this round that had applied their inquiry by the last answer (the rest applied after it). */
  appliedWhenAnswered?: number;
  /** First send → every journey applied. */
  drainMs: number;
  /** CPU seconds per part of the stack over the same span (first send → every journey applied). */
  cpu?: CpuSplit;
}

export interface BurstSize {
  size: number;
  windowMs: number;
  rounds: BurstRound[];
  medianDrainMs: number;
  target: string;
  pass: boolean;
}

export interface BurstResult {
  bursts: BurstSize[];
  pass: boolean;
}

export async function benchBurst(settings: BenchSettings): Promise<BurstResult> {
  const stack = await startStack({ workers: 1 });
  try {
    // Follow-up timers off: no speed-to-lead timer of one burst fires into the next.
    const workspace = await setupWorkspace(stack, {
      name: 'Bench burst',
      partners: ['webform'],
      followUpTimers: false,
    });
    const webform = workspace.integrations.webform!;
    const tag = `burst${Date.now().toString(36)}`;
    // Warm-up: a small burst, so the first round does not pay for cold connections and JIT.
    await openLoop(50, 1000, (i) => post(webformInquiry(webform, `${tag}w`, i)));
    await drain(stack.pool, workspace.workspaceId, () => leadCount(stack.pool, workspace.workspaceId));
    const bursts: BurstSize[] = [];
    for (const [b, { size, windowMs, rounds, drainTargetMs }] of settings.burst.entries()) {
      say(`\n## Burst: ${size} webhooks within ${windowMs} ms, ${rounds} round(s)\n`);
      const results: BurstRound[] = [];
      for (let r = 0; r < rounds; r++) {
        const webhooks = Array.from({ length: size }, (_, i) =>
          webformInquiry(webform, `${tag}b${b}r${r}`, i),
        );
        const before = await leadCount(stack.pool, workspace.workspaceId);
        const appliedBefore = await appliedCount(stack.pool, workspace.workspaceId);
        const cpuBefore = readCpu(stack.cpuRoots());
        const started = performance.now();
        const tally = { answered503: 0, retried: 0 };
        // Latency: scheduled send → the 2xx, retries and their waits included (what the partner lives through).
        const sent = await openLoop((size * 1000) / windowMs, windowMs, (i) =>
          postAsPartner(webhooks[i]!, tally),
        );
        const answeredMs = performance.now() - started;
        const appliedWhenAnswered = (await appliedCount(stack.pool, workspace.workspaceId)) - appliedBefore;
        // Whatever was answered 2xx, at once or on a retry, is a lead; a lead whose signal failed is delivered by the
        // relay and counts too. A webhook refused 503 was not stored: only its acknowledged retry counts.
        await drain(stack.pool, workspace.workspaceId, async () =>
          Math.max(before + sent.ok, await leadCount(stack.pool, workspace.workspaceId)),
        );
        const drainMs = performance.now() - started;
        const cpu = cpuBetween(cpuBefore, readCpu(stack.cpuRoots()));
        results.push({
          sent: sent.sent,
          errors: sent.errors,
          answered503: tally.answered503,
          retried: tally.retried,
          failures: sent.failures,
          answers: sent.latency,
          answeredMs: round(answeredMs),
          appliedWhenAnswered,
          drainMs: round(drainMs),
          cpu,
        });
        say(
          `  round ${r + 1}: ${sent.errors} errors ${JSON.stringify(sent.failures)}, ${tally.answered503} answers 503 (${tally.retried} webhooks retried after Retry-After), answers p99 ${sent.latency.p99} ms, all answered after ${round(answeredMs)} ms (${appliedWhenAnswered} applied by then), all applied after ${round(drainMs)} ms\n    CPU seconds: ${cpuLine(cpu, cores())}`,
        );
      }
      bursts.push({
        size,
        windowMs,
        rounds: results,
        medianDrainMs: round(median(results.map((r) => r.drainMs))),
        target: `0 errors, all applied within ${drainTargetMs / 1000} s`,
        pass: results.every((r) => r.errors === 0 && r.drainMs <= drainTargetMs),
      });
    }
    return { bursts, pass: bursts.every((b) => b.pass) };
  } finally {
    await stack.stop();
  }
}

/** Attempts a partner makes before it gives up on a webhook (each after the Retry-After it was given). */
const PARTNER_ATTEMPTS = 10;

/** Posts as a partner does: a 503 is sent again after its Retry-After (5 s without one), up to 10 attempts. */
export async function postAsPartner(
  webhook: SignedWebhook,
  tally: { answered503: number; retried: number },
): Promise<true | string> {
  for (let attempt = 1; ; attempt++) {
    const { status, retryAfterSeconds } = await postAnswer(webhook);
    if (status >= 200 && status < 300) return true;
    if (status !== 503) return String(status);
    tally.answered503 += 1;
    if (attempt === PARTNER_ATTEMPTS) return '503';
    if (attempt === 1) tally.retried += 1;
    await new Promise((resolveLater) => setTimeout(resolveLater, (retryAfterSeconds ?? 5) * 1000));
  }
}

const cores = () => os.cpus().length;

export function burstTable(result: BurstResult): string {
  return result.bursts
    .map((burst) =>
      [
        `**Burst** — ${burst.size} web form webhooks sent evenly within ${burst.windowMs} ms (target: ${burst.target}):`,
        '',
        '| round | errors (never acknowledged) | answers 503 (webhooks retried) | 2xx p50 / p99 / max ms, retries included | all answered (applied by then) | all applied |',
        '| --- | --- | --- | --- | --- | --- |',
        ...burst.rounds.map(
          (r, i) =>
            `| ${i + 1} | ${r.errors}${r.errors ? ` ${JSON.stringify(r.failures)}` : ''} | ${r.answered503 ?? 0} (${r.retried ?? 0}) | ${r.answers.p50} / ${r.answers.p99} / ${r.answers.max} | ${(r.answeredMs / 1000).toFixed(1)} s${r.appliedWhenAnswered !== undefined ? ` (${r.appliedWhenAnswered})` : ''} | ${(r.drainMs / 1000).toFixed(1)} s |`,
        ),
        `| median drain | | | | | ${(burst.medianDrainMs / 1000).toFixed(1)} s: ${burst.pass ? 'pass' : '**FAIL**'} |`,
        '',
        'CPU seconds per part, first send → all applied (process trees from /proc; "machine busy" counts everything):',
        '',
        ...burst.rounds.map((r, i) => `- round ${i + 1}: ${r.cpu ? cpuLine(r.cpu, cores()) : 'not read'}`),
      ].join('\n'),
    )
    .join('\n\n');
}
