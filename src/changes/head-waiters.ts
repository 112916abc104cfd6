/**
 * Readers parked at the head of the log until it moves. A waiter is released by the next
 * advance or by its own abort signal, whichever comes first, and never holds on to either.
 */
export class HeadWaiters {
  private waiters = new Set<() => void>();

  /** Resolves at the next wake(), or at once when `signal` aborts. */
  next(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.waiters.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.waiters.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /** The head moved (or the feed started or stopped): every parked reader looks again. */
  wake(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const waiter of waiters) waiter();
  }
}
