import { entryToChange, type LogEntry, type OrderChange } from './change.ts';
import { encodeCursor } from './position.ts';

// One change object per log entry, however many readers deliver it: the server serializes a
// result once per change object (src/server/shared-execution.ts). Keyed weakly, so an entry that
// leaves the window and every reader is collected with its change.
const changes = new WeakMap<LogEntry, OrderChange>();

/** The change for an entry read with no snapshot to skip, with a cursor of its position alone. */
export function plainChange(entry: LogEntry): OrderChange {
  let change = changes.get(entry);
  if (!change) {
    change = entryToChange(entry, encodeCursor({ position: entry.position }));
    changes.set(entry, change);
  }
  return change;
}
