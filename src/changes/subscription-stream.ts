import type { OrderChange } from './change.ts';
import type { ReadResult } from './change-log.ts';
import { PagedStream } from './change-stream.ts';
import type { CursorReader } from './cursor-reader.ts';
import type { Position } from './position.ts';
import type { ReaderSignal } from './reader-signal.ts';

/**
 * Reads the next entries after `position` and calls `done` with them (undefined once the reader
 * should end), waiting at the head; or `fail`, never throwing itself (a throw out of it is the
 * consumer's, called back within). May call back within the call (a page from memory) or within
 * the head's move (a reader parked there).
 */
export type ReadFrom = (
  position: Position,
  signal: ReaderSignal,
  done: (page: ReadResult | undefined) => void,
  fail: (error: unknown) => void,
) => void;

/** A ReadFrom of a feed that reads with a promise. */
export const readFromPromise =
  (read: (position: Position, signal: ReaderSignal) => Promise<ReadResult | undefined>): ReadFrom =>
  (position, signal, done, fail) =>
    read(position, signal).then(done, fail);

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

  stream(reader: CursorReader): PagedStream<OrderChange> {
    this.open++;
    const stream = new PagedStream<OrderChange>((signal, done, fail) =>
      this.readChanges(reader, signal, done, fail),
    );
    stream.onFinish(() => this.open--);
    return stream;
  }

  /**
   * The next changes for `reader`, however many pages hold nothing for it. Callbacks rather than
   * an async loop: an idle subscriber holds this read for as long as nothing happens, and a
   * suspended async call weighs twice as much; and a reader woken at the head reads its page and
   * reaches its consumer within the wake (HeadWaiters.park).
   */
  private readChanges(
    reader: CursorReader,
    signal: ReaderSignal,
    done: (changes: OrderChange[] | undefined) => void,
    fail: (error: unknown) => void,
  ): void {
    const accept = (page: ReadResult | undefined): void => {
      if (!page) {
        done(undefined);
        return;
      }
      let changes: OrderChange[];
      try {
        changes = [...reader.accept(page)];
      } catch (error) {
        fail(error);
        return;
      }
      const next = () => (changes.length > 0 ? done(changes) : readPage());
      if (this.options.yieldAfter?.(page)) setImmediate(next);
      else next();
    };
    const readPage = (): void => this.readFrom(reader.position, signal, accept, fail);
    readPage();
  }
}
