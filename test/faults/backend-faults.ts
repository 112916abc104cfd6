import mysql from 'mysql2/promise';
import pg from 'pg';
import { isMysqlUrl, mysqlOptions } from '../../src/db/mysql.ts';
import type { TestDatabase } from '../helpers/database.ts';
import { killConnectionsOf } from '../helpers/mysql-database.ts';

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
  if (isMysqlUrl(database.url)) {
    const dba = await mysql.createConnection(mysqlOptions(writerUrlOf(database)));
    try {
      await dba.query('LOCK TABLES order_changes WRITE');
      const lockedAt = Date.now();
      await new Promise((r) => setTimeout(r, ms));
      await dba.query('UNLOCK TABLES');
      return Date.now() - lockedAt;
    } finally {
      await dba.end();
    }
  }
  const dba = new pg.Client({ connectionString: database.url });
  await dba.connect();
  try {
    await dba.query('BEGIN');
    await dba.query('LOCK TABLE order_changes IN ACCESS EXCLUSIVE MODE');
    const lockedAt = Date.now();
    await new Promise((r) => setTimeout(r, ms));
    await dba.query('COMMIT');
    return Date.now() - lockedAt;
  } finally {
    await dba.end();
  }
}
