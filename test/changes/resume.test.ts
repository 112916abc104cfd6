import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, expect, test } from 'vitest';
import WebSocket from 'ws';
import type { OrderChange } from '../../src/changes/change.ts';
import { decodeCursor } from '../../src/changes/position.ts';
import { readWithChangeCursor } from '../../src/changes/snapshot.ts';
import { listOrders } from '../../src/orders/repository.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { startTestService, type TestService } from '../helpers/service.ts';
import { waitFor } from '../helpers/wait.ts';
import { collect, expectExactDelivery, runWorkload, seedOrders, startFeed, waitForCount } from './harness.ts';
import { insertOrders } from './order-writer.ts';

// On PostgreSQL and on MySQL/MariaDB (vitest project `mysql`): the same tests.

let service: TestService;
beforeAll(async () => {
  service = await startTestService({ feed: { pollIntervalMs: 200 } });
});
afterAll(async () => {
  await service?.stop();
});

test('a client that disconnects and resumes with `after` gets exactly what it missed', async () => {
  const first = collect(await service.feed.subscribe());
  const seed = await seedOrders(service.database, 4);
  const part1 = await runWorkload(service.database.url, {
    writers: 3,
    transactionsPerWriter: 10,
    sharedIds: seed.ids,
  });
  await waitForCount(first.changes, seed.changes.length + part1.length);
  // Disconnect part-way: keep only what was received up to some change, as a client would.
  const keep = Math.floor(first.changes.length / 2);
  await first.stop();
  const received = first.changes.slice(0, keep);
  const resumeAfter = (received.at(-1) as OrderChange).cursor;

  const part2 = await runWorkload(service.database.url, {
    writers: 3,
    transactionsPerWriter: 10,
    sharedIds: seed.ids,
  });
  const resumed = collect(await service.feed.subscribe({ after: resumeAfter }));
  const part3 = await runWorkload(service.database.url, {
    writers: 3,
    transactionsPerWriter: 10,
    sharedIds: seed.ids,
  });
  const expected = [...seed.changes, ...part1, ...part2, ...part3];
  await waitForCount(resumed.changes, expected.length - keep);
  await resumed.stop();
  expectExactDelivery([...received, ...resumed.changes], expected);
});

test('orderChanges pages through history with `after`, and agrees with the live feed', async () => {
  const live = collect(await service.feed.subscribe());
  const seed = await seedOrders(service.database, 3);
  const committed = await runWorkload(service.database.url, {
    writers: 2,
    transactionsPerWriter: 10,
    sharedIds: seed.ids,
  });
  await waitForCount(live.changes, seed.changes.length + committed.length);
  await live.stop();
  const start = live.changes[0] as OrderChange;

  const paged: { cursor: string; order: { id: string } }[] = [];
  let after: string | undefined;
  for (;;) {
    const { data, errors } = await service.graphql(
      'query ($after: String) { orderChanges(after: $after, first: 7) { cursor order { id } } }',
      { after },
    );
    expect(errors).toBeUndefined();
    paged.push(...data.orderChanges);
    if (data.orderChanges.length < 7) break;
    after = data.orderChanges.at(-1).cursor;
  }
  const from = paged.findIndex((c) => c.cursor === start.cursor);
  expect(paged.slice(from).map((c) => c.cursor)).toEqual(live.changes.map((c) => c.cursor));
});

