import { expect } from 'vitest';
import type { CommittedChange } from '../changes/harness.ts';
import type { TestDatabase } from '../helpers/database.ts';
import { startTestService, type TestService } from '../helpers/service.ts';
import { watchProcess } from './harness.ts';
import { prepareMixedLoad } from './mixed-load.ts';
import { committedDuring, expectSubscribersExact, startLoad, subscribersFrom } from './scenario.ts';

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
  const { after, subscribers } = await subscribersFrom(cleanups, service);
  const load = startLoad({
    writerUrl: options.writerUrl ?? database.url,
    sharedIds: seed.ids,
    longMs: 2_000,
    bulkAfterMs: 300,
    throughService: { url: service.url, pauseMs: 100 },
  });
  await new Promise((r) => setTimeout(r, 1_000));
  await options.during(service);
  await new Promise((r) => setTimeout(r, 1_000));
  const ran = await load.stop();

  const expected = await committedDuring(database, ran, options.alsoCommitted);
  await expectSubscribersExact(subscribers, expected);
  expect(guard.crashes).toEqual([]);
  return { service, writes: ran.writes, after, expected };
}
