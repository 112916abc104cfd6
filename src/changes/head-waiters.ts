import type { ReaderSignal } from './reader-signal.ts';

/**
 * Readers parked at the head of the log until it moves. A waiter is released by the next
 * advance or by its own signal's abort, whichever comes first.
 *
 * A reader parks once per advance, so with many subscribers this is per-subscriber work on every
 * change, and an idle subscriber is parked here all along: a wait is the reader's signal in a set
 * and the signal's `release`, nothing per wait besides its callback.
 */
export class HeadWaiters {
  private waiters = new Set<ReaderSignal>();

  /** `onError`: a released reader's callback threw (a bug); the others are released anyway. */
  constructor(private readonly onError: (error: unknown) => void = reportLater) {}

  /** Resolves at the next wake(), or at once when `signal` aborts. */
  next(signal: ReaderSignal): Promise<void> {
    return new Promise((resolve) => this.park(signal, resolve));
  }

  /**
   * Calls `resumed` at the next wake(), within it: the woken readers run one after another, each
   * to its own socket, so that the first subscriber of a change does not wait for every other
   * one's share of the work, as promises resolved together would make it (each step of every
   * reader's chain queued behind the same step of all the others). On `signal`'s abort, `resumed`
   * runs in a microtask instead: the abort comes from the reader's own stream, which is ending.
   */
  park(signal: ReaderSignal, resumed: () => void): void {
    if (signal.aborted) {
      queueMicrotask(resumed);
      return;
    }
    // A signal parks one reader at a time; an earlier waiter of it, if any, is released first
    // (later: it must not run inside this call, nor unpark this one).
    const earlier = signal.release;
    if (earlier) queueMicrotask(earlier);
    const release = () => {
      if (signal.release === release) {
        signal.release = undefined;
        this.waiters.delete(signal);
      }
      if (signal.aborted) queueMicrotask(resumed);
      else resumed();
    };
    signal.release = release;
    this.waiters.add(signal);
  }

  /** The head moved (or the feed started or stopped): every parked reader looks again. */
  wake(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const signal of waiters) {
      try {
        signal.release?.();
      } catch (error) {
        this.onError(error);
      }
    }
  }
}

// Without a logger: as a rejected promise of the waiter's chain would, unhandled.
function reportLater(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}
