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
    const stream = new PagedStream<OrderChange>(async (signal) => {
      for (;;) {
        const page = await this.readFrom(reader.position, signal);
        if (!page) return undefined;
        const changes = [...reader.accept(page)];
        if (this.options.yieldAfter?.(page)) await new Promise((resolve) => setImmediate(resolve));
        if (changes.length > 0) return changes;
      }
    });
    stream.onFinish(() => this.open--);
    return stream;
  }
}
