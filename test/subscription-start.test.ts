import { type Client, createClient } from 'graphql-ws';
import { afterAll, beforeAll, expect, test } from 'vitest';
import WebSocket from 'ws';
import { startTestService, type TestService } from './helpers/service.ts';
import { waitFor } from './helpers/wait.ts';

// CONTRACT: without `after`, a subscription delivers every change that commits after it is
// accepted and none that committed before; a client that subscribes right after its own mutation
// returned does not receive that mutation's change.

let service: TestService;
const clients: Client[] = [];
beforeAll(async () => {
  service = await startTestService();
});
afterAll(async () => {
  for (const client of clients) await client.dispose();
  await service?.stop();
});

async function single<T>(client: Client, query: string, variables: Record<string, unknown>): Promise<T> {
  const result = await client.iterate<T>({ query, variables }).next();
  if (result.value.errors) throw new Error(JSON.stringify(result.value.errors));
  return result.value.data as T;
}

const CREATE = `mutation ($name: String!) { createOrder(input: { customerName: $name, productName: "p" }) { id } }`;
const UPDATE = `mutation ($id: ID!) { updateOrder(id: $id, input: { quantity: 2 }) { version } }`;
const SUBSCRIBE = `subscription ($id: ID!) { orderChanged(where: { ids: [$id] }) { operation order { id version } } }`;

test('mutation, subscribe, mutation on several connections at once: each subscriber receives exactly the second change', async () => {
  const connections = 4;
  for (let i = 0; i < connections; i++) {
    clients.push(createClient({ url: service.wsUrl, webSocketImpl: WebSocket, lazy: false }));
  }
  for (let round = 0; round < 15; round++) {
    const ids = await Promise.all(
      clients.map(async (client, c) => {
        const data = await single<{ createOrder: { id: string } }>(client, CREATE, {
          name: `r${round}c${c}`,
        });
        return data.createOrder.id;
      }),
    );
    // Subscribed right after the INSERT returned, while the feed's head may not hold it yet.
    const streams = clients.map((client, c) =>
      client.iterate<any>({ query: SUBSCRIBE, variables: { id: ids[c] } }),
    );
    const firsts = streams.map((stream) => stream.next());
    // graphql-ws does not acknowledge a subscription; the feed counts it once it is accepted.
    await waitFor(() => service.feed.status().subscribers === connections, { message: 'all subscribed' });
    await Promise.all(clients.map((client, c) => single(client, UPDATE, { id: ids[c] })));
    const received = await Promise.all(firsts);
    received.forEach(({ value }, c) => {
      expect(value.errors).toBeUndefined();
      // An INSERT delivered would come first: the first event being the UPDATE proves it was not.
      expect(value.data.orderChanged).toEqual({ operation: 'UPDATE', order: { id: ids[c], version: 2 } });
    });
    await Promise.all(streams.map((stream) => stream.return?.()));
    await waitFor(() => service.feed.status().subscribers === 0, { message: 'all unsubscribed' });
  }
}, 120_000);
