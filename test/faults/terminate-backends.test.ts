import { afterAll, expect, test } from 'vitest';
import { expectExactDelivery, waitForCount } from '../changes/harness.ts';
import { startTestService } from '../helpers/service.ts';
import { waitFor } from '../helpers/wait.ts';
import { endServiceSessions, writerUrlOf } from './backend-faults.ts';
import {
  changeCursorOf,
  committedDespiteFailure,
  metricsOf,
  subscribeOverWebSocket,
  watchProcess,
  watchReady,
  writeThroughService,
} from './harness.ts';
import { prepareMixedLoad, runMixedLoad } from './mixed-load.ts';

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
  const after = await changeCursorOf(service.url);
  const subscribers = [
    subscribeOverWebSocket(service.wsUrl, { after }),
    subscribeOverWebSocket(service.wsUrl, { after }),
  ];
  cleanups.push(() => {
    for (const s of subscribers) s.stop();
  });
  await waitFor(() => subscribers.every((s) => s.connections > 0), { message: 'subscribers' });

  const ready = watchReady(service.url, 25);
  let faults!: () => void;
  const faulting = new Promise<void>((resolve) => {
    faults = resolve;
  });
  const load = runMixedLoad(writerUrlOf(service.database), seed.ids, { until: faulting, longMs: 2_500 });
  const serviceWrites = writeThroughService(service.url, faulting);
  let terminated = 0;
  for (let round = 0; round < 5; round++) {
    await new Promise((r) => setTimeout(r, 1_000));
    terminated += await endServiceSessions(service.database);
  }
  faults();
  const [committed, writes] = await Promise.all([load, serviceWrites]);
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

  const expected = [
    ...committed,
    ...writes.committed,
    ...(await committedDespiteFailure(service.database, writes)),
  ];
  for (const subscriber of subscribers) {
    // Short of the count (a 20,000-row statement takes a while on a loaded machine), the exact
    // comparison below says what is missing.
    await waitForCount(subscriber.changes, expected.length, 60_000).catch(() => {});
    expect(subscriber.errors).toEqual([]);
    expect(subscriber.closes, 'subscriber sockets closed').toBe(0);
    expectExactDelivery(subscriber.changes, expected);
  }
  expect(guard.crashes).toEqual([]);
}, 120_000);
