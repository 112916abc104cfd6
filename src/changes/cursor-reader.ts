import {
  type ChangeFilter,
  entryToChange,
  type LogEntry,
  matchesFilter,
  type OrderChange,
} from './change.ts';
import type { ReadResult } from './change-log.ts';
import { type Cursor, encodeCursor, type Position, type Snapshot, visibleIn } from './position.ts';

/**
 * One reader's walk through the log: its position, its filter, and, after a consistent read, the
 * snapshot whose transactions it has already seen. Every entry is passed here exactly once, in
 * log order, so whatever it yields has no gap and no duplicate.
 */
export class CursorReader {
  position: Position;
  private seen: Snapshot | undefined;

  constructor(
    cursor: Cursor,
    private readonly filter: ChangeFilter | undefined,
    /** Makes the change for an entry read with no snapshot to skip (the feed memoizes these). */
    private readonly toChange: (entry: LogEntry) => OrderChange,
  ) {
    this.position = cursor.position;
    this.seen = cursor.seen;
  }

  *accept(page: ReadResult): Generator<OrderChange> {
    for (const entry of page.entries) {
      this.position = entry.position;
      // Batches at or above the snapshot's xmax hold no transaction it saw; forget it from here on.
      if (this.seen && entry.batchXmin >= this.seen.xmax) this.seen = undefined;
      if (this.seen && visibleIn(entry.txid, this.seen)) continue;
      if (!matchesFilter(entry, this.filter)) continue;
      yield this.seen
        ? entryToChange(entry, encodeCursor({ position: entry.position, seen: this.seen }))
        : this.toChange(entry);
    }
    this.position = page.position;
  }
}
