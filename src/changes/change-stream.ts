import { ReaderSignal } from './reader-signal.ts';

/**
 * An async iterator over pages that are read only when the consumer has used up the last one:
 * the consumer's pace is the reader's pace, so nothing queues up behind a slow subscriber. A
 * return() while a page is being awaited aborts that read at once, so an unsubscribed client is
 * released without waiting for the next change.
 */
export class PagedStream<T> implements AsyncIterableIterator<T> {
  private page: T[] = [];
  private index = 0;
  private finished = false;
  private readonly signal = new ReaderSignal();
  private finishListeners: (() => void)[] = [];

  /** `readPage` resolves with the next items (never empty), or undefined at the end. */
  constructor(private readonly readPage: (signal: ReaderSignal) => Promise<T[] | undefined>) {}

  // Not an async function: a subscriber waiting for the next change holds this call's promise for
  // as long as nothing happens, and a suspended async call weighs twice as much as a promise.
  next(): Promise<IteratorResult<T, undefined>> {
    if (this.index < this.page.length)
      return Promise.resolve({ done: false, value: this.page[this.index++] as T });
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
    return this.page[this.index++];
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
    this.finishListeners.push(listener);
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.page = [];
    this.signal.abort();
    for (const listener of this.finishListeners.splice(0)) listener();
  }
}
