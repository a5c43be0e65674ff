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
