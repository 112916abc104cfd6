import { DomainError } from '../errors.ts';

/** What a client is told when the database cannot be reached: clear, and nothing about internals. */
export const UNAVAILABLE_MESSAGE = 'The database cannot be reached right now; retry shortly.';

export const serviceUnavailable = () => new DomainError('SERVICE_UNAVAILABLE', UNAVAILABLE_MESSAGE);

// SQLSTATEs that mean "this session, or any session, cannot be had right now": class 08
// (connection exception), 57P01-57P05 (admin/crash shutdown, cannot connect now, idle session
// timeout), 53300 (too many connections), 25P03 (idle-in-transaction timeout ended the session).
const CONNECTION_SQLSTATE = /^(08...|57P0[1-5]|53300|25P03)$/;
// Errors of the socket under the session, as Node reports them.
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  // mysql2 (MySQL/MariaDB): the session was lost, killed, or cannot be had right now.
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CONNECTION_KILLED',
  'ER_SERVER_SHUTDOWN',
  'ER_CON_COUNT_ERROR',
  'ER_TOO_MANY_USER_CONNECTIONS',
  'ER_CLIENT_INTERACTION_TIMEOUT', // MySQL 8: the server ended an idle session (wait_timeout)
  'ER_NET_READ_ERROR',
  'ER_NET_READ_INTERRUPTED',
  'ER_NET_ERROR_ON_WRITE',
  'ER_NET_WRITE_INTERRUPTED',
]);
// MySQL/MariaDB error numbers of the same kind, for the ones mysql2 has no name for (it leaves
// `code` undefined): 1927 is MariaDB's "Connection was killed" (KILL CONNECTION mid-statement).
// 1040 too many connections, 1053 shutdown in progress, 1203 too many connections of one user,
// 4031 an idle session ended by the server.
const MYSQL_ERRNOS = new Set([1040, 1053, 1203, 1927, 4031]);
// pg's own errors carry no code, only these messages.
const PG_MESSAGES = [
  /^Connection terminated/, // "... unexpectedly", "... due to connection timeout"
  /is not queryable$/, // a client whose connection already failed, or was closed
  /^timeout exceeded when trying to connect$/, // pg-pool: a checkout waited POOL_WAIT_MS
  /^timeout expired$/, // pg.Client: a new connection took CONNECT_TIMEOUT_MS
  /^Query read timeout$/,
  /^Can't add new command when connection is in closed state$/, // mysql2
];

/**
 * Whether `error` says the database could not be reached or the session was lost, as opposed to
 * what a statement did wrong. The one classifier behind SERVICE_UNAVAILABLE (GraphQL, REST),
 * the connection gate and the change feed's retries.
 */
export function isConnectionError(error: unknown): boolean {
  if (error instanceof DomainError) return error.code === 'SERVICE_UNAVAILABLE';
  if (!error || typeof error !== 'object') return false;
  const { code, message, errors, cause, errno, sqlState } = error as {
    code?: unknown;
    message?: unknown;
    errors?: unknown;
    cause?: unknown;
    errno?: unknown;
    sqlState?: unknown;
  };
  if (typeof code === 'string' && (CONNECTION_SQLSTATE.test(code) || SOCKET_CODES.has(code))) return true;
  // mysql2's server errors: the number, and the SQLSTATE (class 08, connection exception, as above).
  if (typeof sqlState === 'string' && typeof errno === 'number') {
    if (MYSQL_ERRNOS.has(errno) || sqlState.startsWith('08')) return true;
  }
  if (typeof message === 'string' && typeof code !== 'string' && PG_MESSAGES.some((m) => m.test(message))) {
    return true;
  }
  // Node reports a refused connection to every address of a host as an AggregateError.
  if (Array.isArray(errors) && errors.length > 0 && errors.every(isConnectionError)) return true;
  return cause !== undefined && cause !== error && isConnectionError(cause);
}
