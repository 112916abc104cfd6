import mysql from 'mysql2/promise';
import pg from 'pg';
import { isMysqlUrl, mysqlOptions } from '../../src/db/mysql.ts';
import { onMysql } from '../helpers/backend-under-test.ts';
import type { TestDatabase } from '../helpers/database.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { createMysqlTestDatabase, killConnectionsOf } from '../helpers/mysql-database.ts';
import { startPrivateMariadb } from '../helpers/private-mariadb.ts';
import { openWriterConnection } from './mysql-mixed-load.ts';

/**
 * The backend-specific pieces of the fault tests, so that each test body is the same on
 * PostgreSQL and MySQL/MariaDB.
 */

/**
 * Where the test's own writers connect: on PostgreSQL the database's URL (their sessions are told
 * apart by application_name); on MySQL, root on the same database, as another application with a
 * user of its own, so that killing the service user's connections spares them.
 */
export function writerUrlOf(database: TestDatabase): string {
  if (!isMysqlUrl(database.url)) return database.url;
  const url = new URL(database.url);
  const admin = new URL(process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1/');
  url.username = admin.username;
  url.password = admin.password;
  return url.toString();
}

/**
 * Ends every session of the service, as a DBA would: `pg_terminate_backend` of its backends, or
 * `KILL CONNECTION` of every connection of its MySQL user. Returns how many.
 */
export async function endServiceSessions(database: TestDatabase): Promise<number> {
  if (isMysqlUrl(database.url)) return killConnectionsOf(decodeURIComponent(new URL(database.url).username));
  const rows = await database.sql(
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
     WHERE datname = current_database() AND pid <> pg_backend_pid()
       AND application_name LIKE 'realtime-orders%'`,
  );
  return rows.length;
}

/**
 * Someone else locks the change log against everything, holds it `ms`, then lets go: PostgreSQL's
 * `LOCK TABLE order_changes IN ACCESS EXCLUSIVE MODE` in a transaction, MySQL's `LOCK TABLES
 * order_changes WRITE` (the table the binary-log capture writes). Returns how long it was held.
 */
export async function holdChangeLogLocked(database: TestDatabase, ms: number): Promise<number> {
  const dba = await changeLogLocker(database);
  try {
    await dba.lock();
    const lockedAt = Date.now();
    await new Promise((r) => setTimeout(r, ms));
    await dba.unlock();
    return Date.now() - lockedAt;
  } finally {
    await dba.end();
  }
}

/** A session of someone else's that can lock the change log, in its backend's terms. */
async function changeLogLocker(database: TestDatabase) {
  if (isMysqlUrl(database.url)) {
    const dba = await mysql.createConnection(mysqlOptions(writerUrlOf(database)));
    return {
      lock: () => dba.query('LOCK TABLES order_changes WRITE'),
      unlock: () => dba.query('UNLOCK TABLES'),
      end: () => dba.end(),
    };
  }
  const dba = new pg.Client({ connectionString: database.url });
  await dba.connect();
  return {
    lock: () => dba.query('BEGIN; LOCK TABLE order_changes IN ACCESS EXCLUSIVE MODE'),
    unlock: () => dba.query('COMMIT'),
    end: () => dba.end(),
  };
}

/**
 * A database on which a DBA set short timeouts for every session, and the URL of writers that
 * bring their own settings, as they would have to. PostgreSQL: `ALTER DATABASE … SET`
 * statement_timeout and lock_timeout 50 ms, idle_in_transaction_session_timeout 50 ms,
 * idle_session_timeout 500 ms. MariaDB (a server of the test's own, since these are global):
 * max_statement_time 50 ms, innodb_lock_wait_timeout 1 s and wait_timeout 1 s, their minimums.
 * `dbaStatementTimeout` reads what a fresh session gets, with what the DBA set.
 */
export async function databaseWithDbaTimeouts(cleanups: (() => unknown)[]) {
  if (onMysql) {
    const server = await startPrivateMariadb({
      args: ['--max-statement-time=0.05', '--innodb-lock-wait-timeout=1', '--wait-timeout=1'],
    });
    cleanups.push(() => server.remove());
    const database = await createMysqlTestDatabase(server.url);
    cleanups.push(() => database.db.destroy());
    const writerUrl = new URL(database.url);
    writerUrl.username = 'root';
    writerUrl.password = '';
    return {
      database: database as TestDatabase,
      writerUrl: writerUrl.toString(),
      dbaStatementTimeout: async () => {
        const [row] = await database.sql<{ t: string | number }>('SELECT @@SESSION.max_statement_time AS t');
        return { seen: Number(row?.t) as number | string | undefined, set: 0.05 as number | string };
      },
    };
  }
  const database = await createTestDatabase();
  cleanups.push(() => database.drop());
  const name = new URL(database.url).pathname.slice(1);
  for (const setting of [
    "statement_timeout = '50ms'",
    "lock_timeout = '50ms'",
    "idle_in_transaction_session_timeout = '50ms'",
    "idle_session_timeout = '500ms'",
  ]) {
    await database.sql(`ALTER DATABASE ${name} SET ${setting}`);
  }
  const writerUrl = new URL(database.url);
  writerUrl.searchParams.set(
    'options',
    '-c statement_timeout=0 -c lock_timeout=0 -c idle_in_transaction_session_timeout=0 -c idle_session_timeout=0',
  );
  return {
    database,
    writerUrl: writerUrl.toString(),
    dbaStatementTimeout: async () => {
      const [row] = await database.sql<{ statement_timeout: string }>('SHOW statement_timeout');
      return { seen: row?.statement_timeout as number | string | undefined, set: '50ms' as number | string };
    },
  };
}

/**
 * Someone else's transaction updates order `id` and holds its row lock; resolves once the lock is
 * held, with the function that commits and lets go.
 */
export async function lockRow(writerUrl: string, id: string): Promise<() => Promise<void>> {
  if (isMysqlUrl(writerUrl)) {
    const blocker = await openWriterConnection(writerUrl);
    await blocker.query('START TRANSACTION');
    await blocker.query('UPDATE orders SET quantity = 2 WHERE id = ?', [id]);
    return async () => {
      await blocker.query('COMMIT');
      blocker.destroy();
    };
  }
  const blocker = new pg.Client({ connectionString: writerUrl });
  await blocker.connect();
  await blocker.query('BEGIN');
  await blocker.query('UPDATE orders SET quantity = 2 WHERE id = $1', [id]);
  return async () => {
    await blocker.query('COMMIT');
    await blocker.end();
  };
}

/**
 * Another client that takes every connection the server has left, until released; `refusedWith`
 * is the code the server refused the next one with (PostgreSQL 53300, MySQL ER_CON_COUNT_ERROR).
 */
export async function hogConnections(url: string) {
  const release: (() => Promise<unknown>)[] = [];
  let refusedWith: string | undefined;
  for (;;) {
    try {
      if (isMysqlUrl(url)) {
        const connection = await mysql.createConnection(mysqlOptions(url));
        connection.on('error', () => {});
        release.push(() => connection.end().catch(() => {}));
      } else {
        const client = new pg.Client({ connectionString: url });
        client.on('error', () => {});
        await client.connect();
        release.push(() => client.end().catch(() => {}));
      }
    } catch (error) {
      refusedWith = (error as { code?: string }).code;
      break;
    }
  }
  return {
    count: release.length,
    refusedWith,
    expectedCode: isMysqlUrl(url) ? 'ER_CON_COUNT_ERROR' : '53300',
    release: () => Promise.all(release.map((end) => end())),
  };
}
