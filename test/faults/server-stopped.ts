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

/**
 * The test of server-stopped-fast and -immediate (a file each, so that they run side by side):
 * the test's own server stopped that way for 30 s, then started, under runOutageScenario.
 */
export async function testServerStopped(mode: keyof typeof stops) {
  const cleanups: (() => unknown)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => {});
  });
  const { what, stop } = stops[mode];
  // MySQL: on a MariaDB of the test's own, which this machine must be able to run.
  test.skipIf(onMysql && !(await canRunPrivateMariadb()))(
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
