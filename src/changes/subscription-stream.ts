import type { OrderChange } from './change.ts';
import type { ReadResult } from './change-log.ts';
import { PagedStream } from './change-stream.ts';
import type { CursorReader } from './cursor-reader.ts';
import type { Position } from './position.ts';
import type { ReaderSignal } from './reader-signal.ts';

/** The next entries after `position`, waiting at the head; undefined once the reader should end. */
export type ReadFrom = (position: Position, signal: ReaderSignal) => Promise<ReadResult | undefined>;

export interface SubscriptionStreamsOptions {
  /**
   * Whether to yield to other I/O after this page: a page read from memory, without I/O, with
   * more right behind it, would otherwise let one reader catching up hold the event loop. A
   * reader whose page reached the head parks until the next advance anyway.
   */
  yieldAfter?: (page: ReadResult) => boolean;
}

/**
 * The live streams of one feed: each pulls pages through its CursorReader, skipping pages that
 * hold nothing for it, and counts as a subscriber until it finishes.
 */
export class SubscriptionStreams {
  private open = 0;

  constructor(
    private readonly readFrom: ReadFrom,
    private readonly options: SubscriptionStreamsOptions = {},
  ) {}

  /** Open subscriptions (FeedStatus.subscribers). */
  get count(): number {
    return this.open;
  }

  stream(reader: CursorReader): AsyncIterableIterator<OrderChange> {
    this.open++;
    const stream = new PagedStream<OrderChange>((signal) => this.readChanges(reader, signal));
    stream.onFinish(() => this.open--);
    return stream;
  }

  /**
   * The next changes for `reader`. Promises and callbacks rather than an async loop: an idle
   * subscriber holds this read for as long as nothing happens, and a suspended async call weighs
   * twice as much. One promise for the whole read, however many pages hold nothing for the reader
   * (a promise resolved with the next page's promise, page after page, would chain them all).
   */
  private readChanges(reader: CursorReader, signal: ReaderSignal): Promise<OrderChange[] | undefined> {
    return new Promise((resolve, reject) => {
      const readPage = (): void => {
        try {
          this.readFrom(reader.position, signal).then(accept, reject);
        } catch (error) {
          reject(error);
        }
      };
      const accept = (page: ReadResult | undefined): void => {
        if (!page) {
          resolve(undefined);
          return;
        }
        let changes: OrderChange[];
        try {
          changes = [...reader.accept(page)];
        } catch (error) {
          reject(error);
          return;
        }
        const done = () => (changes.length > 0 ? resolve(changes) : readPage());
        if (this.options.yieldAfter?.(page)) setImmediate(done);
        else done();
      };
      readPage();
    });
  }
}
