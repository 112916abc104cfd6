import { afterAll, expect, test } from 'vitest';
import { createTestDatabase } from '../helpers/database.ts';
import { startTestService } from '../helpers/service.ts';
import { lockRow, writerUrlOf } from './backend-faults.ts';

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => {});
});

/** The service's pool size (createPool's and createMysqlDb's default). */
const POOL_SIZE = 10;
const HELD_MS = 3_500;

test('every pooled connection busy for 3.5 s (updates waiting for a row lock): other requests wait their turn and succeed', async () => {
  const database = await createTestDatabase();
  cleanups.push(() => database.drop());
  const service = await startTestService({ database });
  cleanups.push(() => service.stop());
  const created = await service.graphql(
    'mutation { createOrder(input: { customerName: "contended", productName: "row" }) { id } }',
  );
  const id = created.data.createOrder.id as string;
  const release = await lockRow(writerUrlOf(database), id);
  let released = false;
  cleanups.push(() => (released ? undefined : release()));

  // More updates of the locked row than the pool has connections: each holds one while it waits.
  const updates = Array.from({ length: POOL_SIZE + 2 }, (_, i) =>
    service.graphql(
      'mutation ($id: ID!, $q: Int!) { updateOrder(id: $id, input: { quantity: $q }) { id } }',
      {
        id,
        q: i + 3,
      },
    ),
  );
  await new Promise((r) => setTimeout(r, 500));
  const started = Date.now();
  const others = Promise.all([
    service.graphql(
      'mutation { createOrder(input: { customerName: "queued", productName: "behind" }) { id } }',
    ),
    service.graphql('{ orders(first: 5) { nodes { id } } }'),
  ]);
  await new Promise((r) => setTimeout(r, HELD_MS - 500));
  await release();
  released = true;

  const [create, list] = await others;
  const waitedMs = Date.now() - started;
  expect(create.errors, 'createOrder behind a busy pool').toBeUndefined();
  expect(create.data.createOrder.id).toBeTruthy();
  expect(list.errors, 'a query behind a busy pool').toBeUndefined();
  // It could only have been answered after the lock went: it waited for a connection.
  expect(waitedMs, 'the requests waited for a connection').toBeGreaterThanOrEqual(HELD_MS - 600);
  for (const update of await Promise.all(updates)) expect(update.errors).toBeUndefined();
  const ready = await fetch(`${service.url}/ready`);
  expect(ready.status, 'a busy database is not an unreachable one').toBe(200);
}, 60_000);
