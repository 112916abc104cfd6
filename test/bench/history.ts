/**
 * History at scale, in a database of its own: millions of changes written straight into the log
 * by SQL, consistent with the tick design (each generating transaction commits, then a real
 * make_change_tick() records its batch, as the ticker would). Then, with the service running:
 * - a reader resuming a given number of changes back, over graphql-ws: how fast it catches up;
 * - pruning the older half of the log (the service's own pruneChangeLog, on a pool with the
 *   service's session settings) while a writer commits single-row INSERTs and one subscriber
 *   receives them: writer latency and feed lag during the prune, against the same before it.
 */
import pg from 'pg';
import { encodeCursor, endOfTick } from '../../src/changes/position.ts';
import { pruneChangeLog } from '../../src/changes/retention.ts';
import { createDb, createPool } from '../../src/db/connect.ts';
import { percentile, sleep, until } from './measure.ts';
import type { Served } from './processes.ts';
import { graphqlWsSubscriber } from './subscribers.ts';

const FILL = `
  CREATE OR REPLACE PROCEDURE bench_fill_history(transactions int, per_tx int, proto jsonb)
  LANGUAGE plpgsql AS $$
  DECLARE base bigint := coalesce((SELECT max(order_id) FROM order_changes), 0) + 1000000;
  BEGIN
    FOR i IN 0 .. transactions - 1 LOOP
      INSERT INTO order_changes (op, order_id, new_row)
        SELECT 'INSERT', base + g, proto || jsonb_build_object('id', base + g, 'customer_name', 'history')
        FROM generate_series(i::bigint * per_tx + 1, (i + 1)::bigint * per_tx) g;
      COMMIT;
      PERFORM make_change_tick();
      COMMIT;
    END LOOP;
  END $$`;

/** Writes `total` changes in transactions of `perTx`, one tick each. Run before any service starts. */
export async function fillHistory(url: string, total: number, perTx: number): Promise<{ seconds: number }> {
  const sql = new pg.Client({ connectionString: url });
  await sql.connect();
  try {
    await sql.query(FILL);
    const { rows } = await sql.query(
      `INSERT INTO orders (customer_name, product_name) VALUES ('history', 'prototype') RETURNING to_jsonb(orders.*) AS proto`,
    );
    const started = performance.now();
    // In slices, so that progress shows and no single CALL runs for many minutes.
    const slice = Math.max(1, Math.floor(1_000_000 / perTx));
    for (let done = 0; done < total / perTx; done += slice) {
      await sql.query('CALL bench_fill_history($1, $2, $3)', [
        Math.min(slice, total / perTx - done),
        perTx,
        rows[0].proto,
      ]);
      console.log(`  history: ${((done + slice) * perTx).toLocaleString('en-US')} changes written`);
    }
    await sql.query('VACUUM ANALYZE order_changes');
    await sql.query('VACUUM ANALYZE change_ticks');
    return { seconds: (performance.now() - started) / 1000 };
  } finally {
    await sql.end();
  }
}

/** A reader resuming `back` changes before the end of the log: changes per second until caught up. */
export async function resume(
  served: Served,
  url: string,
  back: number,
  perTx: number,
): Promise<{ changesPerSecond: number; seconds: number }> {
  const sql = new pg.Client({ connectionString: url });
  await sql.connect();
  const { rows } = await sql.query('SELECT max(tick_id) AS t FROM change_ticks');
  await sql.end();
  const cursor = encodeCursor({ position: endOfTick(Number(rows[0].t) - back / perTx) });
  let received = 0;
  const started = performance.now();
  const subscriber = await graphqlWsSubscriber(
    served.ws,
    `subscription { orderChanged(after: "${cursor}") { cursor operation order { id customerName productName quantity status version updatedAt } } }`,
    () => {
      received++;
    },
  );
  try {
    await until(() => received >= back, 1_800_000, `${back} resumed changes`);
    const seconds = (performance.now() - started) / 1000;
    return { changesPerSecond: back / seconds, seconds };
  } finally {
    subscriber.close();
  }
}

