import { afterAll, expect, test } from 'vitest';
import { freePort } from '../../src/db/embedded.ts';
import { onMysql } from '../helpers/backend-under-test.ts';
import { canRunPrivateMariadb } from '../helpers/private-mariadb.ts';
import { startTestService, type TestService } from '../helpers/service.ts';
import { waitFor } from '../helpers/wait.ts';
import { hogConnections } from './backend-faults.ts';
import { startOwnServer } from './own-server.ts';
import { underLoad } from './under-load.ts';

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => {});
});

// MySQL: on a MariaDB of the test's own, which this machine must be able to run.
test.skipIf(onMysql && !(await canRunPrivateMariadb()))(
  'max_connections exhausted by another client at start-up and mid-run: the service waits, then works; nothing lost',
  async () => {
    const { database } = await startOwnServer(cleanups, {
      postgres: { max_connections: 30, superuser_reserved_connections: 0 },
      mariadb: ['--max-connections=30'],
    });

    // At start-up: /ready says why, and the service starts once connections are free again.
    let hog = await hogConnections(database.url);
    cleanups.push(() => hog.release());
    expect(hog.refusedWith).toBe(hog.expectedCode);
    expect(hog.count).toBeGreaterThan(5);
    const port = await freePort();
    let service: TestService | undefined;
    const starting = startTestService({ database, port }).then((s) => {
      service = s;
      cleanups.push(() => s.stop());
      return s;
    });
    const waiting = await waitFor(async () => {
      const response = await fetch(`http://127.0.0.1:${port}/ready`).catch(() => undefined);
      return response?.status === 503 && ((await response.json()) as { reason: string });
    });
    expect(waiting.reason).toMatch(/database/);
    await new Promise((r) => setTimeout(r, 2_000));
    expect(service, 'started without a connection').toBeUndefined();
    await hog.release();
    await starting;

    // Mid-run: connections the service holds keep working; what needs a new one fails at once.
    const refused: { code: string | undefined; ms: number }[] = [];
    await underLoad(cleanups, {
      database,
      service: await starting,
      during: async (running) => {
        hog = await hogConnections(database.url);
        expect(hog.refusedWith).toBe(hog.expectedCode);
        for (let i = 0; i < 10; i++) {
          const started = Date.now();
          const result = await running.graphql('{ orders(first: 5) { nodes { id } changeCursor } }');
          if (result.errors)
            refused.push({ code: result.errors[0]?.extensions?.code, ms: Date.now() - started });
          await new Promise((r) => setTimeout(r, 500));
        }
        await hog.release();
      },
    });
    for (const failure of refused) {
      expect(failure.code).toBe('SERVICE_UNAVAILABLE');
      expect(failure.ms).toBeLessThan(1_500);
    }
  },
  120_000,
);
