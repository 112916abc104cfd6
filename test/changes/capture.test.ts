import { afterAll, beforeAll, expect, test } from 'vitest';
import type { ChangeFeed } from '../../src/changes/feed.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { collect, startFeed, waitForCount } from './harness.ts';

let database: TestDatabase;
let feed: ChangeFeed;
beforeAll(async () => {
  database = await createTestDatabase();
  feed = await startFeed(database);
});
afterAll(async () => {
  await feed?.stop();
  await database?.drop();
});

const describe = (c: { operation: string; order: { customerName: string; version: number } }) =>
  `${c.operation} ${c.order.customerName} v${c.order.version}`;

test('every way of writing is captured: upsert, MERGE, TRUNCATE', async () => {
  const subscriber = collect(await feed.subscribe());
  const [first] = await database.sql<{ id: string }>(
    `INSERT INTO orders (customer_name, product_name) VALUES ('upsert', 'a') RETURNING id`,
  );
  // INSERT ... ON CONFLICT DO UPDATE: one statement, an insert and an update.
  await database.sql(
    `INSERT INTO orders (id, customer_name, product_name) VALUES ($1, 'upsert', 'b'), (1000, 'fresh', 'c')
     ON CONFLICT (id) DO UPDATE SET product_name = EXCLUDED.product_name`,
    [first?.id],
  );
  await database.sql(
    `MERGE INTO orders o USING (VALUES (1000, 'shipped')) AS v(id, status) ON o.id = v.id
     WHEN MATCHED THEN UPDATE SET status = v.status`,
  );
  await database.sql('TRUNCATE orders');
  await waitForCount(subscriber.changes, 6);
  await subscriber.stop();
  const seen = subscriber.changes.map(describe);
  expect(seen.slice(0, 1)).toEqual(['INSERT upsert v1']);
  // The upsert's two changes arrive together, in the order PostgreSQL fired them.
  expect(seen.slice(1, 3).sort()).toEqual(['INSERT fresh v1', 'UPDATE upsert v2']);
  expect(seen[3]).toBe('UPDATE fresh v2');
  expect(seen.slice(4).sort()).toEqual(['DELETE fresh v2', 'DELETE upsert v2']);
});
