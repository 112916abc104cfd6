/**
 * Tells the feed that a reader's stream has ended, and releases the reader's wait at the head
 * when it does. A plain object where an AbortController would do: every open subscription holds
 * one for its whole life, and an AbortSignal (an EventTarget, with its listener maps) weighs about
 * 1 KB, several times what an idle subscription otherwise needs of it.
 */
export class ReaderSignal {
  private ended = false;
  /** Set by HeadWaiters while the reader is parked there: releases that wait. */
  release: (() => void) | undefined = undefined;

  /** Whether the stream has ended: reads stop, and a wait at the head resolves at once. */
  get aborted(): boolean {
    return this.ended;
  }

  abort(): void {
    if (this.ended) return;
    this.ended = true;
    this.release?.();
  }
}
