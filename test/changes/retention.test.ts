import { afterAll, beforeAll, expect, test } from 'vitest';
import { pruneChangeLog } from '../../src/changes/retention.ts';
import { startTestService, type TestService } from '../helpers/service.ts';
import { ageHistory, changeLogSize, onMysql, pruneHistory, readLogAfter } from './backend-sql.ts';
import { collect, waitForCount } from './harness.ts';

// On PostgreSQL and on MySQL/MariaDB (vitest project `mysql`); history is aged in the database's
// own log tables (backend-sql.ts).

let service: TestService;
beforeAll(async () => {
  service = await startTestService();
});
afterAll(async () => {
  await service?.stop();
});

test('history older than the retention is pruned; its cursors give CURSOR_EXPIRED, newer ones still resume', async () => {
  const live = collect(await service.feed.subscribe());
  await service.database.sql(
    `INSERT INTO orders (customer_name, product_name) VALUES ('old', 'a'), ('old', 'b')`,
  );
  await waitForCount(live.changes, 2);
  const oldCursor = live.changes[0]?.cursor as string;
  // Age what exists by a day, then prune with a one-hour retention.
  await ageHistory(service.database, 86400);
  await service.database.sql(`INSERT INTO orders (customer_name, product_name) VALUES ('new', 'c')`);
  await waitForCount(live.changes, 3);
  const newCursor = live.changes[2]?.cursor as string;

  const removed = await pruneHistory(service.database, 3600e3);
  expect(removed).toBe(2);

  const expired = await service.graphql('query ($after: String) { orderChanges(after: $after) { cursor } }', {
    after: oldCursor,
  });
  expect(expired.errors?.[0]?.extensions?.code).toBe('CURSOR_EXPIRED');
  await expect(service.feed.subscribe({ after: oldCursor })).rejects.toMatchObject({
    code: 'CURSOR_EXPIRED',
  });

  await service.database.sql(`INSERT INTO orders (customer_name, product_name) VALUES ('newer', 'd')`);
  await waitForCount(live.changes, 4);
  await live.stop();

  const names = (result: { data?: { orderChanges: { order: { customerName: string } }[] } }) =>
    result.data?.orderChanges.map((c) => c.order.customerName);
  const query = 'query ($after: String) { orderChanges(after: $after) { order { customerName } } }';
  expect(names(await service.graphql(query, { after: newCursor }))).toEqual(['newer']);
  expect(names(await service.graphql(query))).toEqual(['new', 'newer']);
});

test('a cursor older than CHANGE_RETENTION expires on time, whether or not pruning has run', async () => {
  const short = await startTestService({ feed: { retentionMs: 1_000, pruneIntervalMs: 3_600_000 } });
  try {
    const live = collect(await short.feed.subscribe());
    await short.database.sql(
      `INSERT INTO orders (customer_name, product_name) VALUES ('early', 'a'), ('early', 'b')`,
    );
    await waitForCount(live.changes, 2);
    await new Promise((r) => setTimeout(r, 1_500));
    await short.database.sql(`INSERT INTO orders (customer_name, product_name) VALUES ('late', 'c')`);
    await waitForCount(live.changes, 3);
    await live.stop();

    expect(await changeLogSize(short.database), 'nothing was pruned').toBe(3);
    await expect(short.feed.subscribe({ after: live.changes[0]?.cursor })).rejects.toMatchObject({
      code: 'CURSOR_EXPIRED',
    });
    const history = await short.graphql('{ orderChanges { order { customerName } } }');
    expect(history.data.orderChanges).toEqual([{ order: { customerName: 'late' } }]);
    const resumed = await short.graphql(
      'query ($after: String) { orderChanges(after: $after) { order { customerName } } }',
      {
        after: live.changes[2]?.cursor,
      },
    );
    expect(resumed.errors).toBeUndefined();
  } finally {
    await short.stop();
  }
});

// PostgreSQL only: batches and ticks are its pruning's (MySQL's prunes by seq in one statement).
test.skipIf(onMysql)(
  'pruning in small batches removes exactly the expired history, ticks oldest first',
  async () => {
    const live = collect(await service.feed.subscribe());
    const before = live.changes.length;
    for (const name of ['b1', 'b2', 'b3', 'b4', 'b5']) {
      await service.database.sql(
        `INSERT INTO orders (customer_name, product_name) VALUES ('${name}', 'a'), ('${name}', 'b'), ('${name}', 'c')`,
      );
    }
    await waitForCount(live.changes, before + 15);
    const expiredCursor = live.changes[before]?.cursor as string;
    await service.database.sql(`UPDATE change_ticks SET created_at = created_at - interval '1 day'`);
    await service.database.sql(`INSERT INTO orders (customer_name, product_name) VALUES ('kept', 'k')`);
    await waitForCount(live.changes, before + 16);
    const keptCursor = live.changes[before + 15]?.cursor as string;
    await live.stop();
    const [kept] = await service.database.sql<{ n: string }>(
      `SELECT count(*) AS n FROM order_changes WHERE new_row->>'customer_name' = 'kept'`,
    );

    // Batches of 2: every statement removes at most 2 rows; together, every expired change.
    const [all] = await service.database.sql<{ n: string }>('SELECT count(*) AS n FROM order_changes');
    const removed = await pruneChangeLog(service.database.db, 3600e3, { batchSize: 2 });
    const [left] = await service.database.sql<{ n: string }>('SELECT count(*) AS n FROM order_changes');
    expect(removed).toBe(Number(all?.n) - Number(left?.n));
    expect(Number(left?.n)).toBe(Number(kept?.n));
    const ticks = await service.database.sql<{ tick_id: string }>(
      'SELECT tick_id FROM change_ticks ORDER BY tick_id',
    );
    const ids = ticks.map((t) => Number(t.tick_id));
    expect(ids).toEqual(ids.map((_, i) => (ids[0] as number) + i)); // no hole
    expect(await pruneChangeLog(service.database.db, 3600e3, { batchSize: 2 })).toBe(0);

    await expect(service.feed.subscribe({ after: expiredCursor })).rejects.toMatchObject({
      code: 'CURSOR_EXPIRED',
    });
    const names = await service.graphql(
      'query ($after: String) { orderChanges(after: $after) { order { customerName } } }',
      { after: keptCursor },
    );
    expect(names.errors).toBeUndefined();
    expect(names.data.orderChanges).toEqual([]);
  },
);

