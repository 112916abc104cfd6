import { afterAll, test } from 'vitest';
import { onMysql } from '../helpers/backend-under-test.ts';
import { canRunPrivateMariadb } from '../helpers/private-mariadb.ts';
import { runOutageScenario } from './outage.ts';
import { startOwnServer } from './own-server.ts';

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => {});
});

// MySQL: on a MariaDB of the test's own, which this machine must be able to run.
test.skipIf(onMysql && !(await canRunPrivateMariadb()))(
  `${onMysql ? 'MariaDB stopped normally' : 'PostgreSQL stopped in fast mode'} for 30 s, then started: requests fail at once, subscribers stay and miss nothing`,
  async () => {
    const server = await startOwnServer(cleanups);
    await runOutageScenario(cleanups, server.database, {
      begin: () => server.stopFast(),
      end: () => server.start(),
      durationMs: 30_000,
      settleMs: 500,
    });
  },
  120_000,
);
