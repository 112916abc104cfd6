import { afterAll, test } from 'vitest';
import { startOwnCluster } from './cluster.ts';
import { runOutageScenario } from './outage.ts';

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => {});
});

test('PostgreSQL stopped in immediate mode for 30 s, then started: requests fail at once, subscribers stay and miss nothing', async () => {
  const cluster = await startOwnCluster(cleanups);
  await runOutageScenario(cleanups, cluster.database, {
    begin: () => cluster.stopImmediate(),
    end: () => cluster.start(),
    durationMs: 30_000,
    settleMs: 500,
  });
}, 120_000);
