import { expect } from 'vitest';
import { type CommittedChange, expectExactDelivery, waitForCount } from '../changes/harness.ts';
import type { TestDatabase } from '../helpers/database.ts';
import { startTestService, type TestService } from '../helpers/service.ts';
import { waitFor } from '../helpers/wait.ts';
import {
  changeCursorOf,
  committedDespiteFailure,
  type ServiceWrites,
  subscribeOverWebSocket,
  watchProcess,
  writeThroughService,
} from './harness.ts';
import { prepareMixedLoad, runMixedLoad } from './mixed-load.ts';

export interface UnderLoadOptions {
  database: TestDatabase;
  /** How the writers connect (default database.url). */
  writerUrl?: string;
  /** A service already running on `database` (default: one started here). */
  service?: TestService;
  /** Changes that `during` committed itself, for the ground truth. */
  alsoCommitted?: CommittedChange[];
  /** The fault, while the load runs; the load stops a second after it returns. */
  during: (service: TestService) => Promise<void>;
}

/**
 * The whole service with two graphql-ws subscribers (from a snapshot's changeCursor) and a mixed
 * load (plain SQL writers, a long transaction, a 20,000-row UPDATE, and createOrder through the
 * service) while `during` does its harm. Then: both subscribers received exactly what was
 * committed, never lost their sockets, and the process saw no uncaught error.
 */
export async function underLoad(cleanups: (() => unknown)[], options: UnderLoadOptions) {
  const guard = watchProcess();
  cleanups.push(() => guard.dispose());
  const { database } = options;
  const service = options.service ?? (await startTestService({ database }));
  if (!options.service) cleanups.push(() => service.stop());
  const seed = await prepareMixedLoad(database);
  const after = await changeCursorOf(service.url);
  const subscribers = [
    subscribeOverWebSocket(service.wsUrl, { after }),
    subscribeOverWebSocket(service.wsUrl, { after }),
  ];
  cleanups.push(() => {
    for (const s of subscribers) s.stop();
  });
  await waitFor(() => subscribers.every((s) => s.connections > 0), { message: 'subscribers' });

  let finish!: () => void;
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const load = runMixedLoad(options.writerUrl ?? database.url, seed.ids, {
    until: finished,
    longMs: 2_000,
    bulkAfterMs: 300,
  });
  const serviceWrites = writeThroughService(service.url, finished, 100);
  await new Promise((r) => setTimeout(r, 1_000));
  await options.during(service);
  await new Promise((r) => setTimeout(r, 1_000));
  finish();
  const [committed, writes] = await Promise.all([load, serviceWrites]);

  const expected = [
    ...committed,
    ...writes.committed,
    ...(await committedDespiteFailure(database, writes)),
    ...(options.alsoCommitted ?? []),
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
  return { service, writes: writes as ServiceWrites, after, expected };
}
