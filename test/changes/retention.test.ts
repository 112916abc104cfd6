import { afterAll, beforeAll, expect, test } from 'vitest';
import { pruneChangeLog } from '../../src/changes/retention.ts';
import { startTestService, type TestService } from '../helpers/service.ts';
import { collect, waitForCount } from './harness.ts';

let service: TestService;
beforeAll(async () => {
  service = await startTestService();
});
afterAll(async () => {
  await service?.stop();
});

test('history older than the retention is pruned; its cursors give CURSOR_EXPIRED, newer ones still resume', async () => {
  const live = collect(await service.feed.subscribe());
  await service.database.sql(
    `INSERT INTO orders (customer_name, product_name) VALUES ('old', 'a'), ('old', 'b')`,
  );
  await waitForCount(live.changes, 2);
  const oldCursor = live.changes[0]?.cursor as string;
  // Age what exists by a day, then prune with a one-hour retention.
  await service.database.sql(`UPDATE change_ticks SET created_at = created_at - interval '1 day'`);
  await service.database.sql(`INSERT INTO orders (customer_name, product_name) VALUES ('new', 'c')`);
  await waitForCount(live.changes, 3);
  const newCursor = live.changes[2]?.cursor as string;

  const removed = await pruneChangeLog(service.database.db, 3600e3);
  expect(removed).toBe(2);

  const expired = await service.graphql('query ($after: String) { orderChanges(after: $after) { cursor } }', {
    after: oldCursor,
  });
  expect(expired.errors?.[0]?.extensions?.code).toBe('CURSOR_EXPIRED');
  await expect(service.feed.subscribe({ after: oldCursor })).rejects.toMatchObject({
    code: 'CURSOR_EXPIRED',
  });

  await service.database.sql(`INSERT INTO orders (customer_name, product_name) VALUES ('newer', 'd')`);
  await waitForCount(live.changes, 4);
  await live.stop();

  const names = (result: { data?: { orderChanges: { order: { customerName: string } }[] } }) =>
    result.data?.orderChanges.map((c) => c.order.customerName);
  const query = 'query ($after: String) { orderChanges(after: $after) { order { customerName } } }';
  expect(names(await service.graphql(query, { after: newCursor }))).toEqual(['newer']);
  expect(names(await service.graphql(query))).toEqual(['new', 'newer']);
});
