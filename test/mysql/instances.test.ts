import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { collect, expectExactDelivery, runWorkload, seedOrders, waitForCount } from '../changes/harness.ts';
import type { TestDatabase } from '../helpers/database.ts';
import { createMysqlTestDatabase, mysqlServerUrl } from '../helpers/mysql-database.ts';
import { startTestService, type TestService } from '../helpers/service.ts';
import { waitFor } from '../helpers/wait.ts';

describe.skipIf(!mysqlServerUrl)('several instances on one MySQL/MariaDB database', () => {
  let database: TestDatabase;
  let a: TestService;
  let b: TestService;
  beforeAll(async () => {
    database = await createMysqlTestDatabase();
    a = await startTestService({ database, feed: { checkIntervalMs: 200 } });
    b = await startTestService({ database, feed: { checkIntervalMs: 200 } });
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await database?.drop();
  });

  test('one captures; when it stops, the other takes over and its subscribers lose nothing', async () => {
    await waitFor(() => a.feed.status().leader || b.feed.status().leader, {
      message: 'a capturing instance',
    });
    expect(a.feed.status().leader && b.feed.status().leader, 'only one captures').toBe(false);
    const [leader, other] = a.feed.status().leader ? [a, b] : [b, a];
    const onLeader = collect(await leader.feed.subscribe());
    const onOther = collect(await other.feed.subscribe());
    const seed = await seedOrders(database, 4);
    const writing = runWorkload(database.url, {
      writers: 4,
      transactionsPerWriter: 30,
      sharedIds: seed.ids,
    });
    await new Promise((r) => setTimeout(r, 100));
    await onLeader.stop();
    await leader.stop();
    const committed = await writing;
    await waitFor(() => other.feed.status().leader, {
      timeoutMs: 20_000,
      message: 'the other instance captures',
    });
    // Written after the take-over: the new capturing instance records them.
    committed.push(
      ...(await runWorkload(database.url, {
        writers: 3,
        transactionsPerWriter: 10,
        sharedIds: seed.ids,
      })),
    );
    const expected = [...seed.changes, ...committed];
    await waitForCount(onOther.changes, expected.length);
    await onOther.stop();
    expectExactDelivery(onOther.changes, expected);
    // What the first instance delivered before it stopped agrees, cursor for cursor.
    expect(onLeader.changes.map((c) => c.cursor)).toEqual(
      onOther.changes.slice(0, onLeader.changes.length).map((c) => c.cursor),
    );
  });
});

const DIGITS = Array.from({ length: 10 }, (_, d) => `SELECT ${d} AS d`).join(' UNION ALL ');

describe.skipIf(!mysqlServerUrl)('bulk statements on MySQL/MariaDB', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService({ database: await createMysqlTestDatabase() });
  });
  afterAll(async () => {
    await service?.stop();
    await service?.database.drop();
  });

  test('a 20,000-row INSERT and a 20,000-row UPDATE arrive whole, in order, each transaction together', async () => {
    const subscriber = collect(await service.feed.subscribe());
    await service.database.sql(`
      INSERT INTO orders (customer_name, product_name)
      SELECT 'bulk', concat('item ', a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 10000 * f.d)
      FROM (${DIGITS}) a, (${DIGITS}) b, (${DIGITS}) c, (${DIGITS}) e, (SELECT 0 AS d UNION ALL SELECT 1) f`);
    await service.database.sql("UPDATE orders SET status = 'processing' WHERE customer_name = 'bulk'");
    await waitForCount(subscriber.changes, 40_000, 120_000);
    await subscriber.stop();
    const ops = subscriber.changes.map((c) => c.operation);
    expect(ops.slice(0, 20_000).every((op) => op === 'INSERT')).toBe(true);
    expect(ops.slice(20_000).every((op) => op === 'UPDATE')).toBe(true);
    expect(subscriber.changes.length).toBe(40_000);
    expect(subscriber.changes.slice(20_000).every((c) => c.order.version === 2)).toBe(true);
  });
});
