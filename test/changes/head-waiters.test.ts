import { describe, expect, test } from 'vitest';
import { HeadWaiters } from '../../src/changes/head-waiters.ts';
import { ReaderSignal } from '../../src/changes/reader-signal.ts';

const settled = async (promise: Promise<unknown>) => {
  let done = false;
  void promise.then(() => {
    done = true;
  });
  await new Promise((resolve) => setImmediate(resolve));
  return done;
};

describe('HeadWaiters', () => {
  test('wake releases every parked reader, and only those parked before it', async () => {
    const waiters = new HeadWaiters();
    const first = new ReaderSignal();
    const parked = [first, new ReaderSignal()].map((signal) => waiters.next(signal));
    expect(await settled(Promise.race(parked))).toBe(false);
    waiters.wake();
    expect(await settled(Promise.all(parked))).toBe(true);
    const again = waiters.next(first);
    expect(await settled(again)).toBe(false);
    waiters.wake();
    expect(await settled(again)).toBe(true);
  });

  test('an abort releases its own reader at once, on any of its waits, and no other', async () => {
    const waiters = new HeadWaiters();
    const mine = new ReaderSignal();
    const other = new ReaderSignal();
    // The same signal parks several times in a row (one reader, several advances).
    for (let i = 0; i < 3; i++) {
      const wait = waiters.next(mine);
      waiters.wake();
      expect(await settled(wait)).toBe(true);
    }
    const minePark = waiters.next(mine);
    const otherPark = waiters.next(other);
    mine.abort();
    expect(await settled(minePark)).toBe(true);
    expect(await settled(otherPark)).toBe(false);
    // Aborted: every later wait resolves at once.
    expect(await settled(waiters.next(mine))).toBe(true);
    waiters.wake();
    expect(await settled(otherPark)).toBe(true);
  });
});
