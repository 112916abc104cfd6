import type { MysqlPool, MysqlPoolConnection } from 'kysely';
import { type ConnectionOptions, createConnection, type Pool, type PoolConnection } from 'mysql2';
import { withDeadline } from '../deadline.ts';
import { ConnectionGate, type ConnectionGateOptions } from './connection-gate.ts';

/**
 * A mysql2 pool behind a ConnectionGate, as Kysely's MysqlDialect takes it: while MySQL/MariaDB
 * cannot be reached, checkouts fail at once with SERVICE_UNAVAILABLE, and a checkout stalled on a
 * network that went silent is destroyed once a probe fails (mysql2 has no query timeout: it would
 * wait for ever). Every error of a pooled connection reaches the gate's classifier.
 */
export class MysqlGatedPool implements MysqlPool {
  readonly gate: ConnectionGate<PoolConnection>;
  // One wrapper per pooled connection: Kysely keys its own connection objects on it.
  private readonly wrappers = new WeakMap<PoolConnection, GatedConnection>();

  constructor(
    readonly pool: Pool,
    /** The pool's connection options, for the probe's fresh connection. */
    connectionOptions: ConnectionOptions,
    options: ConnectionGateOptions = {},
  ) {
    this.gate = new ConnectionGate<PoolConnection>(
      {
        probe: (timeoutMs) => probeMysql(connectionOptions, timeoutMs),
        destroy: destroyConnectionSocket,
        // "Too many connections": up, and full.
        isFull: isMysqlFull,
        // Beyond MariaDB's max_statement_time (30 s) and InnoDB's lock wait (50 s) of the pool's
        // sessions (mysql.ts), after which the server would have answered.
        hungMs: 60_000,
      },
      options,
    );
    const gate = this.gate;
    pool.on('connection', (connection) => {
      gate.tracked(connection);
      connection.on('error', (error: unknown) => {
        gate.report(error);
        gate.forget(connection);
      });
      connection.once('end', () => gate.forget(connection));
    });
  }

  getConnection(callback: (error: unknown, connection: MysqlPoolConnection) => void): void {
    try {
      this.gate.admit();
    } catch (error) {
      process.nextTick(() => callback(error, undefined as never));
      return;
    }
    this.pool.getConnection((error, connection) => {
      if (error) {
        this.gate.report(error);
        callback(error, undefined as never);
        return;
      }
      // Marked here, not on the pool's 'acquire': a connection released to a queued checkout
      // goes straight to it, without 'release' or 'acquire'.
      this.gate.acquired(connection);
      let wrapper = this.wrappers.get(connection);
      if (!wrapper) {
        wrapper = new GatedConnection(connection, this.gate);
        this.wrappers.set(connection, wrapper);
      }
      callback(null, wrapper);
    });
  }

  end(callback: (error: unknown) => void): void {
    this.gate.close();
    this.pool.end(callback);
  }
}

const FULL_CODES = new Set(['ER_CON_COUNT_ERROR', 'ER_TOO_MANY_USER_CONNECTIONS']);

/** Whether a connection was refused because the server is full (it is up, and answered). */
export function isMysqlFull(error: unknown): boolean {
  return FULL_CODES.has((error as { code?: unknown } | undefined)?.code as string);
}

/** What Kysely uses of a pooled connection; a release tells the gate the checkout ended. */
class GatedConnection implements MysqlPoolConnection {
  constructor(
    private readonly connection: PoolConnection,
    private readonly gate: ConnectionGate<PoolConnection>,
  ) {}

  // Passed through as called: with a callback (a query), or without (a stream). Its errors go to
  // the gate too: a session ended by the server reaches only the query (mysql2 has dropped the
  // connection from the pool by then, and no longer emits 'error' on it).
  readonly query = ((
    sql: string,
    parameters: unknown[],
    callback?: (error: unknown, result: never) => void,
  ) => {
    const query = this.connection.query as (...args: unknown[]) => {
      on(event: 'error', listener: (error: unknown) => void): unknown;
    };
    if (callback)
      return query.call(this.connection, sql, parameters, (error: unknown, result: never) => {
        if (error) this.gate.report(error);
        callback(error, result);
      });
    const streaming = query.call(this.connection, sql, parameters);
    streaming.on('error', (error) => this.gate.report(error));
    return streaming;
  }) as unknown as MysqlPoolConnection['query'];

  release(): void {
    this.gate.released(this.connection);
    this.connection.release();
  }
}

// Closing would send COM_QUIT and wait for the server, which never answers on a dead network;
// a socket destroyed with an error fails the waiting query now, and the pool drops the connection.
// (connection.destroy() would not: it marks the connection closing, and mysql2 then ignores the
// socket's close, leaving the query waiting for ever.)
function destroyConnectionSocket(connection: PoolConnection): void {
  const stream = (connection as { stream?: { destroy(error?: Error): void } }).stream;
  stream?.destroy(
    Object.assign(new Error('Connection lost: the database stopped answering'), {
      code: 'PROTOCOL_CONNECTION_LOST',
    }),
  );
}

/** A fresh connection and `SELECT 1` within `timeoutMs`; rejects with why not. */
export async function probeMysql(options: ConnectionOptions, timeoutMs: number): Promise<void> {
  const connection = createConnection({ ...options, connectTimeout: timeoutMs });
  connection.on('error', () => {});
  try {
    await withDeadline(
      new Promise<void>((resolve, reject) =>
        connection.query('SELECT 1', (error) => (error ? reject(error) : resolve())),
      ),
      timeoutMs,
    );
  } finally {
    (connection as { stream?: { destroy(): void } }).stream?.destroy();
    connection.destroy();
  }
}
