import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../../src/db/embedded.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { processAlive } from '../helpers/process-alive.ts';
import { clusterTempDir } from '../helpers/temp-dir.ts';
import { waitFor } from '../helpers/wait.ts';

/**
 * A PostgreSQL cluster of this test's own (whatever TEST_DATABASE_URL says), for faults that
 * would hurt every other test on a shared server: stopping it, filling its connections.
 */
export async function startOwnCluster(
  cleanups: (() => unknown)[],
  settings: Record<string, string | number> = {},
) {
  const dir = clusterTempDir('realtime-orders-faults-');
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  let server: EmbeddedPostgres = await startEmbeddedPostgres({ dir, settings });
  cleanups.push(() => server.stop());
  const database: TestDatabase = await createTestDatabase(server.serverUrl);
  const postmasterPid = () =>
    Number(readFileSync(path.join(server.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  return {
    database,
    get serverUrl() {
      return server.serverUrl;
    },
    /** Fast shutdown (SIGINT): sessions are ended, a checkpoint is written. */
    async stopFast() {
      await server.stop();
    },
    /**
     * Immediate shutdown (SIGQUIT to the postmaster, as `pg_ctl stop -m immediate` sends): no
     * checkpoint, crash recovery on the next start.
     */
    async stopImmediate() {
      const pid = postmasterPid();
      process.kill(pid, 'SIGQUIT');
      await waitFor(() => !processAlive(pid), { message: 'the postmaster to exit' });
      await server.stop(); // nothing left to stop; forgets the process
    },
    async start() {
      server = await startEmbeddedPostgres({ dir, port: server.port, settings });
    },
  };
}
