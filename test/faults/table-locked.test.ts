import { afterAll, expect, test } from 'vitest';
import { onMysql } from '../helpers/backend-under-test.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { holdChangeLogLocked, writerUrlOf } from './backend-faults.ts';
import { underLoad } from './under-load.ts';

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => {});
});

test(`${onMysql ? 'LOCK TABLES order_changes WRITE' : 'LOCK TABLE order_changes IN ACCESS EXCLUSIVE MODE'} held 10 s by someone else: writers wait, nothing is lost`, async () => {
  const database = await createTestDatabase();
  cleanups.push(() => database.drop());
  let heldMs = 0;
  const { writes } = await underLoad(cleanups, {
    database,
    writerUrl: writerUrlOf(database),
    during: async () => {
      heldMs = await holdChangeLogLocked(database, 10_000);
    },
  });
  expect(heldMs).toBeGreaterThanOrEqual(10_000);
  // Writes through the service waited for the lock instead of failing.
  expect(writes.failed).toEqual([]);
}, 120_000);
