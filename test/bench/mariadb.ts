/**
 * The MariaDB/MySQL side of `npm run bench` (BENCH_MYSQL_URL, a server and a user that may create
 * databases and users, e.g. mysql://root@127.0.0.1:3306, or `--mariadb`): the same scenarios as
 * on PostgreSQL where they mean the same (latency, fan-out, a 20,000-row UPDATE, a 100,000-row
 * INSERT end to end, 8 writers with capture against a bare table, idle subscribers, pace). The
 * service runs on a fresh database `bench_mariadb` with a user of its own holding only the
 * privileges the README asks for; the floor is mariadb-floor.ts on the same server (the binary log
 * read by zongji straight to raw WebSockets); the writers are mysql2 connections.
 */
import mysql from 'mysql2/promise';
import { mysqlOptions } from '../../src/db/mysql.ts';
import { createDatabaseAndUser, dropDatabaseAndUser } from '../helpers/mysql-database.ts';
import type { Dialect } from './dialect.ts';
import { mysqlFloorSchema } from './mariadb-floor.ts';
import { connectMysql, mysqlSession, type Session } from './sessions.ts';
import { nodeThroughput } from './writers.ts';

const NAME = 'bench_mariadb';
const WRITER_ROWS = 20_000;

/** A derived table of `n` rows (n ≤ 100,000) without MariaDB's SEQUENCE engine, which MySQL lacks. */
function numbers(n: number): string {
  const digits =
    '(SELECT 0 d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9)';
  return `(SELECT a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 10000 * f.d + 1 AS n
    FROM ${digits} a, ${digits} b, ${digits} c, ${digits} e, ${digits} f LIMIT ${n}) numbers`;
}

/**
 * WRITER_ROWS rows of `table` (added if fewer), their ids: AUTO_INCREMENT leaves gaps after
 * multi-row INSERTs, so the ids are read, not assumed.
 */
async function writerIds(sql: Session, table: string): Promise<string[]> {
  const have = await sql.query(`SELECT count(*) AS n FROM ${table}`);
  const missing = WRITER_ROWS - Number(have.rows[0]?.n);
  if (missing > 0)
    await sql.query(
      `INSERT INTO ${table} (customer_name, product_name) SELECT 'w', 'item' FROM ${numbers(missing)}`,
    );
  const ids = await sql.query(`SELECT id FROM ${table} ORDER BY id LIMIT ${WRITER_ROWS}`);
  return ids.rows.map((r) => String(r.id));
}

export async function openMariadb(serverUrl: string): Promise<Dialect> {
  await dropDatabaseAndUser(serverUrl, NAME);
  const url = await createDatabaseAndUser(serverUrl, NAME);
  const sql = await connectMysql(url);
  const version = String((await sql.query('SELECT VERSION() AS v')).rows[0]?.v);
  return {
    url,
    floorScript: 'test/bench/mariadb-floor.ts',
    sql,
    say: 'MariaDB: ',
    streams: [
      ['latency', 100, 200, ['graphql-ws']],
      ['fanout', 2000, 50, ['graphql-ws']],
    ],
    async createTables() {
      for (const table of ['floor_orders', 'bare_orders'])
        for (const text of mysqlFloorSchema(table)) await sql.query(text);
    },
    connect: () => connectMysql(url),
    pool: (size) => mysqlSession(mysql.createPool({ ...mysqlOptions(url), connectionLimit: size })),
    series: numbers,
    async bulkUpdate(table, _rows, run) {
      const found = await sql.query(
        `SELECT min(id) AS lo, max(id) AS hi FROM ${table} WHERE customer_name = 'bulk'`,
      );
      const { lo, hi } = found.rows[0] as { lo: string; hi: string };
      return {
        firstId: String(lo),
        text: `UPDATE ${table} SET product_name = CONCAT('b${run}-', id) WHERE customer_name = 'bulk' AND id BETWEEN ${lo} AND ${hi}`,
      };
    },
    reportsInsertStatement: true,
    writersName: 'mysql2 driver',
    async writers(table) {
      const ids = await writerIds(sql, table);
      return (seconds) =>
        nodeThroughput(
          () => connectMysql(url),
          table,
          () => ids[Math.floor(Math.random() * ids.length)] as string,
          seconds,
        );
    },
    ownScenarios: [],
    report: {
      file: 'test/bench/RESULTS-mariadb.md',
      notes: 'test/bench/notes-mariadb.md',
      title: '# Benchmark results on MariaDB',
      setup: [],
      about: [
        `- Server: ${version} at ${new URL(serverUrl.replace(/^mariadb:/i, 'mysql:')).host} (BENCH_MYSQL_URL), a fresh database \`${NAME}\` and a user of its own with the README's privileges (no SUPER); binary log on, ROW format.`,
        '- Writers: the Node driver (test/bench/writers.ts, mysql2), 8 connections of autocommitted 1-row UPDATEs.',
        '',
        "The floor (test/bench/mariadb-floor.ts), on MariaDB itself rather than PostgreSQL's floor: the",
        'binary log read by @vlasky/zongji (as the capture reads it), each row of `floor_orders` sent as',
        'JSON to every raw `ws` socket; no change log, no GraphQL, no durability. `floor_orders` and the',
        "bare table `bare_orders` have the columns and stamp triggers of `orders`, not the service's",
        "actor triggers; the service's capture and the floor read every table's binary log and keep their own.",
        "PostgreSQL's figures (RESULTS.md) come from another run: compare each side with its own floor.",
      ],
    },
    close: () => sql.end(),
  };
}
