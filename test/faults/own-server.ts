import { onMysql } from '../helpers/backend-under-test.ts';
import type { TestDatabase } from '../helpers/database.ts';
import { createMysqlTestDatabase } from '../helpers/mysql-database.ts';
import { startPrivateMariadb } from '../helpers/private-mariadb.ts';
import { startOwnCluster } from './cluster.ts';

export interface OwnServer {
  database: TestDatabase;
  /** PostgreSQL's fast shutdown; MariaDB's normal one (SIGTERM). Sessions are ended either way. */
  stopFast(): Promise<void>;
  /** PostgreSQL's immediate shutdown; MariaDB SIGKILLed. Crash recovery on the next start. */
  stopImmediate(): Promise<void>;
  start(): Promise<void>;
}

/**
 * A database server of the test's own, of the backend under test, for faults that would hurt every
 * other test on a shared server (stopping it, filling its connections): a PostgreSQL cluster
 * (cluster.ts) or a private MariaDB (helpers/private-mariadb.ts), with the same settings given
 * in each one's terms.
 */
export async function startOwnServer(
  cleanups: (() => unknown)[],
  settings: { postgres?: Record<string, string | number>; mariadb?: string[] } = {},
): Promise<OwnServer> {
  if (!onMysql) return startOwnCluster(cleanups, settings.postgres);
  const server = await startPrivateMariadb({ args: settings.mariadb });
  cleanups.push(() => server.remove());
  const database = await createMysqlTestDatabase(server.url);
  cleanups.push(() => database.db.destroy());
  return {
    database,
    stopFast: () => server.stop(),
    stopImmediate: () => server.kill(),
    start: () => server.start(),
  };
}
