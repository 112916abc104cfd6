import { afterAll, expect, test } from 'vitest';
import { collect, expectExactDelivery, runWorkload, seedOrders, waitForCount } from '../changes/harness.ts';
import { onMysql } from '../helpers/backend-under-test.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { startTestService } from '../helpers/service.ts';
import { startSilentProxy } from '../helpers/silent-proxy.ts';
import { waitFor } from '../helpers/wait.ts';
import { writerUrlOf } from './backend-faults.ts';
import { runOutageScenario } from './outage.ts';

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => {});
});

test(`the network to ${onMysql ? 'MySQL/MariaDB' : 'PostgreSQL'} silently dropped for 20 s, then restored: requests fail within seconds, then at once; nothing lost`, async () => {
  const database = await createTestDatabase();
  cleanups.push(() => database.drop());
  // Only the service is behind the proxy; the writers reach the database directly and go on
  // committing while the service cannot see it.
  const proxy = await startSilentProxy(new URL(database.url));
  cleanups.push(() => proxy.close());
  await runOutageScenario(
    cleanups,
    database,
    {
      begin: async () => proxy.silence(),
      end: async () => proxy.restore(),
      durationMs: 20_000,
      // A silent network is noticed by the gate's probe (a stalled request, then 2 s without an
      // answer), at most about 5 s in; from then on requests fail at once.
      settleMs: 8_000,
      requestsMayHang: true,
    },
    proxy.url,
  );
}, 90_000);

test("the change feed's own connections silenced (LISTEN, or the binary-log capture): noticed within seconds, and every subscriber catches up", async () => {
  const database = await createTestDatabase();
  cleanups.push(() => database.drop());
  const proxy = await startSilentProxy(new URL(database.url));
  cleanups.push(() => proxy.close());
  // Requests reach the database directly; only the feed's connections go through the proxy.
  const service = await startTestService({
    database,
    feed: { connectionString: proxy.url, checkIntervalMs: 500, checkTimeoutMs: 1_500 },
  });
  cleanups.push(() => service.stop());
  const subscriber = collect(await service.feed.subscribe());
  const seed = await seedOrders(database, 3);
  await waitForCount(subscriber.changes, 3);

  proxy.silence();
  const silencedAt = Date.now();
  const during = await runWorkload(writerUrlOf(database), {
    writers: 2,
    transactionsPerWriter: 10,
    sharedIds: seed.ids,
  });
  await waitFor(() => !service.feed.status().listening, {
    timeoutMs: 10_000,
    message: 'the silent connection to be noticed',
  });
  expect(Date.now() - silencedAt).toBeLessThan(5_000);
  proxy.restore();
  await waitFor(() => service.feed.status().listening, { timeoutMs: 10_000, message: 'a new connection' });

  const expected = [...seed.changes, ...during];
  await waitForCount(subscriber.changes, expected.length);
  await subscriber.stop();
  expectExactDelivery(subscriber.changes, expected);
}, 60_000);
