import { afterAll, test } from 'vitest';
import { createTestDatabase } from '../helpers/database.ts';
import { startSilentProxy } from '../helpers/silent-proxy.ts';
import { runOutageScenario } from './outage.ts';

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => {});
});

test('the network to PostgreSQL silently dropped for 20 s, then restored: requests fail within seconds, then at once; nothing lost', async () => {
  const database = await createTestDatabase();
  cleanups.push(() => database.drop());
  // Only the service is behind the proxy; the writers reach the database directly and go on
  // committing while the service cannot see it.
  const proxy = await startSilentProxy(new URL(database.url));
  cleanups.push(() => proxy.close());
  await runOutageScenario(
    cleanups,
    database,
    {
      begin: async () => proxy.silence(),
      end: async () => proxy.restore(),
      durationMs: 20_000,
      // A silent network is noticed by the gate's probe (a stalled request, then 2 s without an
      // answer), at most about 5 s in; from then on requests fail at once.
      settleMs: 8_000,
      requestsMayHang: true,
    },
    proxy.url,
  );
}, 90_000);