export interface Latencies {
  writerP50: number;
  writerP99: number;
  writerMax: number;
  lagP50: number;
  lagP99: number;
  lagMax: number;
  writes: number;
}

/** Single-row INSERTs at `rate`/s until `done()` (at least `minSeconds`); writer latency and feed lag. */
async function load(
  served: Served,
  url: string,
  rate: number,
  minSeconds: number,
  done: () => boolean,
  run: string,
): Promise<Latencies> {
  const committed = new Map<string, number>();
  const early = new Map<string, number>();
  const lags: number[] = [];
  const writerMs: number[] = [];
  const subscriber = await graphqlWsSubscriber(
    served.ws,
    'subscription { orderChanged(where: { operations: [INSERT] }) { order { customerName } } }',
    (data) => {
      const key = data.orderChanged.order.customerName as string;
      const at = committed.get(key);
      if (at === undefined) early.set(key, performance.now());
      else lags.push(performance.now() - at);
    },
  );
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  try {
    await sleep(500);
    const started = performance.now();
    const writes: Promise<unknown>[] = [];
    for (let i = 0; performance.now() - started < minSeconds * 1000 || !done(); i++) {
      const wait = started + (i * 1000) / rate - performance.now();
      if (wait > 1) await sleep(wait);
      const key = `${run}-${i}`;
      const t0 = performance.now();
      writes.push(
        pool.query(`INSERT INTO orders (customer_name, product_name) VALUES ($1, 'p')`, [key]).then(() => {
          const at = performance.now();
          writerMs.push(at - t0);
          committed.set(key, at);
          const arrived = early.get(key);
          if (arrived !== undefined) lags.push(arrived - at);
        }),
      );
    }
    await Promise.all(writes);
    await until(() => lags.length >= writes.length, 120_000, 'the load to be delivered');
    writerMs.sort((a, b) => a - b);
    lags.sort((a, b) => a - b);
    return {
      writerP50: percentile(writerMs, 50),
      writerP99: percentile(writerMs, 99),
      writerMax: writerMs.at(-1) ?? Number.NaN,
      lagP50: percentile(lags, 50),
      lagP99: percentile(lags, 99),
      lagMax: lags.at(-1) ?? Number.NaN,
      writes: writes.length,
    };
  } finally {
    subscriber.close();
    await pool.end();
  }
}

export interface PruneResult {
  before: Latencies;
  during: Latencies;
  pruneSeconds: number;
  removed: number;
  error?: string;
}

/** Ages the older half of the ticks past a 1-hour retention, then prunes under load. */
export async function pruneUnderLoad(
  served: Served,
  url: string,
  rate: number,
  run: string,
): Promise<PruneResult> {
  const sql = new pg.Client({ connectionString: url });
  await sql.connect();
  await sql.query(`
    UPDATE change_ticks SET created_at = now() - interval '2 hours'
    WHERE tick_id <= (SELECT (min(tick_id) + max(tick_id)) / 2 FROM change_ticks)`);
  await sql.end();
  const before = await load(served, url, rate, 5, () => true, `${run}-before`);
  const pool = createPool(url, 2);
  const db = createDb(pool);
  let finished = false;
  let removed = 0;
  let error: string | undefined;
  const started = performance.now();
  let pruneSeconds = 0;
  const pruning = pruneChangeLog(db, 3_600_000)
    .then((n) => {
      removed = n;
    })
    .catch((e: Error) => {
      error = e.message;
    })
    .finally(() => {
      pruneSeconds = (performance.now() - started) / 1000;
      finished = true;
    });
  const during = await load(served, url, rate, 5, () => finished, `${run}-during`);
  await pruning;
  await db.destroy();
  return { before, during, pruneSeconds, removed, ...(error ? { error } : {}) };
}
