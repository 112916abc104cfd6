import { createClient } from 'graphql-ws';
import { afterAll, expect, test } from 'vitest';
import WebSocket from 'ws';
import type { OrderChange } from '../../src/changes/change.ts';
import { spawnReadyService } from '../helpers/child-service.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { startTestService } from '../helpers/service.ts';
import { waitFor } from '../helpers/wait.ts';
import { collect, expectExactDelivery, runWorkload, seedOrders, waitForCount } from './harness.ts';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

/** An instance in a process of its own, so that it can really die. */
async function startInstance(databaseUrl: string) {
  const instance = await spawnReadyService({ DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' });
  cleanups.push(async () => instance.kill());
  return instance;
}

// On PostgreSQL and on MySQL/MariaDB (vitest project `mysql`): the instance doing the once-only work
// (PostgreSQL: ticks and pruning; MySQL: the binary-log capture) is killed.
test('two instances on one database: the ticker killed mid-stream, the other takes over and loses nothing', async () => {
  const database = await createTestDatabase();
  cleanups.push(() => database.drop());
  const a = await startInstance(database.url);
  const b = await startTestService({ database });
  cleanups.push(() => b.stop());
  expect(b.feed.status().leader, 'the first instance holds the ticker (capture) lock').toBe(false);

  const onB = collect(await b.feed.subscribe());
  const clientA = createClient({ url: a.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
  const onA: OrderChange[] = [];
  clientA.subscribe<{ orderChanged: OrderChange }>(
    { query: 'subscription { orderChanged { cursor operation order { id version } } }' },
    { next: ({ data }) => data && onA.push(data.orderChanged), error: () => {}, complete: () => {} },
  );
  await new Promise((r) => setTimeout(r, 300));

  const seed = await seedOrders(database, 4);
  const writing = runWorkload(database.url, {
    writers: 3,
    transactionsPerWriter: 80,
    sharedIds: seed.ids,
    slowRate: 0.2,
    slowMs: 20,
  });
  await waitFor(() => onA.length > 20, { message: 'instance A to deliver' });
  a.kill();
  await waitFor(() => b.feed.status().leader, {
    timeoutMs: 10_000,
    message: 'instance B to take over the ticker',
  });
  const committed = await writing;
  await Promise.resolve(clientA.dispose()).catch(() => {});

  const expected = [...seed.changes, ...committed];
  await waitForCount(onB.changes, expected.length);
  await onB.stop();
  expectExactDelivery(onB.changes, expected);

  // Cursors are positions in the shared log: A's last one resumes exactly on B.
  const resumed = collect(await b.feed.subscribe({ after: (onA.at(-1) as OrderChange).cursor }));
  await waitForCount(resumed.changes, expected.length - onA.length);
  await resumed.stop();
  expect([...onA, ...resumed.changes].map((c) => c.cursor)).toEqual(onB.changes.map((c) => c.cursor));
});
