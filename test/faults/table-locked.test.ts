import pg from 'pg';
import { afterAll, expect, test } from 'vitest';
import { createTestDatabase } from '../helpers/database.ts';
import { underLoad } from './under-load.ts';

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => {});
});

test('LOCK TABLE order_changes IN ACCESS EXCLUSIVE MODE held 10 s by someone else: writers wait, nothing is lost', async () => {
  const database = await createTestDatabase();
  cleanups.push(() => database.drop());
  let heldMs = 0;
  const { writes } = await underLoad(cleanups, {
    database,
    during: async () => {
      const dba = new pg.Client({ connectionString: database.url });
      await dba.connect();
      try {
        await dba.query('BEGIN');
        await dba.query('LOCK TABLE order_changes IN ACCESS EXCLUSIVE MODE');
        const lockedAt = Date.now();
        await new Promise((r) => setTimeout(r, 10_000));
        await dba.query('COMMIT');
        heldMs = Date.now() - lockedAt;
      } finally {
        await dba.end();
      }
    },
  });
  expect(heldMs).toBeGreaterThanOrEqual(10_000);
  // Writes through the service waited for the lock instead of failing.
  expect(writes.failed).toEqual([]);
}, 90_000);
