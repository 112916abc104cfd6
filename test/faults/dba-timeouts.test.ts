import pg from 'pg';
import { afterAll, expect, test } from 'vitest';
import { type CommittedChange, expectExactDelivery, waitForCount } from '../changes/harness.ts';
import { createTestDatabase } from '../helpers/database.ts';
import type { TestService } from '../helpers/service.ts';
import { subscribeOverWebSocket } from './harness.ts';
import { BULK_ROWS } from './mixed-load.ts';
import { underLoad } from './under-load.ts';

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => {});
});

test("a DBA's 50 ms statement, lock and idle-in-transaction timeouts on the database: the service sets its own, the feed and bulk reads work", async () => {
  const database = await createTestDatabase();
  cleanups.push(() => database.drop());
  const name = new URL(database.url).pathname.slice(1);
  for (const setting of [
    "statement_timeout = '50ms'",
    "lock_timeout = '50ms'",
    "idle_in_transaction_session_timeout = '50ms'",
    "idle_session_timeout = '500ms'",
  ]) {
    await database.sql(`ALTER DATABASE ${name} SET ${setting}`);
  }
  // The writers are someone else's clients: they bring their own settings, as they would have to.
  const writerUrl = new URL(database.url);
  writerUrl.searchParams.set(
    'options',
    '-c statement_timeout=0 -c lock_timeout=0 -c idle_in_transaction_session_timeout=0 -c idle_session_timeout=0',
  );

  let updated: { data?: any; errors?: unknown[]; ms: number } | undefined;
  let droppedFeed = -1;
  const alsoCommitted: CommittedChange[] = [];
  const { service, writes, after, expected } = await underLoad(cleanups, {
    database,
    alsoCommitted,
    writerUrl: writerUrl.toString(),
    during: async (running) => {
      // The feed's connection idles between its checks: a DBA's idle_session_timeout would end it.
      const listening = watchListening(running);
      // A row lock held 1.5 s by someone else: the service's update waits (lock_timeout and
      // statement_timeout would have failed it after 50 ms).
      const created = await running.graphql(
        'mutation { createOrder(input: { customerName: "locked", productName: "row" }) { id } }',
      );
      const id = created.data.createOrder.id;
      const blocker = new pg.Client({ connectionString: writerUrl.toString() });
      await blocker.connect();
      await blocker.query('BEGIN');
      await blocker.query('UPDATE orders SET quantity = 2 WHERE id = $1', [id]);
      const started = Date.now();
      const updating = running.graphql(
        'mutation ($id: ID!) { updateOrder(id: $id, input: { quantity: 3 }) { version quantity } }',
        { id },
      );
      await new Promise((r) => setTimeout(r, 1_500));
      await blocker.query('COMMIT');
      await blocker.end();
      updated = { ...(await updating), ms: Date.now() - started };
      alsoCommitted.push(
        { op: 'INSERT', id, version: 1, tx: 'locked 1' },
        { op: 'UPDATE', id, version: 2, tx: 'locked 2' },
        { op: 'UPDATE', id, version: 3, tx: 'locked 3' },
      );
      await new Promise((r) => setTimeout(r, 3_000));
      droppedFeed = listening.stop();
    },
  });
  expect(updated?.errors).toBeUndefined();
  expect(updated?.data.updateOrder).toEqual({ version: 3, quantity: 3 });
  expect(updated?.ms, 'the update waited for the lock').toBeGreaterThanOrEqual(1_400);
  expect(droppedFeed, 'times the feed connection was down').toBe(0);
  expect(writes.failed, 'createOrder through the service').toEqual([]);
  const [setting] = await database.sql<{ statement_timeout: string }>('SHOW statement_timeout');
  expect(setting?.statement_timeout, 'a fresh session gets the DBA setting').toBe('50ms');

  // Bulk reads: a page of 500 orders, 1,000 changes of history, and a subscriber that replays
  // the whole 20,000-row UPDATE from the log.
  const page = await service.graphql(
    `query ($after: String) { orders(first: 500) { nodes { id } changeCursor }
       orderChanges(after: $after, first: 1000) { cursor } }`,
    { after },
  );
  expect(page.errors).toBeUndefined();
  expect(page.data.orders.nodes).toHaveLength(500);
  expect(page.data.orderChanges).toHaveLength(1000);
  const replay = subscribeOverWebSocket(service.wsUrl, { after });
  cleanups.push(() => replay.stop());
  await waitForCount(replay.changes, expected.length, 60_000).catch(() => {});
  expect(expected.length).toBeGreaterThan(BULK_ROWS);
  expectExactDelivery(replay.changes, expected);
}, 90_000);

/** Counts the times the feed's connection is seen down, sampling every 20 ms. */
function watchListening(service: TestService) {
  let down = 0;
  let wasUp = true;
  const timer = setInterval(() => {
    const up = service.feed.status().listening;
    if (wasUp && !up) down++;
    wasUp = up;
  }, 20);
  return {
    stop() {
      clearInterval(timer);
      return down;
    },
  };
}
