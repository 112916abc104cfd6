import type { OrderChange } from './change.ts';
import type { ReadResult } from './change-log.ts';
import type { CursorReader } from './cursor-reader.ts';
import type { Position } from './position.ts';

export interface HistoryPagesOptions {
  reader: CursorReader;
  /** The most changes to return. */
  first: number;
  /** Whether the log has more to read after `position` (up to the head taken at the start). */
  more: (position: Position) => boolean;
  /** The page after `position`; `missing` is how many changes are still wanted. */
  readPage: (position: Position, missing: number) => Promise<ReadResult>;
}

/** Past changes, oldest first: pages through the log until `first` changes or the head. */
export async function readHistory(options: HistoryPagesOptions): Promise<OrderChange[]> {
  const { reader, first, more, readPage } = options;
  const changes: OrderChange[] = [];
  while (changes.length < first && more(reader.position)) {
    const page = await readPage(reader.position, first - changes.length);
    for (const change of reader.accept(page)) {
      changes.push(change);
      if (changes.length >= first) break;
    }
  }
  return changes;
}
