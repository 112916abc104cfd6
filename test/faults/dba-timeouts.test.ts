import { afterAll, expect, test } from 'vitest';
import { type CommittedChange, expectExactDelivery, waitForCount } from '../changes/harness.ts';
import type { TestService } from '../helpers/service.ts';
import { databaseWithDbaTimeouts, lockRow } from './backend-faults.ts';
import { subscribeOverWebSocket } from './harness.ts';
import { BULK_ROWS } from './mixed-load.ts';
import { underLoad } from './under-load.ts';

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => {});
});

test("a DBA's 50 ms statement, lock and idle-in-transaction timeouts on the database: the service sets its own, the feed and bulk reads work", async () => {
  const { database, writerUrl, dbaStatementTimeout } = await databaseWithDbaTimeouts(cleanups);

  let updated: { data?: any; errors?: unknown[]; ms: number } | undefined;
  let droppedFeed = -1;
  const alsoCommitted: CommittedChange[] = [];
  const { service, writes, after, expected } = await underLoad(cleanups, {
    database,
    alsoCommitted,
    writerUrl,
    during: async (running) => {
      // The feed's connection idles between its checks: a DBA's idle_session_timeout would end it.
      const listening = watchListening(running);
      // A row lock held 1.5 s by someone else: the service's update waits (lock_timeout and
      // statement_timeout would have failed it after 50 ms).
      const created = await running.graphql(
        'mutation { createOrder(input: { customerName: "locked", productName: "row" }) { id } }',
      );
      const id = created.data.createOrder.id;
      const release = await lockRow(writerUrl, id);
      const started = Date.now();
      const updating = running.graphql(
        'mutation ($id: ID!) { updateOrder(id: $id, input: { quantity: 3 }) { version quantity } }',
        { id },
      );
      await new Promise((r) => setTimeout(r, 1_500));
      await release();
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
  const { seen, set } = await dbaStatementTimeout();
  expect(seen, 'a fresh session gets the DBA setting').toBe(set);

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
