import { expect, test } from 'vitest';
import type { OrderChange } from '../../src/changes/change.ts';
import type { PageListener } from '../../src/changes/change-stream.ts';
import { waitFor } from '../helpers/wait.ts';
import { onMysql } from './backend-sql.ts';
import { feedForFile } from './harness.ts';
import { insertOrders } from './order-writer.ts';

// PostgreSQL's feed hands a change to its live subscribers one after another, each to its
// consumer within the head's move (HeadWaiters.park), rather than resolving every subscriber's
// promise at once: then each step of every subscriber's chain waited behind the same step of all
// the others, and the first subscriber's socket got the change only when nearly all the work of
// the fan-out was done (at 100 subscribers, 1.3 ms after the tick against 0.7 since).
// MySQL's feed reads its head with promises, and is not held to this.

const shared = feedForFile();

type Waitable = AsyncIterableIterator<OrderChange> & { wait(listener: PageListener<OrderChange>): void };

test.skipIf(onMysql)(
  'a change reaches every live subscriber within one turn, no microtask between them',
  async () => {
    const streams = (await Promise.all(
      Array.from({ length: 20 }, () => shared.feed.subscribe()),
    )) as Waitable[];
    const received: { stream: number; customer: string; microtaskRan: boolean }[] = [];
    let microtaskRan = false;
    for (const [i, stream] of streams.entries())
      stream.wait({
        pageReady: (event) => {
          if (received.length === 0) queueMicrotask(() => (microtaskRan = true));
          received.push({ stream: i, customer: event.value?.order.customerName ?? '', microtaskRan });
        },
        pageFailed: (error) => {
          throw error;
        },
      });
    try {
      await insertOrders(shared.database.url, [{ customer: 'fan-out' }]);
      await waitFor(() => received.length === streams.length || undefined, { timeoutMs: 10_000 });
      expect(received.map((r) => r.customer)).toEqual(streams.map(() => 'fan-out'));
      // In the order they subscribed, all before any microtask of the turn could run.
      expect(received.map((r) => r.stream)).toEqual(streams.map((_, i) => i));
      expect(received.filter((r) => r.microtaskRan)).toEqual([]);
    } finally {
      await Promise.all(streams.map((stream) => stream.return?.()));
    }
  },
);