test('read-then-subscribe with changeCursor under concurrent writes: exactly what the page did not reflect', async () => {
  const seed = await seedOrders(service.database, 5);
  const client = createClient({ url: service.wsUrl, webSocketImpl: WebSocket });
  try {
    for (let round = 0; round < 3; round++) {
      // Both reads below must see the whole table in one page (500 orders): start each round from
      // the seed alone, or a fast feed's rounds outgrow it and the final read misses orders.
      await service.database.sql(`DELETE FROM orders WHERE id NOT IN (${seed.ids.map(Number).join(', ')})`);
      let writing = true;
      const writers = (async () => {
        while (writing) {
          await runWorkload(service.database.url, {
            writers: 3,
            transactionsPerWriter: 3,
            sharedIds: seed.ids,
            slowRate: 0.3,
            slowMs: 20,
          });
        }
      })();
      await new Promise((r) => setTimeout(r, 100 + round * 150));

      const { data } = await service.graphql(
        '{ orders(first: 500) { changeCursor pageInfo { hasNextPage } nodes { id version } } }',
      );
      expect(data.orders.pageInfo.hasNextPage).toBe(false);
      const state = new Map<string, number>(
        data.orders.nodes.map((o: { id: string; version: number }) => [o.id, o.version]),
      );

      const changes: { operation: string; order: { id: string; version: number } }[] = [];
      const events = client.iterate<any>({
        query:
          'subscription ($after: String) { orderChanged(after: $after) { cursor operation order { id version } } }',
        variables: { after: data.orders.changeCursor },
      });
      const reading = (async () => {
        for await (const event of events) changes.push(event.data.orderChanged);
      })();
      await new Promise((r) => setTimeout(r, 300));
      writing = false;
      await writers;

      const { data: final } = await service.graphql(
        '{ orders(first: 500) { pageInfo { hasNextPage } nodes { id version } } }',
      );
      expect(final.orders.pageInfo.hasNextPage).toBe(false);
      const finalState = new Map<string, number>(
        final.orders.nodes.map((o: { id: string; version: number }) => [o.id, o.version]),
      );
      // Apply the changes to the snapshot: each must be the very next version of its order.
      await waitFor(
        () => {
          const applied = new Map(state);
          for (const change of changes) {
            const { id, version } = change.order;
            if (change.operation === 'INSERT') {
              if (applied.has(id)) throw new Error(`INSERT of ${id} was already in the page`);
              applied.set(id, version);
            } else if (change.operation === 'UPDATE') {
              if (applied.get(id) !== version - 1)
                throw new Error(`UPDATE ${id} v${version} after v${applied.get(id)}`);
              applied.set(id, version);
            } else {
              if (applied.get(id) !== version)
                throw new Error(`DELETE ${id} v${version} after v${applied.get(id)}`);
              applied.delete(id);
            }
          }
          return JSON.stringify([...applied].sort()) === JSON.stringify([...finalState].sort());
        },
        { message: 'the page plus the changes to equal the final table' },
      );
      await events.return?.();
      await reading;
    }
  } finally {
    await client.dispose();
  }
});

test('a changeCursor taken before the ticker saw a commit skips exactly what the snapshot saw', async () => {
  // No feed runs on this database yet, so no tick (on MySQL: no capture) holds what is committed:
  // the snapshot sees transactions that the log has not placed, and the cursor must carry that
  // snapshot.
  const database = await createTestDatabase();
  try {
    const [seen] = await insertOrders(database.url, [{ customer: 'seen', product: 'by the page' }]);
    const { result, changeCursor } = await readWithChangeCursor(database.db, (trx) => listOrders(trx, {}));
    expect(result.orders.map((o) => o.id)).toEqual([seen]);
    expect(decodeCursor(changeCursor).seen, 'the cursor carries its snapshot').toBeDefined();
    const [unseen] = await insertOrders(database.url, [{ customer: 'unseen', product: 'after the page' }]);
    await database.sql(`UPDATE orders SET status = 'shipped' WHERE id = $1`, [seen]);

    const feed = await startFeed(database);
    try {
      const subscriber = collect(await feed.subscribe({ after: changeCursor }));
      await waitForCount(subscriber.changes, 2);
      await subscriber.stop();
      expect(subscriber.changes.map((c) => `${c.operation}:${c.order.customerName}`)).toEqual([
        'INSERT:unseen',
        'UPDATE:seen',
      ]);
      expect(subscriber.changes[0]?.order.id).toBe(unseen);
      // Resuming from a change delivered in that state is exact too: the cursor kept the snapshot.
      const resumed = collect(await feed.subscribe({ after: subscriber.changes[0]?.cursor }));
      await waitForCount(resumed.changes, 1);
      await resumed.stop();
      expect(resumed.changes.map((c) => c.cursor)).toEqual([subscriber.changes[1]?.cursor]);
    } finally {
      await feed.stop();
    }
  } finally {
    await database.drop();
  }
});

test('malformed cursors and cursors from the future are BAD_USER_INPUT', async () => {
  for (const after of ['not-a-cursor', '', '5fffff1111', '121111.zz']) {
    const { errors } = await service.graphql(
      'query ($after: String) { orderChanges(after: $after) { cursor } }',
      {
        after,
      },
    );
    expect(errors?.[0]?.extensions, after).toMatchObject({ code: 'BAD_USER_INPUT' });
  }
});
