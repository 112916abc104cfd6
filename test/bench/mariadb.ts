/**
 * `npm run bench` on MariaDB/MySQL: with BENCH_MYSQL_URL (a server and a user that may create
 * databases and users, e.g. mysql://root@127.0.0.1:3306) or `--mariadb` (then that URL is the
 * default), run.ts runs this instead of the PostgreSQL suite. The service runs as `npm start`
 * runs it, with DATABASE_URL=mysql://… on a fresh database and a user with only the privileges
 * the README asks for; the floor is test/bench/mariadb-floor.ts on the same server (the binary log
 * read by zongji straight to raw WebSockets), measured in the same run. The scenarios that mean
 * the same on both: latency, fan-out, a 20,000-row UPDATE, a 100,000-row INSERT end to end, 8
 * writers with capture against a bare table, idle subscribers, pace. Writes
 * test/bench/RESULTS-mariadb.md (notes from notes-mariadb.md); RESULTS.md is not touched.
 */
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { mysqlOptions } from '../../src/db/mysql.ts';
import { mysqlFloorSchema } from './mariadb-floor.ts';
import {
  connect,
  mysqlIdleSubscribers,
  mysqlStatement,
  mysqlStream,
  mysqlUpdateThroughput,
  numbers,
} from './mariadb-load.ts';
import { rssMiB, sleep, summary } from './measure.ts';
import { type Served, startFloor, startService } from './processes.ts';
import type { Row } from './results.ts';
import type { StreamResult } from './streams.ts';

const FLOOR_SCRIPT = 'test/bench/mariadb-floor.ts';
const WRITER_ROWS = 20_000;

export interface MariadbRun {
  rows: Row[];
  /** Lines for the report's header: the server, the floor, the writers. */
  about: string[];
}

/** A fresh database and a user of its own with the README's privileges (never SUPER); its URL. */
async function freshDatabase(serverUrl: string, name: string): Promise<string> {
  const admin = await mysql.createConnection({ ...mysqlOptions(serverUrl), database: undefined });
  const password = randomBytes(12).toString('hex');
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name}`);
    await admin.query(`DROP USER IF EXISTS '${name}'@'%'`);
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.query(`CREATE USER '${name}'@'%' IDENTIFIED BY '${password}'`);
    await admin.query(`GRANT ALL ON ${name}.* TO '${name}'@'%'`);
    await admin
      .query(
        `GRANT REPLICATION SLAVE, REPLICATION CLIENT, BINLOG MONITOR, PROCESS, RELOAD ON *.* TO '${name}'@'%'`,
      )
      .catch(() =>
        admin.query(`GRANT REPLICATION SLAVE, REPLICATION CLIENT, PROCESS, RELOAD ON *.* TO '${name}'@'%'`),
      );
  } finally {
    await admin.end();
  }
  const server = new URL(serverUrl.replace(/^mariadb:/i, 'mysql:'));
  return `mysql://${name}:${password}@${server.host}/${name}`;
}

async function serverVersion(url: string): Promise<string> {
  const session = await connect(url);
  try {
    const [rows] = await session.query<mysql.RowDataPacket[]>('SELECT VERSION() AS v');
    return String(rows[0]?.v);
  } finally {
    await session.end();
  }
}

