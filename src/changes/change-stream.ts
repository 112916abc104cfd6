import { ReaderSignal } from './reader-signal.ts';

const NO_ITEMS: readonly never[] = [];

/**
 * An async iterator over pages that are read only when the consumer has used up the last one:
 * the consumer's pace is the reader's pace, so nothing queues up behind a slow subscriber. A
 * return() while a page is being awaited aborts that read at once, so an unsubscribed client is
 * released without waiting for the next change.
 */
export class PagedStream<T> implements AsyncIterableIterator<T> {
  private page: readonly T[] = NO_ITEMS;
  private index = 0;
  private finished = false;
  private readonly signal = new ReaderSignal();
  // One function, not an array: an array made by push keeps room for 16, per open subscription.
  private onFinished: (() => void) | undefined;

  /** `readPage` resolves with the next items (never empty), or undefined at the end. */
  constructor(private readonly readPage: (signal: ReaderSignal) => Promise<T[] | undefined>) {}

  // Not an async function: a subscriber waiting for the next change holds this call's promise for
  // as long as nothing happens, and a suspended async call weighs twice as much as a promise.
  next(): Promise<IteratorResult<T, undefined>> {
    if (this.index < this.page.length) return Promise.resolve({ done: false, value: this.take() });
    if (this.finished) return Promise.resolve({ done: true, value: undefined });
    let read: Promise<T[] | undefined>;
    try {
      read = this.readPage(this.signal);
    } catch (error) {
      read = Promise.reject(error);
    }
    return read.then(
      (page) => {
        if (!page || this.finished) this.finish();
        else {
          this.page = page;
          this.index = 0;
        }
        return this.next();
      },
      (error: unknown) => {
        this.finish();
        throw error;
      },
    );
  }

  /**
   * The next item if it is already read (from the current page), without waiting; otherwise
   * undefined, and next() reads on. Lets a consumer take a whole page without a promise per item.
   */
  takeReady(): T | undefined {
    if (this.finished || this.index >= this.page.length) return undefined;
    return this.take();
  }

  private take(): T {
    const item = this.page[this.index++] as T;
    // A page used up is let go at once: an idle subscriber would hold its last page until the next.
    if (this.index >= this.page.length) {
      this.page = NO_ITEMS;
      this.index = 0;
    }
    return item;
  }

  async return(): Promise<IteratorResult<T, undefined>> {
    this.finish();
    return { done: true, value: undefined };
  }

  async throw(error?: unknown): Promise<IteratorResult<T, undefined>> {
    this.finish();
    throw error;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Runs `listener` once, when the stream ends for whatever reason. */
  onFinish(listener: () => void): void {
    const earlier = this.onFinished;
    this.onFinished = earlier
      ? () => {
          earlier();
          listener();
        }
      : listener;
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.page = NO_ITEMS;
    this.signal.abort();
    const listener = this.onFinished;
    this.onFinished = undefined;
    listener?.();
  }
}
