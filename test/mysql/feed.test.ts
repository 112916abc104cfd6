import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { OrderChange } from '../../src/changes/change.ts';
import {
  type CommittedChange,
  changeKey,
  collect,
  expectExactDelivery,
  runWorkload,
  seedOrders,
  waitForCount,
} from '../changes/harness.ts';
import { createMysqlTestDatabase, killConnectionsOf, mysqlServerUrl } from '../helpers/mysql-database.ts';
import { startTestService, type TestService } from '../helpers/service.ts';
import { waitFor } from '../helpers/wait.ts';

// The feed's guarantees on MySQL/MariaDB, checked by the same checks as on PostgreSQL
// (harness.ts: expectExactDelivery), against a real server: TEST_MYSQL_URL.
describe.skipIf(!mysqlServerUrl)('change feed on MySQL/MariaDB', () => {
  let service: TestService;
  let user: string;
  beforeAll(async () => {
    const database = await createMysqlTestDatabase();
    user = database.user;
    service = await startTestService({ database, feed: { checkIntervalMs: 200 } });
  });
  afterAll(async () => {
    await service?.stop();
    await service?.database.drop();
  });

  test('concurrent writers with slow transactions and rollbacks: every committed change once, in commit order per order, transactions together', async () => {
    const subscriber = collect(await service.feed.subscribe());
    const seed = await seedOrders(service.database, 5);
    const committed = await runWorkload(service.database.url, {
      writers: 8,
      transactionsPerWriter: 20,
      sharedIds: seed.ids,
      rollbackRate: 0.25,
      slowRate: 0.3,
      slowMs: 60,
    });
    const expected = [...seed.changes, ...committed];
    await waitForCount(subscriber.changes, expected.length);
    await subscriber.stop();
    expectExactDelivery(subscriber.changes, expected);
    // The hazard of reading by AUTO_INCREMENT was real: some order committed after a higher id.
    const inserts = subscriber.changes.filter((c) => c.operation === 'INSERT').map((c) => Number(c.order.id));
    expect(inserts.some((id, i) => i > 0 && id < (inserts[i - 1] as number))).toBe(true);
  });

  test('resume with `after`: exactly what was missed, then live', async () => {
    const first = collect(await service.feed.subscribe());
    const seed = await seedOrders(service.database, 3);
    const part1 = await runWorkload(service.database.url, {
      writers: 3,
      transactionsPerWriter: 8,
      sharedIds: seed.ids,
    });
    await waitForCount(first.changes, seed.changes.length + part1.length);
    const keep = Math.floor(first.changes.length / 2);
    await first.stop();
    const received = first.changes.slice(0, keep);
    const part2 = await runWorkload(service.database.url, {
      writers: 3,
      transactionsPerWriter: 8,
      sharedIds: seed.ids,
    });
    const resumed = collect(await service.feed.subscribe({ after: (received.at(-1) as OrderChange).cursor }));
    const part3 = await runWorkload(service.database.url, {
      writers: 2,
      transactionsPerWriter: 5,
      sharedIds: seed.ids,
    });
    const all = [...seed.changes, ...part1, ...part2, ...part3];
    await waitForCount(resumed.changes, all.length - keep);
    await resumed.stop();
    expectExactDelivery([...received, ...resumed.changes], all);

    const history = await service.feed.history({
      after: (received.at(-1) as OrderChange).cursor,
      first: 10_000,
    });
    expect(history.map((c) => c.cursor)).toEqual(resumed.changes.map((c) => c.cursor));
  });

  test('snapshot then live: orders.changeCursor, then after it, gives exactly what the page does not reflect', async () => {
    const seed = await seedOrders(service.database, 4);
    const writing = runWorkload(service.database.url, {
      writers: 4,
      transactionsPerWriter: 40,
      sharedIds: seed.ids,
      slowRate: 0.3,
      slowMs: 20,
    });
    await new Promise((r) => setTimeout(r, 300));
    const { data, errors } = await service.graphql<{
      orders: { changeCursor: string; nodes: { id: string; version: number }[] };
    }>('{ orders(first: 500) { changeCursor nodes { id version } } }');
    expect(errors).toBeUndefined();
    const subscriber = collect(await service.feed.subscribe({ after: data?.orders.changeCursor }));
    await writing;
    const final = await service.database.sql<{ id: string; version: number }>(
      'SELECT id, version FROM orders',
    );
    // The page, replayed with the changes after its cursor, is the final state, and each change
    // follows from the one before (versions rise by one): none reflected twice, none missed.
    const state = new Map(data?.orders.nodes.map((n) => [n.id, n.version]));
    await waitFor(
      () => {
        const replayed = new Map(state);
        for (const change of subscriber.changes) {
          const { id, version } = change.order;
          if (change.operation === 'DELETE') replayed.delete(id);
          else replayed.set(id, version);
        }
        return replayed.size === final.length && final.every((r) => replayed.get(String(r.id)) === r.version);
      },
      { timeoutMs: 30_000, message: 'the page and the changes after it make the final state' },
    );
    await new Promise((r) => setTimeout(r, 300));
    await subscriber.stop();
    expect(subscriber.changes.length, 'the page was read mid-workload').toBeGreaterThan(0);
    for (const change of subscriber.changes) {
      const { id, version } = change.order;
      const before = state.get(id);
      if (change.operation === 'INSERT') expect(before, `INSERT ${id} already in the page`).toBeUndefined();
      if (change.operation === 'UPDATE')
        expect(before, `UPDATE ${id}:${version} gap or repeat`).toBe(version - 1);
      if (change.operation === 'DELETE') expect(before, `DELETE ${id}:${version}`).toBe(version);
      if (change.operation === 'DELETE') state.delete(id);
      else state.set(id, version);
    }
  });

  test("the service's connections killed (KILL CONNECTION) mid-stream: nothing lost, nothing twice", async () => {
    const subscriber = collect(await service.feed.subscribe());
    const seed = await seedOrders(service.database, 4);
    let killed = 0;
    // The writers are another service, with a user of their own: only the service's sessions die.
    const other = new URL(mysqlServerUrl as string);
    other.pathname = `/${user}`;
    const writing = runWorkload(other.toString(), {
      writers: 4,
      transactionsPerWriter: 60,
      sharedIds: seed.ids,
      slowRate: 0.3,
      slowMs: 30,
    });
    // Kills while the writers write and the capture records.
    let writingDone = false;
    void writing.finally(() => {
      writingDone = true;
    });
    let killsDuringWrites = 0;
    while (!writingDone) {
      await new Promise((r) => setTimeout(r, 250));
      const n = await killConnectionsOf(user);
      killed += n;
      if (!writingDone && n > 0) killsDuringWrites++;
    }
    expect(killsDuringWrites, 'connections killed while the writers wrote').toBeGreaterThan(0);
    const committed = await writing;
    expect(killed).toBeGreaterThan(0);
    const expected = [...seed.changes, ...committed];
    await waitForCount(subscriber.changes, expected.length, 60_000);
    await subscriber.stop();
    expectExactDelivery(subscriber.changes, expected);
    await waitFor(() => service.feed.status().listening, {
      timeoutMs: 20_000,
      message: 'feed listening again',
    });
    const ready = await fetch(`${service.url}/ready`);
    expect(ready.status).toBe(200);
  });

  test('plain SQL writes are delivered, with version and updated_at kept by the database', async () => {
    const subscriber = collect(await service.feed.subscribe({ filter: { statuses: ['pending'] } }));
    await service.database.sql(
      "INSERT INTO orders (customer_name, product_name, status) VALUES ('John Doe', 'Laptop', 'pending')",
    );
    await service.database.sql("UPDATE orders SET status = 'shipped' WHERE customer_name = 'John Doe'");
    await waitForCount(subscriber.changes, 2);
    await subscriber.stop();
    const [insert, update] = subscriber.changes as [OrderChange, OrderChange];
    expect(insert.operation).toBe('INSERT');
    expect(insert.order).toMatchObject({ customerName: 'John Doe', status: 'pending', version: 1 });
    expect(update.operation).toBe('UPDATE');
    expect(update.order.version).toBe(2);
    expect(update.previous?.status).toBe('pending');
    expect(update.changedFields).toEqual(expect.arrayContaining(['status', 'version', 'updatedAt']));
    expect(update.order.updatedAt.getTime()).toBeGreaterThanOrEqual(insert.order.updatedAt.getTime());
    await expect(
      service.database.sql(
        "INSERT INTO orders (customer_name, product_name, status) VALUES ('x', 'y', 'PENDING')",
      ),
    ).rejects.toThrow(/orders_status_known/);
  });
});

