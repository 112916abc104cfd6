import type { LogEntry } from './change.ts';
import type { ReadResult } from './change-log.ts';
import { comparePositions, type Position } from './position.ts';

/**
 * The newest entries of the log, in order, up to the feed's head: live subscribers read them from
 * memory instead of each querying the database. It holds every entry between `base` and the head,
 * so a reader at or after `base` finds here everything it has not seen.
 */
export class RecentWindow {
  private entries: LogEntry[] = [];

  constructor(
    private readonly capacity: number,
    private base: Position,
  ) {}

  covers(position: Position): boolean {
    return comparePositions(position, this.base) >= 0;
  }

  /** Appends a whole batch read from the log; what overflows drops off the front. */
  append(entries: LogEntry[]): void {
    this.entries.push(...entries);
    const excess = this.entries.length - this.capacity;
    if (excess > 0) this.base = (this.entries.splice(0, excess).at(-1) as LogEntry).position;
  }

  /** Starts over, empty, at `base`: readers behind it go to the log. */
  reset(base: Position): void {
    this.entries = [];
    this.base = base;
  }

  /** Up to `limit` entries after `position`, which `covers` must accept; `head` ends the window. */
  read(position: Position, head: Position, limit: number): ReadResult {
    let low = 0;
    let high = this.entries.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (comparePositions((this.entries[mid] as LogEntry).position, position) <= 0) low = mid + 1;
      else high = mid;
    }
    const entries = this.entries.slice(low, low + limit);
    const reachedEnd = low + entries.length >= this.entries.length;
    return { entries, position: reachedEnd ? head : (entries.at(-1) as LogEntry).position };
  }
}
