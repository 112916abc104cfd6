import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BinlogCapture } from '../../src/changes/mysql/binlog-capture.ts';
import { mysqlOptions } from '../../src/db/mysql.ts';
import { createLogger } from '../../src/log.ts';
import type { TestDatabase } from '../helpers/database.ts';
import { createMysqlTestDatabase, mysqlServerUrl } from '../helpers/mysql-database.ts';
import { waitFor } from '../helpers/wait.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const LIMIT = 2_000;
const BURST = 100_000;

// The capture behind a burst: its database writes stalled (another session holds the capture's
// position row, as a slow or locked database would), 100,000 rows in one statement plus small
// transactions around it. Reading the binary log must pause near the backlog limit instead of
// buffering the burst, and once the database moves again everything is recorded exactly once.
describe.skipIf(!mysqlServerUrl)('binary-log capture backpressure', () => {
  let database: TestDatabase;
  let capture: BinlogCapture;
  beforeAll(async () => {
    database = await createMysqlTestDatabase();
    capture = new BinlogCapture({
      connectionString: database.url,
      log: createLogger('silent'),
      onApplied: () => {},
      onUp: () => {},
      onDown: () => {},
      checkIntervalMs: 200,
      backlogLimit: LIMIT,
    });
    capture.start();
    await waitFor(() => capture.isLeader, { message: 'the capture leads' });
  });
  afterAll(async () => {
    await capture?.stop();
    await database?.drop();
  });

  test('a 100,000-row burst while the database stalls: the backlog stays near its limit, then everything is recorded once, in order', async () => {
    const staller = await mysql.createConnection(mysqlOptions(database.url));
    const writer = await mysql.createConnection(mysqlOptions(database.url));
    try {
      await staller.query('START TRANSACTION');
      await staller.query('SELECT * FROM change_capture WHERE id = 1 FOR UPDATE');
      const heapBefore = process.memoryUsage().heapUsed;
      await writer.query("INSERT INTO orders (customer_name, product_name) VALUES ('before', 'x')");
      const digits =
        '(SELECT 0 d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9)';
      const [burst] = await writer.query<mysql.ResultSetHeader>(
        `INSERT INTO orders (customer_name, product_name)
         SELECT 'burst', CONCAT('n', a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 10000 * f.d)
         FROM ${digits} a, ${digits} b, ${digits} c, ${digits} e, ${digits} f`,
      );
      expect(burst.affectedRows).toBe(BURST);
      for (let i = 0; i < 200; i++) {
        await writer.query('START TRANSACTION');
        await writer.query('UPDATE orders SET quantity = quantity + 1 WHERE id = ?', [1 + (i % 50)]);
        await writer.query("INSERT INTO orders (customer_name, product_name) VALUES ('after', 'x')");
        await writer.query('COMMIT');
      }
      // The log holds 100,601 changes the capture has not recorded; it reads up to its limit.
      await waitFor(() => capture.backlogStats.waiting >= LIMIT, {
        timeoutMs: 20_000,
        message: 'the backlog reaches its limit',
      });
      await sleep(1_500);
      const stalled = capture.backlogStats;
      const heapGrowthMiB = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
      console.log(`stalled: ${JSON.stringify(stalled)}, heap growth ${heapGrowthMiB.toFixed(1)} MiB`);
      // Held: a few socket chunks beyond the limit at most, far from the burst.
      expect(stalled.waiting).toBeLessThan(LIMIT * 2);
      expect(stalled.peak).toBeLessThan(LIMIT * 2);
      // Unbounded, the burst grew the heap by about 60 MiB here; held, by under 10.
      expect(heapGrowthMiB).toBeLessThan(40);
      await staller.query('COMMIT');

      const expected = 1 + BURST + 400;
      await waitFor(
        async () => {
          const [rows] = await writer.query<mysql.RowDataPacket[]>('SELECT count(*) AS n FROM order_changes');
          return Number(rows[0]?.n) >= expected;
        },
        { timeoutMs: 240_000, intervalMs: 500, message: `${expected} changes recorded` },
      );
      await sleep(500);
      const [log] = await writer.query<mysql.RowDataPacket[]>(
        `SELECT seq, op, order_id, JSON_VALUE(new_row, '$.version') AS version, binlog_pos
         FROM order_changes ORDER BY seq`,
      );
      expect(log.length).toBe(expected);
      // Exactly once and in commit order per order: versions 1, 2, 3 … for each order, no repeat.
      const versions = new Map<string, number>();
      for (const change of log) {
        const id = String(change.order_id);
        expect(`${change.op} ${id} v${change.version}`).toBe(
          `${change.op} ${id} v${(versions.get(id) ?? 0) + 1}`,
        );
        versions.set(id, Number(change.version));
      }
      const [orders] = await writer.query<mysql.RowDataPacket[]>('SELECT id, version FROM orders');
      expect(orders.length).toBe(1 + BURST + 200);
      for (const order of orders) expect(versions.get(String(order.id))).toBe(Number(order.version));
      // One transaction, one binlog_pos, its rows contiguous; positions rise with seq.
      const burstRows = log.filter((c) => c.order_id > 1 && c.op === 'INSERT').slice(0, BURST);
      expect(new Set(burstRows.map((c) => String(c.binlog_pos))).size).toBe(1);
      expect(log.every((c, i) => i === 0 || Number(c.binlog_pos) >= Number(log[i - 1]?.binlog_pos))).toBe(
        true,
      );
      expect(capture.backlogStats.peak).toBeLessThan(LIMIT * 2);
    } finally {
      await staller.end().catch(() => {});
      await writer.end();
    }
  });
});
