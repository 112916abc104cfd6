import { Kysely, MysqlDialect } from 'kysely';
import { createPool, type Pool, type PoolOptions } from 'mysql2';
import { CONNECT_TIMEOUT_MS } from './connect-timeout.ts';
import { type ConnectionGateOptions, registerGate } from './connection-gate.ts';
import type { Database } from './database.ts';

export { isMysqlDb, isMysqlUrl } from './dialect.ts';

import { MysqlGatedPool } from './mysql-gated-pool.ts';

/** mysql2 options from a `mysql://` or `mariadb://` URL. */
export function mysqlOptions(url: string): PoolOptions {
  const parsed = new URL(url.replace(/^mariadb:/i, 'mysql:'));
  return {
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : 3306,
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    database: decodeURIComponent(parsed.pathname.replace(/^\//, '')),
    // Times are stored in UTC (DATETIME(6), set by the triggers) and read as UTC.
    timezone: 'Z',
    // BIGINT ids stay strings, as on PostgreSQL: JavaScript numbers cannot hold every one.
    supportBigNumbers: true,
    bigNumberStrings: true,
    charset: 'utf8mb4',
    connectTimeout: CONNECT_TIMEOUT_MS,
    enableKeepAlive: true,
  };
}

export function databaseName(url: string): string {
  return mysqlOptions(url).database ?? '';
}

/**
 * Session settings the service sets for itself, as on PostgreSQL (session-settings.ts), so that
 * what a DBA sets globally (`SET GLOBAL max_statement_time = 0.05`, a 1 s wait_timeout or
 * innodb_lock_wait_timeout) cannot break it:
 * - time_zone UTC: a session's time zone decides what NOW() and TIMESTAMP mean.
 * - max_statement_time 30 s (MariaDB; the executable comment is skipped by MySQL): no request's
 *   statement legitimately runs longer, and one that does must not hold a connection forever;
 *   a DBA's 50 ms would fail reads of a 20,000-row batch and writes that wait for a row lock.
 * - innodb_lock_wait_timeout 50 s (the server's default) and lock_wait_timeout one day: a writer
 *   waits for a lock as any SQL client does, bounded by max_statement_time.
 * - wait_timeout 8 h (the default): the pool retires idle sessions itself; a server that ends
 *   them races with checkouts, and a request fails on the connection it was handed.
 */
export const MYSQL_POOL_SESSION_SQL =
  "SET time_zone = '+00:00', SESSION innodb_lock_wait_timeout = 50, SESSION lock_wait_timeout = 86400," +
  ' SESSION wait_timeout = 28800 /*M! , SESSION max_statement_time = 30 */';

/**
 * The capture's connections: as the pool's, without a statement limit (recording a 20,000-row
 * transaction, or waiting for a `LOCK TABLES` someone holds, must finish, or the capture would
 * retry it forever) and without an idle limit (its binary-log connections idle between events).
 */
export const MYSQL_CAPTURE_SESSION_SQL =
  "SET time_zone = '+00:00', SESSION innodb_lock_wait_timeout = 50, SESSION lock_wait_timeout = 86400," +
  ' SESSION wait_timeout = 28800 /*M! , SESSION max_statement_time = 0 */';

export function createMysqlPool(url: string, max = 10): Pool {
  const pool = createPool({ ...mysqlOptions(url), connectionLimit: max, waitForConnections: true });
  pool.on('connection', (connection) => {
    // Queued before any query the pool hands this connection out for.
    connection.query(MYSQL_POOL_SESSION_SQL);
    // A pooled connection whose server went away must not crash the process (the gate, when
    // there is one, listens too).
    connection.on('error', () => {});
  });
  return pool;
}

/**
 * Kysely over a mysql2 pool behind a ConnectionGate, as createDb on PostgreSQL: while the database
 * is unreachable queries fail at once with SERVICE_UNAVAILABLE, and /metrics reports it.
 */
export function createMysqlDb(url: string, max = 10, options: ConnectionGateOptions = {}): Kysely<Database> {
  const gated = new MysqlGatedPool(createMysqlPool(url, max), mysqlOptions(url), options);
  const db = new Kysely<Database>({ dialect: new MysqlDialect({ pool: gated }) });
  registerGate(db, gated.gate);
  return db;
}
