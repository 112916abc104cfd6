/**
 * Readers parked at the head of the log until it moves. A waiter is released by the next
 * advance or by its own abort signal, whichever comes first.
 *
 * A reader parks once per advance, so with many subscribers this is per-subscriber work on every
 * change: each signal gets one abort listener for its whole life (a reader's signal lives as long
 * as its stream), which releases whatever that reader is waiting for, instead of a listener added
 * and removed on every wait.
 */
export class HeadWaiters {
  private waiters = new Set<() => void>();
  /** The waiter parked with each signal, while there is one. */
  private readonly parked = new WeakMap<AbortSignal, () => void>();
  /** Signals that already have their abort listener. */
  private readonly listening = new WeakSet<AbortSignal>();

  /** Resolves at the next wake(), or at once when `signal` aborts. */
  next(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    if (!this.listening.has(signal)) {
      this.listening.add(signal);
      signal.addEventListener('abort', () => this.parked.get(signal)?.(), { once: true });
    }
    return new Promise((resolve) => {
      const done = () => {
        this.waiters.delete(done);
        if (this.parked.get(signal) === done) this.parked.delete(signal);
        resolve();
      };
      // A signal parks one reader at a time; an earlier waiter of it, if any, is released first.
      this.parked.get(signal)?.();
      this.parked.set(signal, done);
      this.waiters.add(done);
    });
  }

  /** The head moved (or the feed started or stopped): every parked reader looks again. */
  wake(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const waiter of waiters) waiter();
  }
}
