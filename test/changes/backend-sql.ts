import { expect } from 'vitest';
import type { OrderChange } from '../../src/changes/change.ts';
import { ChangeLog } from '../../src/changes/change-log.ts';
import { MysqlChangeLog } from '../../src/changes/mysql/change-log.ts';
import { decodeCursor } from '../../src/changes/position.ts';
import { pruneChangeLog } from '../../src/changes/retention.ts';
import { createDb, createPool, type Db } from '../../src/db/connect.ts';
import { createMysqlDb, isMysqlUrl } from '../../src/db/mysql.ts';
import type { TestDatabase } from '../helpers/database.ts';
import { naiveReaderLosses } from './harness.ts';

// The few pieces of the change-feed tests that differ between PostgreSQL and MySQL/MariaDB: SQL
// dialect and the log's own tables. The tests themselves, and what they check, are the same.

/** The vitest project `mysql` (vitest.config.ts): databases are MySQL/MariaDB ones. */
export const onMysql = process.env.TEST_BACKEND === 'mysql';

const mysqlDatabase = (database: TestDatabase) => isMysqlUrl(database.url);

/** `SELECT n` for n = 1 … count, for one-statement bulk writes. */
export function seriesSql(database: TestDatabase, count: number): string {
  if (!mysqlDatabase(database)) return `SELECT g AS n FROM generate_series(1, ${count}) g`;
  // MySQL caps recursive CTEs at 1000 rows: cross joins of digits instead.
  const places = String(count).length;
  const digits = Array.from({ length: 10 }, (_, d) => `SELECT ${d} AS d`).join(' UNION ALL ');
  const tables = Array.from({ length: places }, (_, i) => `(${digits}) d${i}`).join(', ');
  const n = Array.from({ length: places }, (_, i) => `d${i}.d * ${10 ** i}`).join(' + ');
  return `SELECT n FROM (SELECT ${n} + 1 AS n FROM ${tables}) s WHERE n <= ${count}`;
}

/** One statement inserting `count` orders named `customer` (products 'item 1' …). */
export function bulkInsertSql(database: TestDatabase, customer: string, count: number): string {
  const product = mysqlDatabase(database) ? "concat('item ', n)" : "'item ' || n";
  return `INSERT INTO orders (customer_name, product_name) SELECT '${customer}', ${product} FROM (${seriesSql(database, count)}) series`;
}

/** One statement deleting the `count` oldest orders. */
export function deleteOldestSql(database: TestDatabase, count: number): string {
  return mysqlDatabase(database)
    ? `DELETE FROM orders ORDER BY id LIMIT ${count}`
    : `DELETE FROM orders WHERE id IN (SELECT id FROM orders ORDER BY id LIMIT ${count})`;
}

/** Makes all the history recorded so far look `seconds` older than it is. */
export async function ageHistory(database: TestDatabase, seconds: number): Promise<void> {
  await database.sql(
    mysqlDatabase(database)
      ? `UPDATE order_changes SET committed_at = committed_at - INTERVAL ${seconds} SECOND`
      : `UPDATE change_ticks SET created_at = created_at - interval '${seconds} seconds'`,
  );
}

/** Prunes history older than `retentionMs` now, as the feed does on its own; returns how many changes went. */
export function pruneHistory(database: TestDatabase, retentionMs: number): Promise<number> {
  return mysqlDatabase(database)
    ? new MysqlChangeLog(database.db, retentionMs).prune()
    : pruneChangeLog(database.db, retentionMs);
}

/**
 * How many changes a reader standing at `cursor` reads next from the log (up to 10, up to its
 * head), as a live reader reads its next page: through the backend's own change log.
 */
export async function readLogAfter(
  database: TestDatabase,
  cursor: string,
  retentionMs: number,
): Promise<number> {
  const { position } = decodeCursor(cursor);
  if (mysqlDatabase(database)) {
    const log = new MysqlChangeLog(database.db, retentionMs);
    return (await log.readAfter(position, 10, await log.latestSeq())).entries.length;
  }
  const log = new ChangeLog(database.db, retentionMs);
  return (await log.readAfter(position, 10, (await log.latestTick()).id)).entries.length;
}

/**
 * The hazard that makes a naive reader lose changes really happened in `received`: on PostgreSQL
 * a reader of `seq > last seen` would have lost some; on MySQL, AUTO_INCREMENT order differed
 * from commit order (an order committed after one with a higher id).
 */
export function expectOrderHazard(database: TestDatabase, received: OrderChange[]): void {
  if (!mysqlDatabase(database)) {
    expect(naiveReaderLosses(received)).toBeGreaterThan(0);
    return;
  }
  const inserts = received.filter((c) => c.operation === 'INSERT').map((c) => Number(c.order.id));
  expect(inserts.some((id, i) => i > 0 && id < (inserts[i - 1] as number))).toBe(true);
}

/** Ends the change feed's own database session(s), as a DBA would; returns how many. */
export async function killFeedSession(database: TestDatabase): Promise<number> {
  if (!mysqlDatabase(database)) {
    const rows = await database.sql(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'realtime-orders feed' AND datname = current_database()`,
    );
    return rows.length;
  }
  // The capture's binary-log reader; losing it ends the capture's session, control connection too.
  const rows = await database.sql<{ ID: number }>(
    `SELECT ID FROM information_schema.PROCESSLIST
     WHERE USER = SUBSTRING_INDEX(CURRENT_USER(), '@', 1) AND COMMAND LIKE 'Binlog Dump%'`,
  );
  for (const row of rows) await database.sql(`KILL CONNECTION ${Number(row.ID)}`).catch(() => {});
  return rows.length;
}

/** Drops every table (migrations included), leaving the database as created. */
export async function emptyDatabase(database: TestDatabase): Promise<void> {
  if (!mysqlDatabase(database)) {
    await database.sql('DROP SCHEMA public CASCADE; CREATE SCHEMA public');
    return;
  }
  // Tables that others reference by foreign key go last: retry what could not be dropped yet.
  for (let round = 0; round < 5; round++) {
    const tables = await database.sql<{ name: string }>(
      'SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()',
    );
    if (tables.length === 0) return;
    for (const { name } of tables) await database.sql(`DROP TABLE \`${name}\``).catch(() => {});
  }
  throw new Error('some tables could not be dropped');
}

/** A connection pool of `database`'s kind to `url` (e.g. a proxy in front of it). */
export function createDbAt(database: TestDatabase, url: string, max: number): Db {
  if (mysqlDatabase(database)) return createMysqlDb(url, max);
  const pool = createPool(url, max);
  // A client that loses its session while checked out emits 'error'; the service's pool has a
  // listener for that (src/db/connect.ts), this bare one gets its own.
  pool.on('connect', (client) => client.on('error', () => {}));
  return createDb(pool);
}

/** How many changes the log holds. */
export async function changeLogSize(database: TestDatabase): Promise<number> {
  const [row] = await database.sql<{ n: string }>('SELECT count(*) AS n FROM order_changes');
  return Number(row?.n);
}
