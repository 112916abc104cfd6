import type { ReaderSignal } from './reader-signal.ts';

/**
 * Readers parked at the head of the log until it moves. A waiter is released by the next
 * advance or by its own signal's abort, whichever comes first.
 *
 * A reader parks once per advance, so with many subscribers this is per-subscriber work on every
 * change, and an idle subscriber is parked here all along: a wait is the reader's signal in a set
 * and the signal's `release`, nothing per wait besides the promise itself.
 */
export class HeadWaiters {
  private waiters = new Set<ReaderSignal>();

  /** Resolves at the next wake(), or at once when `signal` aborts. */
  next(signal: ReaderSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    // A signal parks one reader at a time; an earlier waiter of it, if any, is released first.
    signal.release?.();
    return new Promise((resolve) => {
      signal.release = () => {
        signal.release = undefined;
        this.waiters.delete(signal);
        resolve();
      };
      this.waiters.add(signal);
    });
  }

  /** The head moved (or the feed started or stopped): every parked reader looks again. */
  wake(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const signal of waiters) signal.release?.();
  }
}
