/**
 * The PostgreSQL side of `npm run bench`: one embedded PostgreSQL (or BENCH_DATABASE_URL), the
 * floor of floor.ts (a NOTIFY trigger), pgbench's writers when installed, transactions counted
 * from pg_stat_database, and the scenarios only PostgreSQL runs (scenarios/postgres-only.ts).
 */
import { rmSync } from 'node:fs';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/db/embedded.ts';
import { clusterTempDir } from '../helpers/temp-dir.ts';
import type { Dialect } from './dialect.ts';
import { floorSchema } from './floor.ts';
import { sleep } from './measure.ts';
import { postgresOnlyScenarios } from './scenarios/postgres-only.ts';
import { connectPg, pgSession } from './sessions.ts';
import { findPgbench, nodeThroughput, pgbenchThroughput } from './writers.ts';

const BARE_TABLE = `
  CREATE TABLE bare_orders (LIKE orders INCLUDING ALL);
  CREATE TRIGGER bare_orders_stamp_insert BEFORE INSERT ON bare_orders FOR EACH ROW EXECUTE FUNCTION orders_stamp_insert();
  CREATE TRIGGER bare_orders_stamp_update BEFORE UPDATE ON bare_orders FOR EACH ROW EXECUTE FUNCTION orders_stamp_update();`;

/** Writers update random ids 1..WRITER_ROWS: make sure they all exist (ids are never reused). */
const WRITER_ROWS = 20_000;

export async function openPostgres(): Promise<Dialect> {
  const dir = clusterTempDir('realtime-orders-bench-');
  const embedded = process.env.BENCH_DATABASE_URL
    ? undefined
    : await startEmbeddedPostgres({
        dir,
        // Loaded but tracking nothing, except in the database of the instances scenario.
        settings: { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track': 'none' },
      });
  const url = process.env.BENCH_DATABASE_URL ?? `${embedded?.serverUrl}/postgres`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const sql = pgSession(client);
  const pgbench = findPgbench();
  return {
    url,
    floorScript: 'test/bench/floor.ts',
    sql,
    say: '',
    streams: [
      ['light', 100, 20, ['graphql-ws']],
      ['latency', 100, 200, ['graphql-ws', 'sse']],
      ['latency', 1000, 20, ['graphql-ws']],
      ['fanout', 2000, 50, ['graphql-ws']],
    ],
    async createTables() {
      await sql.query(floorSchema);
      await sql.query(BARE_TABLE);
    },
    connect: () => connectPg(url),
    pool: (size) => pgSession(new pg.Pool({ connectionString: url, max: size })),
    series: (n) => `generate_series(1, ${n})`,
    async bulkUpdate(table, rows, run) {
      const found = await sql.query(`SELECT min(id) AS lo FROM ${table} WHERE customer_name = 'bulk'`);
      const lo = Number(found.rows[0]?.lo);
      return {
        firstId: String(lo),
        text: `UPDATE ${table} SET product_name = 'b${run}-' || id WHERE id BETWEEN ${lo} AND ${lo + rows - 1}`,
      };
    },
    reportsInsertStatement: false,
    writersName: pgbench ?? 'Node driver',
    async writers(table) {
      await sql.query(
        `INSERT INTO ${table} (customer_name, product_name)
     SELECT 'w', 'item' FROM generate_series(1, ${WRITER_ROWS} - (SELECT coalesce(max(id), 0) FROM ${table}))`,
      );
      return (seconds) =>
        pgbench
          ? pgbenchThroughput(pgbench, url, table, WRITER_ROWS, seconds)
          : nodeThroughput(
              () => connectPg(url),
              table,
              () => 1 + Math.floor(Math.random() * WRITER_ROWS),
              seconds,
            );
    },
    async transactionsSoFar(pool) {
      // Backends report their counts once idle for a second: let them.
      await sleep(1_500);
      const { rows } = await pool.query(
        'SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()',
      );
      return Number(rows[0]?.n);
    },
    async changeLogEnd() {
      return Number((await sql.query('SELECT coalesce(max(seq), 0) AS s FROM order_changes')).rows[0]?.s);
    },
    ownScenarios: postgresOnlyScenarios(client, url),
    report: {
      file: 'test/bench/RESULTS.md',
      notes: 'test/bench/notes.md',
      title: '# Benchmark results',
      setup: [
        `- Writers: ${pgbench ? `pgbench (${pgbench})` : 'the Node driver (no pgbench found)'}, 8 clients.`,
      ],
      about: [
        'The floor (test/bench/floor.ts): a row trigger sends each row as JSON with `pg_notify`, one',
        'LISTEN connection, a raw `ws` broadcast; no GraphQL, no durability.',
      ],
    },
    async close() {
      await sql.end();
      await embedded?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
