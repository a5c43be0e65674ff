// Journey signals in flight from one ingest process: at most `concurrency` at once, first come first served,
// and never two for one lead at the same time, so each lead's events reach its journey in the order they were
// stored. A webhook waits here for its turn; one that waited too long is answered 202 while its job stays in
// line (the row is durable and pending), so a burst is answered at the database's pace, not Temporal's.

export interface SignalJob {
  /** Leads the job signals: jobs sharing one run one after another, in the order they were queued. */
  leads: string[];
  /** Inbox rows the job delivers (the relay skips rows queued here). */
  inboxIds: string[];
  run(): Promise<void>;
}

export interface QueuedJob {
  /** Resolves when the job starts running. */
  started: Promise<void>;
  /** Settles with the job's own outcome. */
  done: Promise<void>;
}

interface Entry {
  job: SignalJob;
  start(): void;
}

export class SignalQueue {
  private running = 0;
  private readonly queue: Entry[] = [];
  /** Leads with a job running. */
  private readonly busy = new Set<string>();
  /** Inbox rows of jobs queued or running, with how many jobs name each. */
  private readonly rows = new Map<string, number>();

  constructor(readonly concurrency: number) {
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new Error(`a signal queue needs a concurrency of at least 1, not ${concurrency}`);
  }

  /** Jobs running and waiting. */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.queue.length };
  }

  /** Whether a job queued or running here delivers this inbox row. */
  has(inboxId: string): boolean {
    return this.rows.has(inboxId);
  }

  enqueue(job: SignalJob): QueuedJob {
    for (const id of job.inboxIds) this.rows.set(id, (this.rows.get(id) ?? 0) + 1);
    let markStarted!: () => void;
    const started = new Promise<void>((resolveStarted) => (markStarted = resolveStarted));
    const done = new Promise<void>((resolveDone, rejectDone) => {
      this.queue.push({
        job,
        start: () => {
          markStarted();
          job.run().then(resolveDone, rejectDone);
        },
      });
    }).finally(() => this.finish(job));
    // Nobody may be listening (a webhook answered 202 long ago): the job's own code records its failures.
    done.catch(() => undefined);
    this.pump();
    return { started, done };
  }

  private finish(job: SignalJob): void {
    this.running -= 1;
    for (const lead of job.leads) this.busy.delete(lead);
    for (const id of job.inboxIds) {
      const left = (this.rows.get(id) ?? 1) - 1;
      if (left > 0) this.rows.set(id, left);
      else this.rows.delete(id);
    }
    this.pump();
  }

  /** Starts the first jobs in line whose leads are free; a lead's later jobs stay behind its earlier ones. */
  private pump(): void {
    const blocked = new Set<string>();
    for (let i = 0; i < this.queue.length && this.running < this.concurrency;) {
      const entry = this.queue[i]!;
      const leads = entry.job.leads;
      if (leads.some((lead) => this.busy.has(lead) || blocked.has(lead))) {
        for (const lead of leads) blocked.add(lead);
        i += 1;
        continue;
      }
      this.queue.splice(i, 1);
      this.running += 1;
      for (const lead of leads) this.busy.add(lead);
      entry.start();
    }
  }
}

/** Waits up to `ms` for `promise`; true when it settled (or resolved) in time. */
export function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolveWait) => {
    const timer = setTimeout(() => resolveWait(false), ms);
    promise.then(
      () => {
        clearTimeout(timer);
        resolveWait(true);
      },
      () => {
        clearTimeout(timer);
        resolveWait(true);
      },
    );
  });
}