describe.skipIf(!mysqlServerUrl)('change retention on MySQL/MariaDB', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService({
      database: await createMysqlTestDatabase(),
      feed: { retentionMs: 1_000, pruneIntervalMs: 200 },
    });
  });
  afterAll(async () => {
    await service?.stop();
    await service?.database.drop();
  });

  test('a cursor older than the retention gives CURSOR_EXPIRED; a malformed one BAD_USER_INPUT', async () => {
    const subscriber = collect(await service.feed.subscribe());
    await service.database.sql(
      "INSERT INTO orders (customer_name, product_name) VALUES ('old', 'one'), ('old', 'two')",
    );
    await waitForCount(subscriber.changes, 2);
    await subscriber.stop();
    const old = (subscriber.changes[0] as OrderChange).cursor;
    await new Promise((r) => setTimeout(r, 2_500));
    await service.database.sql("INSERT INTO orders (customer_name, product_name) VALUES ('new', 'one')");
    const query = 'query ($after: String) { orderChanges(after: $after) { cursor } }';
    await waitFor(
      async () =>
        (await service.graphql(query, { after: old })).errors?.[0]?.extensions?.code === 'CURSOR_EXPIRED',
      { timeoutMs: 10_000, message: 'CURSOR_EXPIRED' },
    );
    await expect(service.feed.subscribe({ after: old })).rejects.toMatchObject({ code: 'CURSOR_EXPIRED' });
    const bad = await service.graphql(query, { after: 'not a cursor' });
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const committed: CommittedChange[] = [];
    expect(committed.map(changeKey)).toEqual([]);
  });
});
