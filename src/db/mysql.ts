import { Kysely, MysqlAdapter, MysqlDialect } from 'kysely';
import { createPool, type Pool, type PoolOptions } from 'mysql2';
import type { Database } from './database.ts';

/** `mysql://` and `mariadb://` URLs select MySQL/MariaDB; anything else is PostgreSQL. */
export function isMysqlUrl(url: string): boolean {
  return /^(mysql|mariadb):\/\//i.test(url);
}

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
    connectTimeout: 2_000,
    enableKeepAlive: true,
  };
}

export function databaseName(url: string): string {
  return mysqlOptions(url).database ?? '';
}

/** Whether `db` talks to MySQL/MariaDB (made by createMysqlDb, or a transaction or connection of one). */
export function isMysqlDb(db: { getExecutor(): { adapter: unknown } }): boolean {
  return db.getExecutor().adapter instanceof MysqlAdapter;
}

export function createMysqlPool(url: string, max = 10): Pool {
  const pool = createPool({ ...mysqlOptions(url), connectionLimit: max, waitForConnections: true });
  // A session's time zone decides what NOW() and TIMESTAMP mean; the service's own is UTC.
  pool.on('connection', (connection) => {
    connection.query("SET time_zone = '+00:00'");
    // A pooled connection whose server went away must not crash the process.
    connection.on('error', () => {});
  });
  return pool;
}

export function createMysqlDb(url: string, max = 10): Kysely<Database> {
  return new Kysely<Database>({ dialect: new MysqlDialect({ pool: createMysqlPool(url, max) }) });
}
