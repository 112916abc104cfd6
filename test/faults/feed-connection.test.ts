import { rmSync } from 'node:fs';
import { afterAll, expect, test } from 'vitest';
import { startEmbeddedPostgres } from '../../src/db/embedded.ts';
import {
  collect,
  expectExactDelivery,
  runWorkload,
  seedOrders,
  startFeed,
  waitForCount,
} from '../changes/harness.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { startSilentProxy } from '../helpers/silent-proxy.ts';
import { clusterTempDir } from '../helpers/temp-dir.ts';
import { waitFor } from '../helpers/wait.ts';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

test("the listener's backend killed several times mid-stream: nothing lost, nothing doubled", async () => {
  const database = await createTestDatabase();
  cleanups.push(() => database.drop());
  const feed = await startFeed(database);
  cleanups.push(() => feed.stop());
  const subscriber = collect(await feed.subscribe());
  const seed = await seedOrders(database, 4);

  const writing = runWorkload(database.url, {
    writers: 4,
    transactionsPerWriter: 60,
    sharedIds: seed.ids,
    slowRate: 0.2,
    slowMs: 30,
  });
  let kills = 0;
  // Counted by the feed itself: a poll of status() can miss a reconnection faster than its interval.
  const lossesBefore = feed.status().connectionLosses;
  for (let i = 0; i < 4; i++) {
    await new Promise((r) => setTimeout(r, 250));
    await waitFor(() => feed.status().listening, { message: 'the feed to be listening again' });
    const killed = await database.sql(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
       WHERE application_name = 'realtime-orders feed' AND datname = current_database()`,
    );
    kills += killed.length;
    await waitFor(() => feed.status().connectionLosses > lossesBefore + i, {
      message: 'the feed to notice its connection is gone',
    });
  }
  const committed = await writing;
  expect(kills).toBeGreaterThanOrEqual(4);
  expect(feed.status().connectionLosses - lossesBefore, '/ready reported the feed down each time').toBe(
    kills,
  );
  await waitFor(() => feed.status().listening, { message: 'the feed to reconnect' });

  const expected = [...seed.changes, ...committed];
  await waitForCount(subscriber.changes, expected.length);
  await subscriber.stop();
  expect(subscriber.failure).toBeUndefined();
  expectExactDelivery(subscriber.changes, expected);
});

test('PostgreSQL stopped and started mid-stream: subscribers stay and receive everything', async () => {
  const dir = clusterTempDir('realtime-orders-restart-');
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  let server = await startEmbeddedPostgres({ dir });
  cleanups.push(() => server.stop());
  const database = await createTestDatabase(server.serverUrl);
  const feed = await startFeed(database);
  cleanups.push(() => feed.stop());
  const subscriber = collect(await feed.subscribe());
  const filtered = collect(await feed.subscribe({ filter: { operations: ['INSERT'] } }));

  const seed = await seedOrders(database, 3);
  const before = await runWorkload(database.url, {
    writers: 3,
    transactionsPerWriter: 20,
    sharedIds: seed.ids,
  });
  await waitForCount(subscriber.changes, seed.changes.length + before.length);

  await server.stop();
  await waitFor(() => !feed.status().listening, { message: 'the feed to notice the database is gone' });
  server = await startEmbeddedPostgres({ dir, port: server.port });
  await waitFor(() => feed.status().listening, { timeoutMs: 20_000, message: 'the feed to reconnect' });

  const after = await runWorkload(database.url, {
    writers: 3,
    transactionsPerWriter: 20,
    sharedIds: seed.ids,
  });
  const expected = [...seed.changes, ...before, ...after];
  await waitForCount(subscriber.changes, expected.length);
  await Promise.all([subscriber.stop(), filtered.stop()]);
  expect(subscriber.failure).toBeUndefined();
  expectExactDelivery(subscriber.changes, expected);
  expect(filtered.changes.map((c) => c.cursor)).toEqual(
    subscriber.changes.filter((c) => c.operation === 'INSERT').map((c) => c.cursor),
  );
});

test('a connection that goes silent without closing is noticed within seconds, and the feed catches up', async () => {
  const database = await createTestDatabase();
  cleanups.push(() => database.drop());
  const proxy = await startSilentProxy(new URL(database.url));
  cleanups.push(() => proxy.close());
  const feed = await startFeed(database, {
    connectionString: proxy.url,
    checkIntervalMs: 500,
    checkTimeoutMs: 1_500,
  });
  cleanups.push(() => feed.stop());
  const subscriber = collect(await feed.subscribe());
  const seed = await seedOrders(database, 3);
  await waitForCount(subscriber.changes, 3);

  proxy.silence();
  const silencedAt = Date.now();
  const during = await runWorkload(database.url, {
    writers: 2,
    transactionsPerWriter: 10,
    sharedIds: seed.ids,
  });
  await waitFor(() => !feed.status().listening, {
    timeoutMs: 10_000,
    message: 'the silent connection to be noticed',
  });
  expect(Date.now() - silencedAt).toBeLessThan(5_000);
  proxy.restore();
  await waitFor(() => feed.status().listening, { timeoutMs: 10_000, message: 'a new connection' });

  const expected = [...seed.changes, ...during];
  await waitForCount(subscriber.changes, expected.length);
  await subscriber.stop();
  expectExactDelivery(subscriber.changes, expected);
});
