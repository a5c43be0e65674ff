// A first-come, first-served gate: at most `size` holders at once, the rest wait their turn in arrival order.
// Ingest puts one in front of its database section, sized to its pool, so a burst queues instead of timing out;
// bounded, it refuses a newcomer whose expected wait would outlast a client's patience (ingest answers 503).

/** How long a newcomer may be expected to wait, and the clock its estimate is measured with. */
export interface GateBound {
  /** The longest expected wait a newcomer is queued for; beyond it the gate refuses it with `GateFull`. */
  maxWaitMs: number;
  /** Milliseconds from any origin (default performance.now); tests pass a clock they move themselves. */
  now?: () => number;
}

/** A newcomer refused because its expected wait exceeds the bound: nothing ran, the caller may come back. */
export class GateFull extends Error {
  constructor(
    readonly expectedWaitMs: number,
    readonly maxWaitMs: number,
  ) {
    super(`the queue's expected wait of ${Math.round(expectedWaitMs)} ms exceeds ${maxWaitMs} ms`);
    this.name = 'GateFull';
  }

  /** When to come back: once the queue ahead has drained (whole seconds, at least 1). */
  get retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(this.expectedWaitMs / 1000));
  }
}

/** Weight of the latest hold in the recent service time: about the last ten holds count. */
const SMOOTHING = 0.2;

export class Gate {
  private holders = 0;
  private readonly waiting: (() => void)[] = [];
  /** When each current holder got its place (holders that all stall make the wait they impose visible). */
  private readonly holdingSince = new Set<{ since: number }>();
  /** Recent service time of one hold (ms), smoothed; undefined until a hold has finished. */
  private serviceMs: number | undefined;
  private readonly now: () => number;

  constructor(
    readonly size: number,
    readonly bound?: GateBound,
  ) {
    if (!Number.isInteger(size) || size < 1)
      throw new Error(`a gate needs a size of at least 1, not ${size}`);
    if (bound && !(bound.maxWaitMs >= 0))
      throw new Error(`a gate's bound needs a wait of 0 ms or more, not ${bound.maxWaitMs}`);
    this.now = bound?.now ?? (() => performance.now());
  }

  /** Holders now and those waiting behind them. */
  get load(): { holders: number; waiting: number } {
    return { holders: this.holders, waiting: this.waiting.length };
  }

  /**
   * How long a newcomer would wait for its place: none while a place is free; otherwise one service time for each
   * round of `size` ahead of it. The service time is the recent one, or the youngest holder's time so far when that
   * is longer: no place has come free for that long, so a stalled database shows at once, before any hold finishes,
   * while one slow hold among others that come and go does not count.
   */
  get expectedWaitMs(): number {
    if (this.holders < this.size) return 0;
    const rounds = Math.floor(this.waiting.length / this.size) + 1;
    return rounds * this.serviceEstimateMs();
  }

  /**
   * Runs `work` once it is this caller's turn; the next in line goes as soon as it settles. Bounded, a newcomer
   * whose expected wait exceeds the bound is refused at once (`GateFull`, `work` never runs); one admitted is
   * never dropped, however long its wait turns out.
   */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.bound) {
      const expected = this.expectedWaitMs;
      if (expected > this.bound.maxWaitMs) throw new GateFull(expected, this.bound.maxWaitMs);
    }
    const hold = await this.enter();
    try {
      return await work();
    } finally {
      this.holdingSince.delete(hold);
      const took = Math.max(0, this.now() - hold.since);
      this.serviceMs =
        this.serviceMs === undefined ? took : this.serviceMs + SMOOTHING * (took - this.serviceMs);
      this.leave();
    }
  }

  private serviceEstimateMs(): number {
    const now = this.now();
    let youngest = Infinity;
    for (const hold of this.holdingSince) youngest = Math.min(youngest, now - hold.since);
    return Math.max(this.serviceMs ?? 0, youngest === Infinity ? 0 : youngest);
  }

  /** A place, timed from the moment it is taken (not from when its holder's code resumes). */
  private enter(): Promise<{ since: number }> {
    if (this.holders < this.size) {
      this.holders += 1;
      return Promise.resolve(this.take());
    }
    return new Promise((resolveTurn) => this.waiting.push(() => resolveTurn(this.take())));
  }

  private take(): { since: number } {
    const hold = { since: this.now() };
    this.holdingSince.add(hold);
    return hold;
  }

  private leave(): void {
    const next = this.waiting.shift();
    // The turn passes straight to the next in line: nobody arriving later can slip in between.
    if (next) next();
    else this.holders -= 1;
  }
}
