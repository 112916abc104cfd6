import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { OrderChange } from '../../src/changes/change.ts';
import type { ChangeSource } from '../../src/changes/source.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { createDbAt } from './backend-sql.ts';
import { collect, startFeed, waitForCount } from './harness.ts';
import { openWriter } from './order-writer.ts';

// A subscription without `after` starts at the snapshot subscribe() takes: every transaction that
// commits after that moment is delivered, none that committed before. The feed's head trails
// commits by a tick, so starting at the head would deliver some commits from just before.
// On PostgreSQL and on MySQL/MariaDB (vitest project `mysql`).

let database: TestDatabase;
let feed: ChangeSource;
beforeAll(async () => {
  database = await createTestDatabase();
  // Polling slowly makes the head trail further behind commits than it does in production.
  feed = await startFeed(database, { pollIntervalMs: 1_000 });
});
afterAll(async () => {
  await feed?.stop();
  await database?.drop();
});

interface Commit {
  id: string;
  /** performance.now() just before COMMIT was sent, and once it returned. */
  sent: number;
  done: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Writers committing one-row transactions, some held open a while, until `stop()`. */
function startWriters(count: number) {
  const commits: Commit[] = [];
  let running = true;
  const done = Promise.all(
    Array.from({ length: count }, async (_, w) => {
      const writer = await openWriter(database.url);
      try {
        for (let t = 0; running; t++) {
          await writer.begin();
          const { id } = await writer.insert({ customer: `w${w}t${t}`, product: 'start' });
          // Some transactions stay open across a subscribe(): taken before, committed after.
          if (t % 4 === w % 4) await sleep(15);
          const sent = performance.now();
          await writer.commit();
          commits.push({ id, sent, done: performance.now() });
        }
      } finally {
        await writer.end();
      }
    }),
  );
  return {
    commits,
    async stop() {
      running = false;
      await done;
    },
  };
}

test('with concurrent writers, a subscription gets every commit after subscribe() resolved and none from before it was called', async () => {
  const writers = startWriters(6);
  const subscriptions: { calledAt: number; resolvedAt: number; sub: ReturnType<typeof collect> }[] = [];
  await sleep(100);
  for (let i = 0; i < 25; i++) {
    const calledAt = performance.now();
    const iterator = await feed.subscribe();
    subscriptions.push({ calledAt, resolvedAt: performance.now(), sub: collect(iterator) });
    await sleep(20 + (i % 5) * 7);
  }
  await sleep(200);
  await writers.stop();
  const { commits } = writers;

  let checkedBefore = 0;
  let checkedAfter = 0;
  for (const { calledAt, resolvedAt, sub } of subscriptions) {
    const after = commits.filter((c) => c.sent > resolvedAt);
    await waitForCount(sub.changes, after.length, 30_000);
    await sub.stop();
    const received = sub.changes.map((c: OrderChange) => c.order.id);
    expect(new Set(received).size, 'duplicates').toBe(received.length);
    const before = new Set(commits.filter((c) => c.done < calledAt).map((c) => c.id));
    expect(
      received.filter((id) => before.has(id)),
      'committed before subscribe() was called',
    ).toEqual([]);
    const got = new Set(received);
    expect(
      after.filter((c) => !got.has(c.id)).map((c) => c.id),
      'committed after subscribe() resolved',
    ).toEqual([]);
    // In flight meanwhile: either, but nothing that nobody committed.
    const all = new Set(commits.map((c) => c.id));
    expect(received.filter((id) => !all.has(id))).toEqual([]);
    checkedBefore += before.size;
    checkedAfter += after.length;
  }
  expect(checkedBefore).toBeGreaterThan(0);
  expect(checkedAfter).toBeGreaterThan(0);
}, 120_000);

test('a commit that returned just before subscribe() is never delivered, even when no tick holds it yet', async () => {
  const writer = await openWriter(database.url);
  try {
    for (let round = 0; round < 30; round++) {
      // Autocommit: each insert has committed when it returns.
      const first = await writer.insert({ customer: 'before', product: 'x' });
      const sub = collect(await feed.subscribe());
      const second = await writer.insert({ customer: 'after', product: 'x' });
      await waitForCount(sub.changes, 1, 10_000);
      await sub.stop();
      expect(sub.changes.map((c) => c.order.id)).toEqual([second.id]);
      expect(first.id).not.toBe(second.id);
    }
  } finally {
    await writer.end();
  }
}, 120_000);

const destroy = (sockets: net.Socket[]) => {
  for (const socket of sockets) socket.destroy();
};

/** A TCP proxy to the database that can stop forwarding silently, or refuse outright. */
async function proxyTo(target: string) {
  const upstreamUrl = new URL(target);
  const pairs = new Set<[net.Socket, net.Socket]>();
  let silent = false;
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(upstreamUrl.port), upstreamUrl.hostname);
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    client.on('data', (chunk) => silent || upstream.write(chunk));
    upstream.on('data', (chunk) => silent || client.write(chunk));
    for (const socket of pair) {
      socket.on('error', () => destroy(pair));
      socket.on('close', () => destroy(pair));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(target);
  url.port = String((server.address() as net.AddressInfo).port);
  return {
    url: url.toString(),
    /** Stops forwarding without closing anything, like a network that drops packets. */
    goSilent: () => {
      silent = true;
    },
    refuse: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const pair of pairs) destroy(pair);
      }),
  };
}

for (const fault of ['refused', 'silent'] as const) {
  test(`a subscribe() while the database is ${fault === 'refused' ? 'down' : 'silently unreachable'} answers SERVICE_UNAVAILABLE within seconds`, async () => {
    const own = await createTestDatabase();
    const proxy = await proxyTo(own.url);
    // Only the pool goes through the proxy: subscribe() starts with a query on it. (The feed's own
    // connection is another matter, tested in faults.test.ts.)
    const db = createDbAt(own, proxy.url, 3);
    const ownFeed = await startFeed({ ...own, db });
    try {
      // Up: subscribing works.
      await (await ownFeed.subscribe()).return?.();
      if (fault === 'refused') await proxy.refuse();
      else proxy.goSilent();
      const began = Date.now();
      await expect(ownFeed.subscribe()).rejects.toMatchObject({
        name: 'DomainError',
        code: 'SERVICE_UNAVAILABLE',
      });
      // The pool's connect timeout and subscribe()'s own deadline are both 5 s.
      expect(Date.now() - began).toBeLessThan(15_000);
    } finally {
      await ownFeed.stop();
      if (fault === 'silent') await proxy.refuse();
      await db.destroy().catch(() => {});
      await own.drop();
    }
  }, 60_000);
}
