import { afterAll, expect, test } from 'vitest';
import { freePort } from '../../src/db/embedded.ts';
import { expectExactDelivery, waitForCount } from '../changes/harness.ts';
import { spawnReadyService } from '../helpers/child-service.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { waitFor } from '../helpers/wait.ts';
import { writerUrlOf } from './backend-faults.ts';
import { prepareMixedLoad } from './mixed-load.ts';
import { startLoad, subscribersFrom } from './scenario.ts';

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => {});
});

/** `npm start` as an operator runs it, in a process of its own so that it can really die. */
async function startProcess(databaseUrl: string, port: number) {
  const service = await spawnReadyService({
    DATABASE_URL: databaseUrl,
    PORT: String(port),
    LOG_LEVEL: 'warn',
  });
  cleanups.push(() => service.kill());
  return service;
}

test('the service SIGKILLed mid-stream and started again: clients that resume with their cursor lose nothing and get nothing twice', async () => {
  const database = await createTestDatabase();
  cleanups.push(() => database.drop());
  const port = await freePort();
  const first = await startProcess(database.url, port);
  const seed = await prepareMixedLoad(database);
  const { subscribers } = await subscribersFrom(cleanups, first, { resume: true });
  const load = startLoad({
    writerUrl: writerUrlOf(database),
    sharedIds: seed.ids,
    longMs: 3_000,
    bulkAfterMs: 200,
  });
  // Mid-stream: the 20,000-row UPDATE is on its way to the subscribers.
  await waitFor(() => subscribers.every((s) => s.changes.length > 1_000), {
    timeoutMs: 30_000,
    message: 'the bulk update to be streaming',
  });
  first.kill();
  await first.exited;
  const delivered = subscribers.map((s) => s.changes.length);
  await new Promise((r) => setTimeout(r, 1_000));
  await startProcess(database.url, port);
  await new Promise((r) => setTimeout(r, 1_500));
  const { committed } = await load.stop();

  for (const [i, subscriber] of subscribers.entries()) {
    await waitForCount(subscriber.changes, committed.length, 30_000).catch(() => {});
    expect(subscriber.connections, 'reconnected to the new process').toBeGreaterThanOrEqual(2);
    expect(delivered[i], 'killed mid-stream').toBeLessThan(committed.length);
    expect(subscriber.errors).toEqual([]);
    expectExactDelivery(subscriber.changes, committed);
  }
}, 90_000);
