import type { Client as SseClient } from 'graphql-sse';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { TestService } from '../helpers/service.ts';
import { waitFor } from '../helpers/wait.ts';
import { sseClient, startAuthService, wsClient } from './harness.ts';
import { mint } from './tokens.ts';

// Subscriptions share an execution only within one authorization scope (role and customer): two
// customers sending the identical document never share one, two subscriptions of one customer do
// (src/server/shared-execution.ts). Counted by /metrics.

let service: TestService;
beforeAll(async () => {
  service = await startAuthService();
});
afterAll(async () => {
  await service?.stop();
});

const CHANGES = `subscription { orderChanged { cursor operation order { id customerName productName } } }`;

async function sharedResults(): Promise<number> {
  const text = await (await fetch(`${service.url}/metrics`)).text();
  return Number(/^realtime_orders_subscription_results_shared_total (\d+)/m.exec(text)?.[1]);
}

/** The names of the orders `client` receives (either protocol's client: a payload and a sink). */
function namesFrom(client: { subscribe: SseClient['subscribe']; dispose(): unknown }) {
  const names: string[] = [];
  const errors: unknown[] = [];
  const stop = client.subscribe(
    { query: CHANGES },
    {
      next: (result: any) =>
        result.errors
          ? errors.push(...result.errors)
          : names.push(result.data.orderChanged.order.customerName),
      error: (error) => errors.push(error),
      complete: () => {},
    },
  );
  const end = () => {
    stop();
    void client.dispose();
  };
  return { names, errors, stop: end };
}

const subscribeWs = (token: string) => namesFrom(wsClient(service, token).client);
const subscribeSse = (token: string) => namesFrom(sseClient(service, token, false));

const insert = (...customers: string[]) =>
  service.database.sql(
    `INSERT INTO orders (customer_name, product_name) SELECT c, 'p' FROM unnest($1::text[]) AS c`,
    [customers],
  );

test('two customers with the identical document never share; one customer with two subscriptions does', async () => {
  const ann = await mint({ role: 'customer', customer: 'Ann' });
  const bob = await mint({ role: 'customer', customer: 'Bob' });
  const reader = await mint({ role: 'reader' });
  const writer = await mint({ role: 'writer' });
  const annWs = subscribeWs(ann);
  const bobWs = subscribeWs(bob);
  const bobSse = subscribeSse(bob);
  const readerWs = subscribeWs(reader);
  const writerWs = subscribeWs(writer);
  const all = [annWs, bobWs, bobSse, readerWs, writerWs];
  try {
    await waitFor(() => service.feed.status().subscribers === 5, { message: 'five subscriptions' });
    // One of each scope, except Bob's two over different transports: only those may share.
    const before = await sharedResults();
    await insert('Ann', 'Bob', 'Cid', 'Ann');
    // An order that moves from Ann to Bob: a change both customers see, each in a scope of its own.
    await service.database.sql(
      `UPDATE orders SET customer_name = 'Bob' WHERE id = (SELECT max(id) FROM orders WHERE customer_name = 'Ann')`,
    );
    await waitFor(
      () => readerWs.names.length === 5 && writerWs.names.length === 5 && bobSse.names.length === 2,
      {
        message: 'every change',
      },
    );
    await waitFor(() => annWs.names.length === 3 && bobWs.names.length === 2, {
      message: "the customers' changes",
    });
    expect(annWs.names).toEqual(['Ann', 'Ann', 'Bob']);
    expect(bobWs.names).toEqual(['Bob', 'Bob']);
    expect(bobSse.names).toEqual(['Bob', 'Bob']);
    expect(readerWs.names).toEqual(['Ann', 'Bob', 'Cid', 'Ann', 'Bob']);
    expect(writerWs.names).toEqual(readerWs.names);
    // Bob's two changes, each executed once for his two subscriptions; nothing across scopes (the
    // move alone would be executed once for Ann and Bob, and every change once for reader and writer).
    expect((await sharedResults()) - before).toBe(2);

    // A second subscription of Ann's: now Ann's changes are shared too, still with nobody else.
    const annSse = subscribeSse(ann);
    all.push(annSse);
    await waitFor(() => service.feed.status().subscribers === 6, { message: 'six subscriptions' });
    const later = await sharedResults();
    await insert('Ann', 'Cid');
    await waitFor(
      () => annWs.names.length === 4 && annSse.names.length === 1 && readerWs.names.length === 7,
      {
        message: "Ann's new change",
      },
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(annSse.names).toEqual(['Ann']);
    expect(annWs.names.at(-1)).toBe('Ann');
    expect(bobWs.names).toEqual(['Bob', 'Bob']);
    expect((await sharedResults()) - later).toBe(1);
    for (const subscriber of all) expect(subscriber.errors).toEqual([]);
  } finally {
    for (const subscriber of all) subscriber.stop();
  }
});