export async function runMariadb(options: {
  serverUrl: string;
  quick: boolean;
  wanted: (name: string) => boolean;
  repeat: <T>(label: string, fn: (run: number) => Promise<T>) => Promise<T[]>;
}): Promise<MariadbRun> {
  const { quick, wanted, repeat } = options;
  const rows: Row[] = [];
  const url = await freshDatabase(options.serverUrl, 'bench_mariadb');
  const version = await serverVersion(url);
  // The service migrates the fresh database at its start; the floor's tables copy its orders.
  const service = await startService(url);
  const sql = await connect(url);
  for (const table of ['floor_orders', 'bare_orders'])
    for (const text of mysqlFloorSchema(table)) await sql.query(text);
  const floor = await startFloor(url, FLOOR_SCRIPT);
  const idsOf = async (table: string): Promise<string[]> => {
    const [have] = await sql.query<mysql.RowDataPacket[]>(`SELECT count(*) AS n FROM ${table}`);
    const missing = WRITER_ROWS - Number(have[0]?.n);
    if (missing > 0)
      await sql.query(
        `INSERT INTO ${table} (customer_name, product_name) SELECT 'w', 'item' FROM ${numbers(missing)}`,
      );
    const [ids] = await sql.query<mysql.RowDataPacket[]>(
      `SELECT id FROM ${table} ORDER BY id LIMIT ${WRITER_ROWS}`,
    );
    return ids.map((r) => String(r.id));
  };
  try {
    await sleep(1000);
    rows.push({
      measure: 'server RSS at rest, before any subscriber (MiB)',
      floor: rssMiB(floor.pid).toFixed(0),
      service: rssMiB(service.pid).toFixed(0),
      target: '≤ 120 MiB',
      met: rssMiB(service.pid) <= 120,
    });

    const streams: [string, number, number][] = [
      ['latency', 100, 200],
      ['fanout', 2000, 50],
    ];
    for (const [name, subscribers, rate] of streams) {
      if (!wanted(name)) continue;
      const seconds = quick ? 3 : 10;
      const label = `${subscribers} subscribers × ${rate} changes/s, graphql-ws`;
      console.log(`MariaDB: ${label} (${seconds} s per run)`);
      const runs = await repeat(label, async (run) => {
        const common = { subscribers, rate, seconds };
        return {
          floor: await mysqlStream('floor', floor, url, { ...common, run: `mf-${name}-${run}` }),
          service: await mysqlStream('graphql-ws', service, url, { ...common, run: `ms-${name}-${run}` }),
        };
      });
      const pick = (side: 'floor' | 'service', k: keyof StreamResult, d = 1) =>
        summary(
          runs.map((r) => r[side][k]),
          d,
        );
      const missing = runs.reduce((n, r) => n + r.service.missing, 0);
      if (name === 'latency') {
        rows.push({
          measure: `${label}: latency p50 (ms)`,
          floor: pick('floor', 'p50').text,
          service: pick('service', 'p50').text,
          target: '≤ floor + 3 ms',
          met: pick('service', 'p50').median <= pick('floor', 'p50').median + 3 && missing === 0,
        });
        rows.push({
          measure: `${label}: latency p99 (ms)`,
          floor: pick('floor', 'p99').text,
          service: pick('service', 'p99').text,
          target: '≤ floor + 10 ms',
          met: pick('service', 'p99').median <= pick('floor', 'p99').median + 10 && missing === 0,
        });
      }
      rows.push({
        measure: `${label}: deliveries/s`,
        floor: pick('floor', 'deliveriesPerSecond', 0).text,
        service: pick('service', 'deliveriesPerSecond', 0).text,
        target: name === 'fanout' ? '≥ 0.8 × floor' : undefined,
        met:
          name === 'fanout'
            ? pick('service', 'deliveriesPerSecond').median >=
              0.8 * pick('floor', 'deliveriesPerSecond').median
            : undefined,
      });
      rows.push({
        measure: `${label}: server CPU per delivery (µs)`,
        floor: pick('floor', 'cpuMicrosPerDelivery').text,
        service: pick('service', 'cpuMicrosPerDelivery').text,
        target: name === 'fanout' ? '≤ 15 µs' : undefined,
        met: name === 'fanout' ? pick('service', 'cpuMicrosPerDelivery').median <= 15 : undefined,
      });
      if (missing > 0)
        rows.push({
          measure: `${label}: deliveries missing (timed out)`,
          floor: '',
          service: String(missing),
        });
    }

    if (wanted('bulk')) {
      const n = 20_000;
      for (const table of ['orders', 'bare_orders', 'floor_orders'])
        await sql.query(
          `INSERT INTO ${table} (customer_name, product_name) SELECT 'bulk', 'item' FROM ${numbers(n)}`,
        );
      const update = async (table: string, run: number) => {
        const [found] = await sql.query<mysql.RowDataPacket[]>(
          `SELECT min(id) AS lo, max(id) AS hi FROM ${table} WHERE customer_name = 'bulk'`,
        );
        const { lo, hi } = found[0] as { lo: string; hi: string };
        // A used session: two 1-row UPDATEs first, as any pooled connection has done.
        const session = await connect(url);
        await session.query(`UPDATE ${table} SET product_name = 'w' WHERE id = ${lo}`);
        await session.query(`UPDATE ${table} SET product_name = 'w' WHERE id = ${lo}`);
        return {
          session,
          text: `UPDATE ${table} SET product_name = CONCAT('b${run}-', id) WHERE customer_name = 'bulk' AND id BETWEEN ${lo} AND ${hi}`,
        };
      };
      console.log(`MariaDB: UPDATE of ${n} rows on a used session`);
      const runs = await repeat('bulk update', async (run) => {
        const bare = await update('bare_orders', run);
        const t0 = performance.now();
        await bare.session.query(bare.text);
        const bareMs = performance.now() - t0;
        await bare.session.end();
        const f = await update('floor_orders', run);
        const floorResult = await mysqlStatement('floor', floor, f.session, f.text, n, 'UPDATE');
        await f.session.end();
        const s = await update('orders', run);
        const serviceResult = await mysqlStatement('graphql-ws', service, s.session, s.text, n, 'UPDATE');
        await s.session.end();
        return { bareMs, floor: floorResult, service: serviceResult };
      });
      const bare = summary(
        runs.map((r) => r.bareMs),
        0,
      );
      const captured = summary(
        runs.map((r) => r.service.statementMs),
        0,
      );
      rows.push({
        measure: `UPDATE of ${n.toLocaleString('en-US')} rows on a used session: statement (ms); bare table ${bare.text}`,
        floor: summary(
          runs.map((r) => r.floor.statementMs),
          0,
        ).text,
        service: captured.text,
        target: '≤ 2 × bare + 100 ms',
        met: captured.median <= 2 * bare.median + 100,
      });
      rows.push({
        measure: `same, all delivered to one subscriber, from the statement's start (ms)`,
        floor: summary(
          runs.map((r) => r.floor.deliveredMs),
          0,
        ).text,
        service: summary(
          runs.map((r) => r.service.deliveredMs),
          0,
        ).text,
      });
    }

    if (wanted('e2e')) {
      const n = 100_000;
      console.log(`MariaDB: INSERT of ${n} rows, delivered end to end`);
      const runs = await repeat('100k rows', async (run) => {
        const text = (table: string) =>
          `INSERT INTO ${table} (customer_name, product_name) SELECT 'e2e-${run}', 'item' FROM ${numbers(n)}`;
        const floorResult = await mysqlStatement('floor', floor, sql, text('floor_orders'), n, 'INSERT');
        const serviceResult = await mysqlStatement('graphql-ws', service, sql, text('orders'), n, 'INSERT');
        return { floor: floorResult, service: serviceResult };
      });
      const delivered = summary(
        runs.map((r) => r.service.deliveredMs),
        0,
      );
      rows.push({
        measure: '100,000 rows in one INSERT, delivered to one subscriber (ms)',
        floor: summary(
          runs.map((r) => r.floor.deliveredMs),
          0,
        ).text,
        service: delivered.text,
        target: '< 3,000 ms',
        met: delivered.median < 3000,
      });
      rows.push({
        measure: 'same, the INSERT statement itself (ms)',
        floor: summary(
          runs.map((r) => r.floor.statementMs),
          0,
        ).text,
        service: summary(
          runs.map((r) => r.service.statementMs),
          0,
        ).text,
      });
    }

    if (wanted('writers')) {
      const seconds = quick ? 5 : 15;
      const ids = { orders: await idsOf('orders'), bare_orders: await idsOf('bare_orders') };
      console.log(`MariaDB: 8 writers, 1-row UPDATEs, ${seconds} s each (mysql2 driver)`);
      const runs = await repeat('writers', async () => {
        const bare = await mysqlUpdateThroughput(url, 'bare_orders', ids.bare_orders, seconds);
        const captured = await mysqlUpdateThroughput(url, 'orders', ids.orders, seconds);
        return { bare: bare.tps, captured: captured.tps, ratio: captured.tps / bare.tps };
      });
      const ratio = summary(
        runs.map((r) => r.ratio),
        2,
      );
      rows.push({
        measure:
          '8 writers, 1-row UPDATE transactions: TPS with capture (service column) and bare table (floor column)',
        floor: summary(
          runs.map((r) => r.bare),
          0,
        ).text,
        service: summary(
          runs.map((r) => r.captured),
          0,
        ).text,
      });
      rows.push({
        measure: 'same, TPS with capture ÷ bare table',
        floor: '1',
        service: ratio.text,
        target: '≥ 0.75',
        met: ratio.median >= 0.75,
      });
    }

    if (wanted('idle')) {
      const count = 5_000;
      console.log(`MariaDB: ${count} idle subscribers, each side on a freshly started process`);
      const runs = await repeat('idle', async (run) => {
        const side = async (target: 'floor' | 'graphql-ws', start: () => Promise<Served>) => {
          const served = await start();
          try {
            return await mysqlIdleSubscribers(target, served, url, count, `m-${target}-${run}`);
          } finally {
            await served.stop();
          }
        };
        return {
          floor: await side('floor', () => startFloor(url, FLOOR_SCRIPT)),
          service: await side('graphql-ws', () => startService(url)),
        };
      });
      const kb = summary(
        runs.map((r) => r.service.kbPerSubscriber),
        1,
      );
      const floorKb = summary(
        runs.map((r) => r.floor.kbPerSubscriber),
        1,
      );
      rows.push({
        measure: `${count.toLocaleString('en-US')} idle subscribers (graphql-ws; floor: raw WebSocket): KB of RSS each`,
        floor: floorKb.text,
        service: kb.text,
        target: '≤ 1.5 × floor',
        met: kb.median <= 1.5 * floorKb.median,
      });
      const mib = (pick: (r: (typeof runs)[0]) => number) => summary(runs.map(pick), 0).text;
      rows.push({
        measure: `same, server RSS with ${count.toLocaleString('en-US')} idle subscribers (MiB); at rest before them`,
        floor: `${mib((r) => r.floor.rssAfterMiB)}; ${mib((r) => r.floor.rssBeforeMiB)}`,
        service: `${mib((r) => r.service.rssAfterMiB)}; ${mib((r) => r.service.rssBeforeMiB)}`,
      });
    }

    if (wanted('pace')) {
      const seconds = quick ? 10 : 30;
      const ids = await idsOf('orders');
      console.log(`MariaDB: 1 subscriber, 8 writers at full speed for ${seconds} s`);
      const runs = await repeat('pace', async () => {
        let received = 0;
        let last = 0;
        const { graphqlWsSubscriber } = await import('./subscribers.ts');
        const subscriber = await graphqlWsSubscriber(
          service.ws,
          'subscription { orderChanged(where: { operations: [UPDATE] }) { cursor order { id version } } }',
          () => {
            received++;
            last = performance.now();
          },
        );
        await sleep(500);
        // Every UPDATE matches a row (the ids were read), so each transaction is one change.
        const writers = await mysqlUpdateThroughput(url, 'orders', ids, seconds);
        const stopped = performance.now();
        const expected = writers.transactions;
        const deadline = stopped + 120_000;
        while (received < expected && performance.now() < deadline) await sleep(5);
        subscriber.close();
        return { tps: writers.tps, lagMs: Math.max(0, last - stopped), missing: expected - received };
      });
      const lag = summary(
        runs.map((r) => r.lagMs),
        0,
      );
      rows.push({
        measure: `1 subscriber, 8 writers at full speed (${
          summary(
            runs.map((r) => r.tps),
            0,
          ).text
        } tx/s) for ${seconds} s: last change delivered after they stop (ms)`,
        floor: '',
        service: lag.text,
        target: '≤ 2,000 ms',
        met: lag.median <= 2000 && runs.every((r) => r.missing === 0),
      });
      const missing = runs.reduce((n, r) => n + r.missing, 0);
      if (missing > 0)
        rows.push({ measure: 'same, deliveries missing (timed out)', floor: '', service: String(missing) });
    }
  } finally {
    await sql.end();
    await floor.stop();
    await service.stop();
  }
  return {
    rows,
    about: [
      `- Server: ${version} at ${new URL(options.serverUrl.replace(/^mariadb:/i, 'mysql:')).host} (BENCH_MYSQL_URL), a fresh database \`bench_mariadb\` and a user of its own with the README's privileges (no SUPER); binary log on, ROW format.`,
      '- Writers: the Node driver (test/bench/mariadb-load.ts, mysql2), 8 connections of autocommitted 1-row UPDATEs.',
      '',
      "The floor (test/bench/mariadb-floor.ts), on MariaDB itself rather than PostgreSQL's floor: the",
      'binary log read by @vlasky/zongji (as the capture reads it), each row of `floor_orders` sent as',
      'JSON to every raw `ws` socket; no change log, no GraphQL, no durability. `floor_orders` and the',
      "bare table `bare_orders` have the columns and stamp triggers of `orders`, not the service's",
      "actor triggers; the service's capture and the floor read every table's binary log and keep their own.",
      "PostgreSQL's figures (RESULTS.md) come from another run: compare each side with its own floor.",
    ],
  };
}
