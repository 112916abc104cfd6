import net from 'node:net';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { OrderChange } from '../../src/changes/change.ts';
import type { ChangeFeed } from '../../src/changes/feed.ts';
import { createDb, createPool } from '../../src/db/connect.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { collect, startFeed, waitForCount } from './harness.ts';

// A subscription without `after` starts at the snapshot subscribe() takes: every transaction that
// commits after that moment is delivered, none that committed before. The feed's head trails
// commits by a tick, so starting at the head would deliver some commits from just before.

let database: TestDatabase;
let feed: ChangeFeed;
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
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        for (let t = 0; running; t++) {
          await client.query('BEGIN');
          const { rows } = await client.query(
            `INSERT INTO orders (customer_name, product_name) VALUES ($1, 'start') RETURNING id`,
            [`w${w}t${t}`],
          );
          // Some transactions stay open across a subscribe(): taken before, committed after.
          if (t % 4 === w % 4) await sleep(15);
          const sent = performance.now();
          await client.query('COMMIT');
          commits.push({ id: String(rows[0].id), sent, done: performance.now() });
        }
      } finally {
        await client.end();
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
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    for (let round = 0; round < 30; round++) {
      const { rows: first } = await client.query(
        `INSERT INTO orders (customer_name, product_name) VALUES ('before', 'x') RETURNING id`,
      );
      const sub = collect(await feed.subscribe());
      const { rows: second } = await client.query(
        `INSERT INTO orders (customer_name, product_name) VALUES ('after', 'x') RETURNING id`,
      );
      await waitForCount(sub.changes, 1, 10_000);
      await sub.stop();
      expect(sub.changes.map((c) => c.order.id)).toEqual([String(second[0].id)]);
      expect(first[0].id).not.toBe(second[0].id);
    }
  } finally {
    await client.end();
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
    const pool = createPool(proxy.url, 3);
    // A client that loses its session while checked out (the ticker's, between two queries) emits
    // 'error'; the fault-tolerance work gives every pooled client a listener, which this test does
    // not test and so adds itself.
    pool.on('connect', (client) => client.on('error', () => {}));
    const db = createDb(pool);
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
