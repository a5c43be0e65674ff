// A first-come, first-served gate: at most `size` holders at once, the rest wait their turn in arrival order.
// Ingest puts one in front of its database section, sized to its pool, so a burst queues instead of timing out.
export class Gate {
  private holders = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1)
      throw new Error(`a gate needs a size of at least 1, not ${size}`);
  }

  /** Holders now and those waiting behind them. */
  get load(): { holders: number; waiting: number } {
    return { holders: this.holders, waiting: this.waiting.length };
  }

  /** Runs `work` once it is this caller's turn; the next in line goes as soon as it settles. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    await this.enter();
    try {
      return await work();
    } finally {
      this.leave();
    }
  }

  private enter(): Promise<void> {
    if (this.holders < this.size) {
      this.holders += 1;
      return Promise.resolve();
    }
    return new Promise((resolveTurn) => this.waiting.push(resolveTurn));
  }

  private leave(): void {
    const next = this.waiting.shift();
    // The turn passes straight to the next in line: nobody arriving later can slip in between.
    if (next) next();
    else this.holders -= 1;
  }
}
