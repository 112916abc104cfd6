import { expect } from 'vitest';
import {
  type CommittedChange,
  changeKey,
  expectExactDelivery,
  receivedKey,
  waitForCount,
} from '../changes/harness.ts';
import type { TestDatabase } from '../helpers/database.ts';
import { waitFor } from '../helpers/wait.ts';
import {
  changeCursorOf,
  committedDespiteFailure,
  explainMissing,
  type ServiceWrites,
  subscribeOverWebSocket,
  writeThroughService,
} from './harness.ts';
import { runMixedLoad } from './mixed-load.ts';

export type Subscriber = ReturnType<typeof subscribeOverWebSocket>;

/**
 * Two graphql-ws subscribers from a snapshot's changeCursor, as a client reads and then follows;
 * connected when this returns, stopped by `cleanups`.
 */
export async function subscribersFrom(
  cleanups: (() => unknown)[],
  service: { url: string; wsUrl: string },
  options: { resume?: boolean } = {},
) {
  const after = await changeCursorOf(service.url);
  const subscribers = [
    subscribeOverWebSocket(service.wsUrl, { after, ...options }),
    subscribeOverWebSocket(service.wsUrl, { after, ...options }),
  ];
  cleanups.push(() => {
    for (const s of subscribers) s.stop();
  });
  await waitFor(() => subscribers.every((s) => s.connections > 0), { message: 'subscribers' });
  return { after, subscribers };
}

export interface LoadOptions {
  writerUrl: string;
  /** The seeded orders the short writers share (prepareMixedLoad's ids). */
  sharedIds: string[];
  longMs?: number;
  bulkAfterMs?: number;
  /** createOrder through the service too, one after another, this far apart (default 50 ms). */
  throughService?: { url: string; pauseMs?: number };
}

export interface LoadResult {
  /** What the writers' COMMITs confirmed, and what turned out committed though unanswered. */
  committed: CommittedChange[];
  /** The service's own writes (none without `throughService`). */
  writes: ServiceWrites;
}

/** The mixed load (mixed-load.ts), and writes through the service, running until `stop()`. */
export function startLoad(options: LoadOptions) {
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const load = runMixedLoad(options.writerUrl, options.sharedIds, {
    until: finished,
    longMs: options.longMs,
    bulkAfterMs: options.bulkAfterMs,
  });
  const serviceWrites: Promise<ServiceWrites> = options.throughService
    ? writeThroughService(options.throughService.url, finished, options.throughService.pauseMs)
    : Promise.resolve({ committed: [], failed: [] });
  return {
    /** Ends the load and waits for its last transactions. */
    async stop(): Promise<LoadResult> {
      finish();
      const [committed, writes] = await Promise.all([load, serviceWrites]);
      return { committed, writes };
    },
  };
}

/**
 * Every change the subscribers must receive: the load's, the service's, the failed createOrders
 * that committed anyway (only the answer was lost), and `also`.
 */
export async function committedDuring(
  database: TestDatabase,
  { committed, writes }: LoadResult,
  also: CommittedChange[] = [],
) {
  return [...committed, ...writes.committed, ...(await committedDespiteFailure(database, writes)), ...also];
}

/**
 * Each subscriber received exactly `expected` (each change once, in order per row), saw no
 * error, and never lost its socket. `explainIn`: on a shortfall, print where that database has
 * the missing changes before the comparison fails.
 */
export async function expectSubscribersExact(
  subscribers: Subscriber[],
  expected: CommittedChange[],
  options: { explainIn?: TestDatabase } = {},
) {
  for (const subscriber of subscribers) {
    // Short of the count (a 20,000-row statement takes a while on a loaded machine), the exact
    // comparison below says what is missing.
    await waitForCount(subscriber.changes, expected.length, 60_000).catch(() => {});
    expect(subscriber.errors).toEqual([]);
    expect(subscriber.closes, 'subscriber sockets closed').toBe(0);
    if (options.explainIn) await explainShortfall(options.explainIn, subscriber, expected);
    expectExactDelivery(subscriber.changes, expected);
  }
}

async function explainShortfall(database: TestDatabase, subscriber: Subscriber, expected: CommittedChange[]) {
  const received = new Set(subscriber.changes.map(receivedKey));
  const missing = expected.filter((c) => !received.has(changeKey(c)));
  if (missing.length === 0) return;
  console.error('missing', JSON.stringify(await explainMissing(database, missing), null, 1));
  const cursors = subscriber.changes.map((c) => c.cursor);
  console.error('cursors around', JSON.stringify(cursors.slice(-5)), cursors.length);
}
