import { ReaderSignal } from './reader-signal.ts';

const NO_ITEMS: readonly never[] = [];

/**
 * Reads the next page (never empty; undefined at the end) and calls `done` or `fail` with it:
 * within the call, or later, from whatever made the page ready (the feed's head moving).
 */
export type ReadPage<T> = (
  signal: ReaderSignal,
  done: (page: T[] | undefined) => void,
  fail: (error: unknown) => void,
) => void;

/** What PagedStream.wait calls back: as next()'s promise would settle. */
export interface PageListener<T> {
  pageReady(event: IteratorResult<T, undefined>): void;
  pageFailed(error: unknown): void;
}

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

  constructor(private readonly readPage: ReadPage<T>) {}

  // Not an async function: a subscriber waiting for the next change holds this call's promise for
  // as long as nothing happens, and a suspended async call weighs twice as much as a promise.
  next(): Promise<IteratorResult<T, undefined>> {
    return new Promise((resolve, reject) => this.wait({ pageReady: resolve, pageFailed: reject }));
  }

  /**
   * As next(), with callbacks instead of a promise: `listener` is called within this call when an
   * item is ready, or else within whatever readies the next page (the feed's head moving), so that
   * a consumer can deliver it in the same turn, without a microtask per step.
   */
  wait(listener: PageListener<T>): void {
    if (this.index < this.page.length) {
      listener.pageReady({ done: false, value: this.take() });
      return;
    }
    if (this.finished) {
      listener.pageReady({ done: true, value: undefined });
      return;
    }
    // Once: a throw of the listener itself, within readPage's call, is not readPage's failure.
    let settled = false;
    const done = (page: T[] | undefined) => {
      if (settled) return;
      settled = true;
      if (!page || this.finished) this.finish();
      else {
        this.page = page;
        this.index = 0;
      }
      this.wait(listener);
    };
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      this.finish();
      listener.pageFailed(error);
    };
    try {
      this.readPage(this.signal, done, fail);
    } catch (error) {
      if (settled) throw error;
      fail(error);
    }
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
