import { afterAll, beforeAll, expect, test } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { collect, createFeed, startFeed, waitForCount } from './harness.ts';

// The service listens before its change feed has started (so that /ready can answer), and a client
// that resumes after a restart may subscribe in that moment: with a cursor it is served as soon as
// the feed is up; without one it is told to retry (SERVICE_UNAVAILABLE), never an unexpected error.
// On PostgreSQL and on MySQL/MariaDB (vitest project `mysql`).

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

test('a subscription accepted while the feed is starting: with `after` it waits, without it SERVICE_UNAVAILABLE', async () => {
  const running = await startFeed(database);
  const live = collect(await running.subscribe());
  await database.sql(`INSERT INTO orders (customer_name, product_name) VALUES ('before', 'restart')`);
  await waitForCount(live.changes, 1);
  await live.stop();
  await running.stop();
  const cursor = live.changes[0]?.cursor as string;

  const starting = createFeed(database);
  try {
    await expect(starting.subscribe()).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    const resumed = collect(await starting.subscribe({ after: cursor }));
    await database.sql(`INSERT INTO orders (customer_name, product_name) VALUES ('after', 'restart')`);
    await starting.start();
    await waitForCount(resumed.changes, 1);
    expect(resumed.failure).toBeUndefined();
    expect(resumed.changes.map((c) => c.order.customerName)).toEqual(['after']);
    await resumed.stop();
  } finally {
    await starting.stop();
  }
});
