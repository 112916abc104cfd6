import { afterAll, expect, test } from 'vitest';
import { startTestService } from '../helpers/service.ts';
import { waitFor } from '../helpers/wait.ts';
import { endServiceSessions, writerUrlOf } from './backend-faults.ts';
import { metricsOf, watchProcess, watchReady } from './harness.ts';
import { prepareMixedLoad } from './mixed-load.ts';
import { committedDuring, expectSubscribersExact, startLoad, subscribersFrom } from './scenario.ts';

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => {});
});

test('every session of the service ended (pg_terminate_backend, KILL CONNECTION) 5 times, 1 s apart: the process lives, /ready dips, nothing lost or doubled', async () => {
  const guard = watchProcess();
  cleanups.push(() => guard.dispose());
  const service = await startTestService();
  cleanups.push(() => service.stop());
  const seed = await prepareMixedLoad(service.database);
  const { subscribers } = await subscribersFrom(cleanups, service);

  const ready = watchReady(service.url, 25);
  const load = startLoad({
    writerUrl: writerUrlOf(service.database),
    sharedIds: seed.ids,
    longMs: 2_500,
    throughService: { url: service.url },
  });
  let terminated = 0;
  for (let round = 0; round < 5; round++) {
    await new Promise((r) => setTimeout(r, 1_000));
    terminated += await endServiceSessions(service.database);
  }
  const ran = await load.stop();
  const { writes } = ran;
  await waitFor(async () => (await fetch(`${service.url}/ready`)).status === 200, {
    timeoutMs: 15_000,
    message: '/ready to answer 200 again',
  });
  const statuses = await ready.stop();

  expect(terminated, 'backends terminated').toBeGreaterThanOrEqual(10);
  const metrics = await metricsOf(service.url);
  expect(metrics.get('realtime_orders_feed_connection_losses_total')).toBeGreaterThanOrEqual(5);
  expect(metrics.get('realtime_orders_database_connection_errors_total')).toBeGreaterThan(0);
  expect(metrics.get('realtime_orders_database_reachable'), 'a killed session is not an outage').toBe(1);
  expect(statuses, '/ready reported the fault').toContain(503);
  expect(
    writes.committed.length,
    `mutations through the service succeeded (${writes.failed.length} failed)`,
  ).toBeGreaterThan(10);
  for (const failure of writes.failed) expect(failure.code, failure.message).toBe('SERVICE_UNAVAILABLE');

  const expected = await committedDuring(service.database, ran);
  await expectSubscribersExact(subscribers, expected);
  expect(guard.crashes).toEqual([]);
}, 120_000);
