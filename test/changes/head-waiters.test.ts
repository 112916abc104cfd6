import { describe, expect, test } from 'vitest';
import { HeadWaiters } from '../../src/changes/head-waiters.ts';

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
    const first = new AbortController();
    const parked = [first, new AbortController()].map((controller) => waiters.next(controller.signal));
    expect(await settled(Promise.race(parked))).toBe(false);
    waiters.wake();
    expect(await settled(Promise.all(parked))).toBe(true);
    const again = waiters.next(first.signal);
    expect(await settled(again)).toBe(false);
    waiters.wake();
    expect(await settled(again)).toBe(true);
  });

  test('an abort releases its own reader at once, on any of its waits, and no other', async () => {
    const waiters = new HeadWaiters();
    const mine = new AbortController();
    const other = new AbortController();
    // The same signal parks several times in a row (one reader, several advances).
    for (let i = 0; i < 3; i++) {
      const wait = waiters.next(mine.signal);
      waiters.wake();
      expect(await settled(wait)).toBe(true);
    }
    const minePark = waiters.next(mine.signal);
    const otherPark = waiters.next(other.signal);
    mine.abort();
    expect(await settled(minePark)).toBe(true);
    expect(await settled(otherPark)).toBe(false);
    // Aborted: every later wait resolves at once.
    expect(await settled(waiters.next(mine.signal))).toBe(true);
    waiters.wake();
    expect(await settled(otherPark)).toBe(true);
  });
});