// PostgreSQL only, as above. The service stops (or loses the lead) while pruning: what the prune
// removed by then is a prefix of the expired ticks and changes, which the feed reads as it reads
// pruned history, and the next prune removes the rest.
test.skipIf(onMysql)('a prune stopped between statements leaves the rest to the next one', async () => {
  const live = collect(await service.feed.subscribe());
  const before = live.changes.length;
  for (const name of ['s1', 's2', 's3', 's4']) {
    await service.database.sql(
      `INSERT INTO orders (customer_name, product_name) VALUES ('${name}', 'a'), ('${name}', 'b')`,
    );
  }
  await waitForCount(live.changes, before + 8);
  await service.database.sql(`UPDATE change_ticks SET created_at = created_at - interval '1 day'`);
  await service.database.sql(`INSERT INTO orders (customer_name, product_name) VALUES ('kept', 'k')`);
  await waitForCount(live.changes, before + 9);
  const keptCursor = live.changes[before + 8]?.cursor as string;
  await live.stop();
  const count = async () =>
    Number((await service.database.sql<{ n: string }>('SELECT count(*) AS n FROM order_changes'))[0]?.n);
  const all = await count();

  // One row per statement: every expired tick but the newest (the base), one statement more that
  // finds none left, then the changes. Stopped after two of those.
  const [expired] = await service.database.sql<{ n: string }>(
    `SELECT count(*) AS n FROM change_ticks WHERE created_at < now() - interval '1 hour'`,
  );
  const tickStatements = Number(expired?.n);
  let statements = 0;
  const partly = await pruneChangeLog(service.database.db, 3600e3, {
    batchSize: 1,
    stopped: () => statements++ === tickStatements + 2,
  });
  expect(partly).toBe(2);
  const ticks = await service.database.sql<{ tick_id: string }>(
    'SELECT tick_id FROM change_ticks ORDER BY tick_id',
  );
  const ids = ticks.map((t) => Number(t.tick_id));
  expect(ids).toEqual(ids.map((_, i) => (ids[0] as number) + i)); // no hole
  expect(await count()).toBe(all - partly);

  const rest = await pruneChangeLog(service.database.db, 3600e3, { batchSize: 3 });
  expect(rest).toBeGreaterThan(0);
  const [kept] = await service.database.sql<{ n: string }>(
    `SELECT count(*) AS n FROM order_changes WHERE new_row->>'customer_name' = 'kept'`,
  );
  expect(await count()).toBe(Number(kept?.n));
  const resumed = await service.graphql(
    'query ($after: String) { orderChanges(after: $after) { order { customerName } } }',
    { after: keptCursor },
  );
  expect(resumed.errors).toBeUndefined();
  expect(resumed.data.orderChanges).toEqual([]);
});

// A reader left behind the retention, whose next changes a prune removed while it stood between
// two pages, gets CURSOR_EXPIRED instead of reading on after a gap: on PostgreSQL it finds the
// predecessor of its next tick gone; on MySQL/MariaDB, whose readers read `seq > last`, the first
// change left lies past its next seq.
test('a reader whose next changes were pruned meanwhile gets CURSOR_EXPIRED, not a gap', async () => {
  const live = collect(await service.feed.subscribe());
  const before = live.changes.length;
  await service.database.sql(`INSERT INTO orders (customer_name, product_name) VALUES ('before', 'a')`);
  await service.database.sql(
    `INSERT INTO orders (customer_name, product_name) VALUES ('behind', 'a'), ('behind', 'b')`,
  );
  await waitForCount(live.changes, before + 3);
  // Standing after 'before', as a reader that has read up to it would.
  const reader = live.changes[before]?.cursor as string;
  await ageHistory(service.database, 86400);
  await service.database.sql(`INSERT INTO orders (customer_name, product_name) VALUES ('later', 'c')`);
  await waitForCount(live.changes, before + 4);
  await live.stop();

  expect(await readLogAfter(service.database, reader, 3600e3)).toBeGreaterThan(0);
  await pruneHistory(service.database, 3600e3);
  expect(await changeLogSize(service.database), "only 'later' is left").toBe(1);
  await expect(readLogAfter(service.database, reader, 3600e3)).rejects.toMatchObject({
    code: 'CURSOR_EXPIRED',
  });
});
