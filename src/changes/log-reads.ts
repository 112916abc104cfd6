import { isConnectionError } from '../db/connection-errors.ts';
import { DomainError } from '../errors.ts';
import type { Logger } from '../log.ts';

/**
 * `read`, retried with backoff (100 ms doubling to 5 s) while its errors pass: a reader outlives
 * database outages, connection errors are retried, never passed on. `gone`: the reader or the
 * feed ended, so the error is passed on instead.
 */
export async function retryTransient<T>(
  read: () => Promise<T>,
  log: Logger,
  gone: () => boolean,
): Promise<T> {
  for (let delay = 100; ; delay = Math.min(delay * 2, 5_000)) {
    try {
      return await read();
    } catch (error) {
      if (!isTransient(error) || gone()) throw error;
      // Once per outage is said by the gate and the feed connection; here, per reader, at debug.
      const level = isConnectionError(error) ? 'debug' : 'warn';
      log[level]({ err: error, retryInMs: delay }, 'reading the change log failed; retrying');
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

// A reader retries what passes: a lost or refused connection, a statement cancelled by a timeout,
// and errors without a SQLSTATE (a driver's); a cursor error or a statement's own error ends it.
function isTransient(error: unknown): boolean {
  if (isConnectionError(error)) return true;
  if (error instanceof DomainError) return false;
  const code = (error as { code?: unknown }).code;
  return typeof code !== 'string' || code === '57014';
}
