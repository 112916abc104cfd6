import { isConnectionError } from '../db/connection-errors.ts';
import { withDeadline } from '../deadline.ts';
import { DomainError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { type Cursor, decodeCursor, type Position } from './position.ts';

export interface StartCursorOptions {
  /** The client's cursor; without one the reader starts where `otherwise` says. */
  after: string | null | undefined;
  otherwise: () => Promise<Cursor>;
  /** Throws CURSOR_EXPIRED (or BAD_USER_INPUT) for a position the log cannot resume from. */
  checkPosition: (position: Position) => Promise<void>;
  /** How long the database may take before the start counts as unreachable. */
  timeoutMs: number;
}

/** Where a reader starts: the client's cursor once the log says it can resume from it, or `otherwise`. */
export async function startCursor(options: StartCursorOptions): Promise<Cursor> {
  const { after, otherwise, checkPosition, timeoutMs } = options;
  if (after === undefined || after === null) return withDeadline(otherwise(), timeoutMs);
  const cursor = decodeCursor(after);
  await withDeadline(checkPosition(cursor.position), timeoutMs);
  return cursor;
}

/**
 * A subscription that cannot start because the database is unreachable answers SERVICE_UNAVAILABLE
 * (the client retries); any other error passes as it is. With `log`, the refusal is logged.
 */
export function unavailableIfUnreachable(log?: Logger): (error: unknown) => never {
  return (error) => {
    if (!isConnectionError(error)) throw error;
    log?.warn({ err: error }, 'a subscription could not start: database unreachable');
    throw new DomainError('SERVICE_UNAVAILABLE', 'the database cannot be reached; retry shortly');
  };
}
