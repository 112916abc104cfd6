import { entryToChange, type LogEntry, type OrderChange } from './change.ts';
import { encodeCursor } from './position.ts';

// One change object per log entry, however many readers deliver it: the server serializes a
// result once per change object (src/server/shared-execution.ts). Kept on the entry itself, so it
// is collected with the entry; a WeakMap of every entry in flight (100,000 for one bulk statement)
// cost the garbage collector more than making the changes.
const CHANGE = Symbol('plain change');
type Memo = LogEntry & { [CHANGE]?: OrderChange };

/** The change for an entry read with no snapshot to skip, with a cursor of its position alone. */
export function plainChange(entry: LogEntry): OrderChange {
  const memo = entry as Memo;
  let change = memo[CHANGE];
  if (!change) {
    change = entryToChange(entry, encodeCursor({ position: entry.position }));
    memo[CHANGE] = change;
  }
  return change;
}
