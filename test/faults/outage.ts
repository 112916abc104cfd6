import { expect } from 'vitest';
import type { TestDatabase } from '../helpers/database.ts';
import { startTestService } from '../helpers/service.ts';
import { waitFor } from '../helpers/wait.ts';
import { writerUrlOf } from './backend-faults.ts';
import { metricsOf, ordersNamed, watchProcess, watchReady } from './harness.ts';
import { prepareMixedLoad } from './mixed-load.ts';
import { committedDuring, expectSubscribersExact, startLoad, subscribersFrom } from './scenario.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Outage {
  /** Takes the database away (resolves once it is away). */
  begin(): Promise<void>;
  /** Brings it back. */
  end(): Promise<void>;
  durationMs: number;
  /** Requests made this long into the outage or later must fail at once. */
  settleMs: number;
  /**
   * A silent network: requests already waiting when it dropped fail only once it is noticed (a
   * few seconds), and a write whose answer was lost may have committed.
   */
  requestsMayHang?: boolean;
}

/** How quickly "at once" must be, with room for a machine 2-3x slower under load. */
const AT_ONCE_MS = 1_500;

async function post(url: string, body: unknown) {
  const started = Date.now();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as any, ms: Date.now() - started };
}

/**
 * The service on `databaseUrl`, two WebSocket subscribers and a mixed write load; the database
 * goes away for `outage.durationMs` and comes back. Checks: the process lives, subscribers stay
 * connected and receive exactly what was committed, /ready is 503 during and 200 after, and
 * requests during the outage fail at once with SERVICE_UNAVAILABLE, writing nothing.
 */
export async function runOutageScenario(
  cleanups: (() => unknown)[],
  database: TestDatabase,
  outage: Outage,
  /** Where the service connects (a proxy, say); the writers and checks use `database.url`. */
  serviceDatabaseUrl = database.url,
) {
  const t0 = Date.now();
  const phase = (name: string) => process.env.TEST_TIMINGS && console.info(`${Date.now() - t0} ms: ${name}`);
  const guard = watchProcess();
  cleanups.push(() => guard.dispose());
  const service = await startTestService({ database: { ...database, url: serviceDatabaseUrl } });
  cleanups.push(() => service.stop());
  const seed = await prepareMixedLoad(database);
  const { subscribers } = await subscribersFrom(cleanups, service);
  const load = startLoad({
    writerUrl: writerUrlOf(database),
    sharedIds: seed.ids,
    longMs: 2_000,
    bulkAfterMs: 300,
    throughService: { url: service.url, pauseMs: 100 },
  });
  await sleep(1_500);

  phase('load running');
  await outage.begin();
  phase('outage begun');
  const beganAt = Date.now();
  const ready = watchReady(service.url, 200);
  await sleep(outage.settleMs);
  // Requests while the database is away: each fails at once, clearly, and writes nothing.
  const probes: Awaited<ReturnType<typeof post>>[] = [];
  const names: string[] = [];
  for (let i = 0; i < 3; i++) {
    const name = `during outage ${Date.now()} ${i}`;
    names.push(name);
    probes.push(
      await post(`${service.url}/graphql`, {
        query:
          'mutation ($name: String!) { createOrder(input: { customerName: $name, productName: "x" }) { id } }',
        variables: { name },
      }),
      await post(`${service.url}/graphql`, { query: '{ orders(first: 10) { nodes { id } changeCursor } }' }),
      await post(`${service.url}/api/orders`, { customer_name: name, product_name: 'rest' }),
    );
    await sleep(1_000);
  }
  const metricsDuring = await metricsOf(service.url);
  await sleep(Math.max(0, outage.durationMs - (Date.now() - beganAt)));
  const duringOutage = [...ready.seen];
  await outage.end();
  phase('outage ended');
  await waitFor(async () => (await fetch(`${service.url}/ready`)).status === 200, {
    timeoutMs: 30_000,
    message: '/ready to answer 200 again',
  });
  await ready.stop();
  phase('ready again');
  await sleep(1_000); // some writes after the outage too
  const ran = await load.stop();
  const { writes } = ran;
  phase(
    `load finished: ${writes.committed.length} service writes; subscribers have ${subscribers.map((s) => s.changes.length)}`,
  );
  const progress = setInterval(
    () =>
      phase(
        `subscribers have ${subscribers.map((s) => s.changes.length)}, last committed ${subscribers.map((s) => s.changes.at(-1)?.committedAt)}, status ${JSON.stringify(service.feed.status())}`,
      ),
    2_000,
  );
  cleanups.push(() => clearInterval(progress));

  for (const probe of probes) {
    const code = probe.body.error ?? probe.body.errors?.[0]?.extensions?.code;
    expect(code, JSON.stringify(probe.body)).toBe('SERVICE_UNAVAILABLE');
    expect(JSON.stringify(probe.body)).not.toMatch(/ECONN|terminat|postgres|127\.0\.0\.1|\bat \w+ \(/i);
    expect(probe.ms, 'failed at once').toBeLessThan(AT_ONCE_MS);
  }
  expect(probes.every((p) => p.status === 503)).toBe(true);
  const leftovers = await ordersNamed(database, names);
  expect(leftovers, 'requests refused during the outage wrote nothing').toEqual([]);
  expect(
    duringOutage.filter((s) => s === 200),
    '/ready during the outage',
  ).toEqual([]);
  expect(duringOutage.length).toBeGreaterThan(3);
  expect(metricsDuring.get('realtime_orders_feed_listening')).toBe(0);
  expect(metricsDuring.get('realtime_orders_database_reachable')).toBe(0);
  // Reachable again; not necessarily at the first look: a pooled session that the outage broke
  // may be found broken only now, and on a loaded machine the probe it starts can time out once
  // (the gate then closes until the next probe answers, a second later).
  const metricsAfter = await waitFor(
    async () => {
      const metrics = await metricsOf(service.url);
      return metrics.get('realtime_orders_database_reachable') === 1 && metrics;
    },
    { timeoutMs: 15_000, message: 'realtime_orders_database_reachable to be 1 again' },
  );
  expect(metricsAfter.get('realtime_orders_database_connection_errors_total')).toBeGreaterThan(0);
  expect(metricsAfter.get('realtime_orders_feed_connection_losses_total')).toBeGreaterThanOrEqual(1);
  // Every write through the service that failed, failed clearly, and soon.
  const bound = outage.requestsMayHang ? 10_000 : AT_ONCE_MS;
  for (const failure of writes.failed) {
    expect(failure.code).toBe('SERVICE_UNAVAILABLE');
    expect(failure.ms, 'a failed write took').toBeLessThan(bound);
  }

  const expected = await committedDuring(database, ran);
  phase(`expecting ${expected.length}`);
  await expectSubscribersExact(subscribers, expected, { explainIn: database });
  phase('delivered');
  expect(guard.crashes).toEqual([]);
  return { expected: expected.length, failedWrites: writes.failed };
}
