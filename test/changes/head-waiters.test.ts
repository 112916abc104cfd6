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

  test('park: each reader resumes within wake, one after another, in the order they parked', () => {
    const waiters = new HeadWaiters();
    const log: string[] = [];
    const signals = [new ReaderSignal(), new ReaderSignal(), new ReaderSignal()];
    for (const [i, signal] of signals.entries())
      waiters.park(signal, () => {
        // A reader's whole delivery runs before the next reader starts: nothing interleaves.
        log.push(`start ${i}`);
        log.push(`end ${i}`);
        // Back at the head: parked for the next wake, not resumed again by this one.
        waiters.park(signal, () => log.push(`again ${i}`));
      });
    expect(log).toEqual([]);
    waiters.wake();
    expect(log).toEqual(['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2']);
    waiters.wake();
    expect(log.slice(6)).toEqual(['again 0', 'again 1', 'again 2']);
  });

  test('park: a reader that throws is reported and keeps no other from resuming', () => {
    const errors: unknown[] = [];
    const waiters = new HeadWaiters((error) => errors.push(error));
    const resumed: number[] = [];
    const failure = new Error('a broken consumer');
    for (let i = 0; i < 3; i++) {
      waiters.park(new ReaderSignal(), () => {
        if (i === 1) throw failure;
        resumed.push(i);
      });
    }
    waiters.wake();
    expect(resumed).toEqual([0, 2]);
    expect(errors).toEqual([failure]);
  });

  test('park: an abort resumes its reader in a microtask, never inside the abort', async () => {
    const waiters = new HeadWaiters();
    const signal = new ReaderSignal();
    let resumed = 0;
    waiters.park(signal, () => resumed++);
    signal.abort();
    // The abort comes from the reader's own stream while it ends: not re-entered there.
    expect(resumed).toBe(0);
    await Promise.resolve();
    expect(resumed).toBe(1);
    // Parked after the abort: resumed at once, in a microtask too, and not by a later wake.
    waiters.park(signal, () => resumed++);
    expect(resumed).toBe(1);
    await Promise.resolve();
    expect(resumed).toBe(2);
    waiters.wake();
    expect(resumed).toBe(2);
  });
});
