// The gate in front of ingest's database section: never more holders than its size, the rest served in arrival order.
import { Gate } from '../../shared/gate';

/** A promise with its resolve, so a test decides when each holder finishes. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

test('holds at most its size at once and lets the waiting in first come, first served', async () => {
  const gate = new Gate(2);
  const started: number[] = [];
  const finish = Array.from({ length: 5 }, () => deferred());
  const runs = finish.map((f, i) =>
    gate.run(async () => {
      started.push(i);
      await f.promise;
      return i;
    }),
  );
  await Promise.resolve();
  expect(started).toEqual([0, 1]);
  expect(gate.load).toEqual({ holders: 2, waiting: 3 });

  // The second holder finishes first: the next in line (2) gets its place, not a later arrival.
  finish[1]!.resolve();
  await runs[1];
  await Promise.resolve();
  expect(started).toEqual([0, 1, 2]);
  expect(gate.load).toEqual({ holders: 2, waiting: 2 });

  for (const f of finish) f.resolve();
  expect(await Promise.all(runs)).toEqual([0, 1, 2, 3, 4]);
  expect(started).toEqual([0, 1, 2, 3, 4]);
  expect(gate.load).toEqual({ holders: 0, waiting: 0 });
});

test('a holder that fails passes its turn on, and its caller gets the error', async () => {
  const gate = new Gate(1);
  const failing = gate.run(() => Promise.reject(new Error('database down')));
  const next = gate.run(() => Promise.resolve('served'));
  await expect(failing).rejects.toThrow('database down');
  await expect(next).resolves.toBe('served');
  expect(gate.load).toEqual({ holders: 0, waiting: 0 });
});

test('a gate needs room for one', () => {
  expect(() => new Gate(0)).toThrow(/at least 1/);
});

describe('bounded', () => {
  /** A clock the test moves: service times are what the test says, never what the machine took. */
  function fakeClock(): { now: () => number; advance: (ms: number) => void } {
    let t = 0;
    return { now: () => t, advance: (ms) => (t += ms) };
  }

  test('refuses a newcomer whose expected wait (queue ahead × recent service time) exceeds the bound, and only then', async () => {
    const clock = fakeClock();
    const gate = new Gate(2, { maxWaitMs: 1000, now: clock.now });
    // Two holds of 100 ms each teach the gate its service time.
    for (let i = 0; i < 2; i += 1) {
      const f = deferred();
      const held = gate.run(() => f.promise);
      clock.advance(100);
      f.resolve();
      await held;
    }
    expect(gate.expectedWaitMs).toBe(0); // a free place: no wait

    // Fill both places (their time so far: 0 ms), then queue: the k-th waiter (0-based) waits ⌊k/2⌋+1 rounds.
    const finish: (() => void)[] = [];
    const admitted: Promise<number>[] = [];
    const enqueue = (i: number) => {
      const f = deferred();
      finish.push(f.resolve);
      admitted.push(gate.run(() => f.promise.then(() => i)));
    };
    enqueue(0);
    enqueue(1);
    // 20 waiters need 10 rounds of 100 ms = 1000 ms: exactly the bound, still admitted.
    for (let i = 2; i < 22; i += 1) {
      expect(gate.expectedWaitMs).toBe((Math.floor((i - 2) / 2) + 1) * 100);
      enqueue(i);
    }
    expect(gate.load).toEqual({ holders: 2, waiting: 20 });
    expect(gate.expectedWaitMs).toBe(1100);

    let ran = false;
    const refused = gate.run(async () => {
      ran = true;
    });
    await expect(refused).rejects.toMatchObject({
      name: 'GateFull',
      expectedWaitMs: 1100,
      maxWaitMs: 1000,
      retryAfterSeconds: 2,
    });
    expect(ran).toBe(false);
    expect(gate.load).toEqual({ holders: 2, waiting: 20 }); // the refused one never joined the queue

    // Every admitted one is served, in arrival order, however long it waited.
    const order: number[] = [];
    for (const [i, p] of admitted.entries()) void p.then(() => order.push(i));
    clock.advance(60_000);
    for (const f of finish) f();
    expect(await Promise.all(admitted)).toEqual(Array.from({ length: 22 }, (_, i) => i));
    expect(order).toEqual(Array.from({ length: 22 }, (_, i) => i));
    expect(gate.load).toEqual({ holders: 0, waiting: 0 });
  });

  test('a holder that stalls counts by its time so far, before any hold has finished', async () => {
    const clock = fakeClock();
    const gate = new Gate(1, { maxWaitMs: 5000, now: clock.now });
    const stalled = deferred();
    const first = gate.run(() => stalled.promise);
    // No service time known yet and the holder just started: a newcomer is queued.
    const second = gate.run(() => Promise.resolve('second'));
    expect(gate.load).toEqual({ holders: 1, waiting: 1 });
    // The database hangs: 3 s in, the holder alone makes the wait of the next 2 rounds 6 s > 5 s.
    clock.advance(3000);
    expect(gate.expectedWaitMs).toBe(6000);
    await expect(gate.run(() => Promise.resolve('third'))).rejects.toMatchObject({
      name: 'GateFull',
      retryAfterSeconds: 6,
    });
    stalled.resolve();
    await first;
    await expect(second).resolves.toBe('second');
    // Free again: a newcomer goes straight in, whatever the recent service time.
    expect(gate.expectedWaitMs).toBe(0);
    await expect(gate.run(() => Promise.resolve('fourth'))).resolves.toBe('fourth');
  });

  test('one slow holder among others that come and go does not make the wait look long', async () => {
    const clock = fakeClock();
    const gate = new Gate(2, { maxWaitMs: 1000, now: clock.now });
    const slow = deferred();
    const slowRun = gate.run(() => slow.promise);
    // The other place serves holds of 10 ms each while the slow one keeps its place.
    for (let i = 0; i < 5; i += 1) {
      const f = deferred();
      const held = gate.run(() => f.promise);
      clock.advance(10);
      f.resolve();
      await held;
    }
    clock.advance(5000);
    const fast = deferred();
    const fastRun = gate.run(() => fast.promise);
    // Full, the slow holder 5 s in: the youngest took its place just now, so the recent 10 ms stands, and a
    // newcomer queues.
    expect(gate.expectedWaitMs).toBe(10);
    const newcomer = gate.run(() => Promise.resolve('served'));
    expect(gate.load).toEqual({ holders: 2, waiting: 1 });
    fast.resolve();
    await fastRun;
    await expect(newcomer).resolves.toBe('served');
    slow.resolve();
    await slowRun;
  });

  test('a failed hold counts its time like any other, and the bound must be a wait', async () => {
    const clock = fakeClock();
    const gate = new Gate(1, { maxWaitMs: 100, now: clock.now });
    const f = deferred();
    const failing = gate.run(() => f.promise.then(() => Promise.reject(new Error('database down'))));
    clock.advance(500);
    f.resolve();
    await expect(failing).rejects.toThrow('database down');
    const holding = deferred();
    const held = gate.run(() => holding.promise);
    // 500 ms learnt from the failed hold: the next newcomer would wait 500 ms > 100 ms.
    await expect(gate.run(() => Promise.resolve())).rejects.toMatchObject({ expectedWaitMs: 500 });
    holding.resolve();
    await held;
    expect(() => new Gate(1, { maxWaitMs: -1 })).toThrow(/0 ms or more/);
  });
});
