import pg from 'pg';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ChangeLog } from '../../src/changes/change-log.ts';
import { END } from '../../src/changes/position.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

// The same batch reaches the service three ways: with the tick that made it (the leader's poll),
// whole by its tick id (the other instances), and a page at a time (readers behind the window).
// Whichever way, every entry must be the same, field for field, in the same order.
test('a batch read with its tick, whole, or in pages gives the same entries', async () => {
  const writers = await Promise.all(
    [0, 1, 2].map(async () => {
      const client = new pg.Client({ connectionString: database.url, application_name: 'batch test' });
      await client.connect();
      return client;
    }),
  );
  const [a, b, c] = writers as [pg.Client, pg.Client, pg.Client];
  const ticker = new pg.Client({ connectionString: database.url });
  await ticker.connect();
  try {
    await ticker.query('SELECT make_change_tick()');
    // Interleaved transactions: the one that began first writes last, so the batch's order (by each
    // transaction's last change) differs from the order of their first changes.
    await a.query('BEGIN');
    await a.query(`INSERT INTO orders (customer_name, product_name) VALUES ('a', 'x'), ('a', 'y')`);
    await b.query(`INSERT INTO orders (customer_name, product_name) VALUES ('b', 'x')`);
    await c.query('BEGIN');
    await c.query(`UPDATE orders SET quantity = quantity + 1 WHERE customer_name = 'b'`);
    await c.query(`DELETE FROM orders WHERE customer_name = 'b'`);
    await a.query(`UPDATE orders SET status = 'shipped' WHERE customer_name = 'a'`);
    await a.query('COMMIT');
    await c.query('COMMIT');

    const { rows } = await ticker.query<{ tick: string; batch: string }>(
      'SELECT tick, batch FROM make_change_tick_with_batch(100)',
    );
    const tick = Number(rows[0]?.tick);
    expect(tick).toBeGreaterThan(0);
    const withTick = new ChangeLog(database.db, 86400e3).decodeBatch(rows[0]?.batch ?? null, 100);
    const whole = await new ChangeLog(database.db, 86400e3).wholeBatch(tick, 100);
    const paged = [];
    const log = new ChangeLog(database.db, 86400e3);
    let position = { tick: tick - 1, last: END, seq: END };
    for (;;) {
      const page = await log.readAfter(position, 2, tick);
      paged.push(...page.entries);
      position = page.position;
      if (page.entries.length === 0) break;
    }

    expect(withTick?.map((e) => `${e.op} ${e.newRow?.customer_name ?? e.oldRow?.customer_name}`)).toEqual([
      'INSERT b',
      'UPDATE b',
      'DELETE b',
      'INSERT a',
      'INSERT a',
      'UPDATE a',
      'UPDATE a',
    ]);
    expect(whole).toEqual(withTick);
    expect(paged).toEqual(withTick);
    const first = withTick?.[0];
    expect(first?.actor).toBe('batch test as postgres');
    expect(typeof first?.orderId).toBe('string');
    expect(first?.committedAt).toBeInstanceOf(Date);
    // The tick's time as the driver reads a timestamptz, to the millisecond.
    const { rows: ticks } = await ticker.query<{ created_at: Date }>(
      'SELECT created_at FROM change_ticks WHERE tick_id = $1',
      [tick],
    );
    expect(first?.committedAt.getTime()).toBe(ticks[0]?.created_at.getTime());
    // Too big for the limit: the transactions are known, the entries left to pages.
    expect(await new ChangeLog(database.db, 86400e3).wholeBatch(tick, 6)).toBeUndefined();
  } finally {
    for (const client of [...writers, ticker]) await client.end();
  }
});
