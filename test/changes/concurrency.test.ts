import { expect, test } from 'vitest';
import { waitFor } from '../helpers/wait.ts';
import { expectOrderHazard } from './backend-sql.ts';
import {
  type CommittedChange,
  changeKey,
  collect,
  expectExactDelivery,
  feedForFile,
  receivedKey,
  runWorkload,
  seedOrders,
  waitForCount,
} from './harness.ts';
import { openWriter } from './order-writer.ts';

// On PostgreSQL and on MySQL/MariaDB (vitest project `mysql`): the same workloads, the same checks.

const shared = feedForFile();

test('transactions that take seq values early and commit late are all delivered, once, in commit order per row', async () => {
  const subscriber = collect(await shared.feed.subscribe());
  const seed = await seedOrders(shared.database, 5);
  // Slow transactions hold early seq values while fast ones commit later seq values first: a
  // reader of `seq > last seen` would skip the slow ones for good.
  const committed = await runWorkload(shared.database.url, {
    writers: 8,
    transactionsPerWriter: 25,
    sharedIds: seed.ids,
    slowRate: 0.3,
    slowMs: 60,
  });
  const expected = [...seed.changes, ...committed];
  await waitForCount(subscriber.changes, expected.length);
  await subscriber.stop();
  expectExactDelivery(subscriber.changes, expected);
  // The hazard really happened: a naive reader would have lost some of these.
  expectOrderHazard(shared.database, subscriber.changes);
});

test('rolled-back transactions leave holes in the sequence and are never delivered', async () => {
  const subscriber = collect(await shared.feed.subscribe());
  const seed = await seedOrders(shared.database, 3);
  const committed = await runWorkload(shared.database.url, {
    writers: 6,
    transactionsPerWriter: 25,
    sharedIds: seed.ids,
    rollbackRate: 0.4,
    slowRate: 0.2,
    slowMs: 40,
  });
  const expected = [...seed.changes, ...committed];
  await waitForCount(subscriber.changes, expected.length);
  await subscriber.stop();
  expectExactDelivery(subscriber.changes, expected);
});

test('a transaction open for 5 seconds is delivered when it commits, and blocks nobody meanwhile', async () => {
  const subscriber = collect(await shared.feed.subscribe());
  const long = await openWriter(shared.database.url);
  const expected: CommittedChange[] = [];
  try {
    await long.begin();
    const inserted = await long.insert({ customer: 'long', product: 'held open' });
    const longChange: CommittedChange = { op: 'INSERT', ...inserted, tx: 'long' };

    const started = Date.now();
    const seed = await seedOrders(shared.database, 2);
    expected.push(...seed.changes);
    while (Date.now() - started < 5_500) {
      expected.push(
        ...(await runWorkload(shared.database.url, {
          writers: 3,
          transactionsPerWriter: 5,
          sharedIds: seed.ids,
        })),
      );
    }
    // Everything committed around the open transaction is already delivered...
    await waitForCount(subscriber.changes, expected.length);
    expect(subscriber.changes.map(receivedKey)).not.toContain(changeKey(longChange));

    const updated = await long.update(longChange.id, { status: 'processing' });
    await long.commit();
    expected.push(longChange, {
      op: 'UPDATE',
      id: longChange.id,
      version: updated?.version as number,
      tx: 'long',
    });
    // ...and the long one arrives once it commits, however long it took.
    await waitForCount(subscriber.changes, expected.length);
  } finally {
    await long.end();
  }
  await subscriber.stop();
  expectExactDelivery(subscriber.changes, expected);
  const last = subscriber.changes.slice(-2);
  expect(last.map((c) => c.order.customerName)).toEqual(['long', 'long']);
});

test('every subscriber gets the same changes in the same order', async () => {
  const a = collect(await shared.feed.subscribe());
  const b = collect(await shared.feed.subscribe({ filter: { operations: ['INSERT', 'UPDATE', 'DELETE'] } }));
  const seed = await seedOrders(shared.database, 3);
  const committed = await runWorkload(shared.database.url, {
    writers: 4,
    transactionsPerWriter: 10,
    sharedIds: seed.ids,
  });
  const total = seed.changes.length + committed.length;
  await waitForCount(a.changes, total);
  await waitFor(() => b.changes.length >= total);
  await Promise.all([a.stop(), b.stop()]);
  expect(b.changes.map((c) => c.cursor)).toEqual(a.changes.map((c) => c.cursor));
});
