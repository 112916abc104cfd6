import { afterAll, test } from 'vitest';
import { onMysql } from '../helpers/backend-under-test.ts';
import { canRunPrivateMariadb } from '../helpers/private-mariadb.ts';
import { runOutageScenario } from './outage.ts';
import { type OwnServer, startOwnServer } from './own-server.ts';

const stops = {
  fast: {
    what: onMysql ? 'MariaDB stopped normally' : 'PostgreSQL stopped in fast mode',
    stop: (server: OwnServer) => server.stopFast(),
  },
  immediate: {
    what: onMysql ? 'MariaDB stopped with SIGKILL' : 'PostgreSQL stopped in immediate mode',
    stop: (server: OwnServer) => server.stopImmediate(),
  },
};

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => {});
});

// MySQL: on a MariaDB of the test's own, which this machine must be able to run.
const canRun = !onMysql || (await canRunPrivateMariadb());

// Each stop on a server of its own, both at once: a test spends most of its 40 s waiting out the
// outage, so side by side in one file they hold one test worker instead of two.
for (const { what, stop } of Object.values(stops)) {
  (canRun ? test.concurrent : test.skip)(
    `${what} for 30 s, then started: requests fail at once, subscribers stay and miss nothing`,
    async () => {
      const server = await startOwnServer(cleanups);
      await runOutageScenario(cleanups, server.database, {
        begin: () => stop(server),
        end: () => server.start(),
        durationMs: 30_000,
        settleMs: 500,
      });
    },
    120_000,
  );
}
