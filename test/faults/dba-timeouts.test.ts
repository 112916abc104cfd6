import { afterAll, expect, test } from 'vitest';
import { expectExactDelivery, waitForCount } from '../changes/harness.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { BULK_ROWS, subscribeOverWebSocket } from './harness.ts';
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
    "idle_session_timeout = '1s'",
  ]) {
    await database.sql(`ALTER DATABASE ${name} SET ${setting}`);
  }
  // The writers are someone else's clients: they bring their own settings, as they would have to.
  const writerUrl = new URL(database.url);
  writerUrl.searchParams.set(
    'options',
    '-c statement_timeout=0 -c lock_timeout=0 -c idle_in_transaction_session_timeout=0 -c idle_session_timeout=0',
  );

  const { service, writes, after, expected } = await underLoad(cleanups, {
    database,
    writerUrl: writerUrl.toString(),
    during: () => new Promise((r) => setTimeout(r, 6_000)),
  });
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
