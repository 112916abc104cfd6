import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { collect, expectExactDelivery, runWorkload, seedOrders, waitForCount } from '../changes/harness.ts';
import { createMysqlTestDatabase, mysqlServerUrl } from '../helpers/mysql-database.ts';
import {
  canRunPrivateMariadb,
  type PrivateMariadb,
  startPrivateMariadb,
} from '../helpers/private-mariadb.ts';
import { startTestService, type TestService } from '../helpers/service.ts';
import { waitFor } from '../helpers/wait.ts';

// A server of the test's own: the machine's MariaDB is never stopped.
describe.skipIf(!mysqlServerUrl || !(await canRunPrivateMariadb()))('MariaDB restarted mid-stream', () => {
  let server: PrivateMariadb;
  let service: TestService;
  beforeAll(async () => {
    server = await startPrivateMariadb();
    service = await startTestService({
      database: await createMysqlTestDatabase(server.url),
      feed: { checkIntervalMs: 200 },
    });
  });
  afterAll(async () => {
    await service?.stop();
    await server?.remove();
  });

  test('stopped and started while changes stream: /ready says so meanwhile, and nothing is lost or repeated', async () => {
    const subscriber = collect(await service.feed.subscribe());
    const seed = await seedOrders(service.database, 4);
    const before = await runWorkload(service.database.url, {
      writers: 4,
      transactionsPerWriter: 20,
      sharedIds: seed.ids,
    });
    await server.stop();
    await waitFor(async () => (await fetch(`${service.url}/ready`)).status === 503, {
      timeoutMs: 20_000,
      message: '/ready 503 while the server is down',
    });
    await server.start();
    await waitFor(async () => (await fetch(`${service.url}/ready`)).status === 200, {
      timeoutMs: 30_000,
      message: '/ready 200 once the server is back',
    });
    const after = await runWorkload(service.database.url, {
      writers: 4,
      transactionsPerWriter: 20,
      sharedIds: seed.ids,
    });
    const expected = [...seed.changes, ...before, ...after];
    await waitForCount(subscriber.changes, expected.length, 60_000);
    await subscriber.stop();
    expectExactDelivery(subscriber.changes, expected);
    expect(service.feed.status().connectionLosses).toBeGreaterThan(0);
  });
});
