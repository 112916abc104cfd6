/**
 * The load of `npm run bench` on MariaDB/MySQL: the scenarios of streams.ts, writers.ts and
 * idle.ts with mysql2 as the writer (the same subscribers, the same measures), and the 8 writers
 * that pgbench plays on PostgreSQL.
 */
import mysql from 'mysql2/promise';
import { mysqlOptions } from '../../src/db/mysql.ts';
import type { IdleResult } from './idle.ts';
import { cpuMicros, percentile, rssMiB, sleep, until } from './measure.ts';
import type { Served } from './processes.ts';
import { type StreamResult, subscribe, type Target } from './streams.ts';
import { CLIENTS } from './writers.ts';

export const connect = async (url: string) => {
  const connection = await mysql.createConnection(mysqlOptions(url));
  connection.on('error', () => {});
  return connection;
};

/** A derived table of `n` rows (n ≤ 100,000) without MariaDB's SEQUENCE engine, which MySQL lacks. */
export function numbers(n: number): string {
  const digits =
    '(SELECT 0 d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9)';
  return `(SELECT a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 10000 * f.d + 1 AS n
    FROM ${digits} a, ${digits} b, ${digits} c, ${digits} e, ${digits} f LIMIT ${n}) numbers`;
}

/** streams.ts's `stream` with mysql2 writers; `queriesPerChange` is not measured (NaN). */
export async function mysqlStream(
  target: Target,
  served: Served,
  url: string,
  options: { subscribers: number; rate: number; seconds: number; run: string },
): Promise<StreamResult> {
  const table = target === 'floor' ? 'floor_orders' : 'orders';
  const committed = new Map<string, number>();
  const latencies: number[] = [];
  const early = new Map<string, number[]>();
  let deliveries = 0;
  let lastArrival = 0;
  const subscribers = await subscribe(target, served, options.subscribers, 'INSERT', (key) => {
    const now = performance.now();
    deliveries++;
    lastArrival = now;
    const at = committed.get(key);
    if (at !== undefined) latencies.push(now - at);
    else early.set(key, [...(early.get(key) ?? []), now]);
  });
  const pool = mysql.createPool({ ...mysqlOptions(url), connectionLimit: 4 });
  try {
    await Promise.all(Array.from({ length: 4 }, () => pool.query('SELECT 1')));
    const total = Math.round(options.rate * options.seconds);
    const cpuBefore = cpuMicros(served.pid);
    const started = performance.now();
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < total; i++) {
      const due = started + (i * 1000) / options.rate;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      const key = `${options.run}-${i}`;
      writes.push(
        pool
          .query(`INSERT INTO ${table} (customer_name, product_name) VALUES (?, 'bench')`, [key])
          .then(() => {
            const at = performance.now();
            committed.set(key, at);
            for (const arrival of early.get(key) ?? []) latencies.push(arrival - at);
            early.delete(key);
          }),
      );
    }
    await Promise.all(writes);
    const expected = total * options.subscribers;
    await until(() => deliveries >= expected, 120_000, `${expected} deliveries`).catch((e) =>
      console.warn(String(e)),
    );
    await sleep(200);
    const cpu = cpuMicros(served.pid) - cpuBefore;
    latencies.sort((a, b) => a - b);
    return {
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      deliveriesPerSecond: deliveries / ((lastArrival - started) / 1000),
      cpuMicrosPerDelivery: cpu / deliveries,
      missing: expected - deliveries,
      queriesPerChange: Number.NaN,
    };
  } finally {
    for (const s of subscribers) s.close();
    await pool.end();
    await sleep(300);
  }
}

/** streams.ts's `statement` on a mysql2 session. */
export async function mysqlStatement(
  target: Target,
  served: Served,
  session: mysql.Connection,
  text: string,
  rows: number,
  operation: 'INSERT' | 'UPDATE',
): Promise<{ statementMs: number; deliveredMs: number; missing: number }> {
  let received = 0;
  let last = 0;
  const subscribers = await subscribe(target, served, 1, operation, () => {
    received++;
    last = performance.now();
  });
  try {
    const started = performance.now();
    const [result] = await session.query<mysql.ResultSetHeader>(text);
    const statementMs = performance.now() - started;
    if (result.affectedRows !== rows)
      throw new Error(`bench: expected ${rows} rows, statement changed ${result.affectedRows}`);
    await until(() => received >= rows, 300_000, `${rows} deliveries`).catch((e) => console.warn(String(e)));
    return { statementMs, deliveredMs: last - started, missing: rows - received };
  } finally {
    for (const s of subscribers) s.close();
    await sleep(300);
  }
}

/**
 * writers.ts's loop with mysql2: 8 connections of autocommitted 1-row UPDATEs of random rows among
 * `ids` (AUTO_INCREMENT leaves gaps after multi-row INSERTs, so the ids are read, not assumed).
 */
export async function mysqlUpdateThroughput(
  url: string,
  table: string,
  ids: string[],
  seconds: number,
): Promise<{ tps: number; transactions: number }> {
  const connections = await Promise.all(Array.from({ length: CLIENTS }, () => connect(url)));
  let transactions = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  await Promise.all(
    connections.map(async (connection) => {
      while (performance.now() < end) {
        const id = ids[Math.floor(Math.random() * ids.length)];
        await connection.query(`UPDATE ${table} SET quantity = quantity % 1000 + 1 WHERE id = ?`, [id]);
        transactions++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  await Promise.all(connections.map((c) => c.end()));
  return { tps: transactions / elapsed, transactions };
}

/** idle.ts's `idleSubscribers` with a mysql2 writer. */
export async function mysqlIdleSubscribers(
  target: Target,
  served: Served,
  url: string,
  count: number,
  run: string,
): Promise<IdleResult> {
  await sleep(1_000);
  const rssBeforeMiB = rssMiB(served.pid);
  let received = 0;
  const key = `idle-${run}`;
  const subscribers = await subscribe(target, served, count, 'INSERT', (k) => {
    if (k === key) received++;
  });
  try {
    const session = await connect(url);
    const table = target === 'floor' ? 'floor_orders' : 'orders';
    await session.query(`INSERT INTO ${table} (customer_name, product_name) VALUES (?, 'idle')`, [key]);
    await session.end();
    await until(() => received >= count, 120_000, `one change to each of ${count} subscribers`);
    await sleep(2_000);
    const rssAfterMiB = rssMiB(served.pid);
    return { rssBeforeMiB, rssAfterMiB, kbPerSubscriber: ((rssAfterMiB - rssBeforeMiB) * 1024) / count };
  } finally {
    for (const s of subscribers) s.close();
    await sleep(1_000 + count / 5);
  }
}
