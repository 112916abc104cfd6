import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient } from 'graphql-ws';
import { afterAll, expect, test } from 'vitest';
import WebSocket from 'ws';
import { createTestDatabase } from './helpers/database.ts';
import { startTestService, type TestService } from './helpers/service.ts';
import { waitFor } from './helpers/wait.ts';

// A subscription whose stream fails midway (here: the change log is gone while it reads history)
// gets the error, masked, as its last result. Over SSE that failure used to be an unhandled
// rejection (the process exited); over graphql-ws it closed the socket with 4500, ending the
// socket's other subscriptions. Vitest fails this file on any unhandled rejection.

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const RESUME =
  'subscription ($after: String) { orderChanged(after: $after) { cursor order { customerName } } }';

test('a stream that fails midway ends with its masked error, on SSE (both modes) and WebSocket, and nothing else breaks', async () => {
  const database = await createTestDatabase();
  cleanups.push(() => database.drop());
  // A cursor from before a restart, so that resuming reads history from the log, not from memory.
  const first = await startTestService({ database });
  const cursor = (await first.graphql('{ orders { changeCursor } }')).data.orders.changeCursor as string;
  await database.sql(`INSERT INTO orders (customer_name, product_name) VALUES ('history', 'p')`);
  await waitFor(
    async () => (await first.graphql('{ orderChanges { cursor } }')).data?.orderChanges.length === 1,
  );
  await first.stop();
  const service: TestService = await startTestService({ database });
  cleanups.push(() => service.stop());

  const ws = createWsClient({ url: service.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
  cleanups.push(() => ws.dispose());
  const live = ws.iterate<any>({ query: 'subscription { orderChanged { order { customerName } } }' });
  const liveNext = live.next();
  await waitFor(() => service.feed.status().subscribers === 1);

  await database.sql('ALTER TABLE order_changes RENAME TO order_changes_gone');
  const results = await Promise.all(
    [
      ws,
      createSseClient({ url: `${service.url}/graphql/stream`, singleConnection: true, retryAttempts: 0 }),
      createSseClient({ url: `${service.url}/graphql/stream`, retryAttempts: 0 }),
    ].map(async (client) => {
      const received: any[] = [];
      for await (const result of client.iterate<any>({ query: RESUME, variables: { after: cursor } })) {
        received.push(result);
      }
      return received;
    }),
  );
  for (const received of results) {
    expect(received).toHaveLength(1);
    expect(received[0].errors.map((e: any) => [e.message, e.extensions?.code])).toEqual([
      ['Unexpected error.', 'INTERNAL_SERVER_ERROR'],
    ]);
    expect(JSON.stringify(received)).not.toMatch(/order_changes/);
  }

  // The WebSocket's other subscription goes on.
  await database.sql('ALTER TABLE order_changes_gone RENAME TO order_changes');
  await database.sql(`INSERT INTO orders (customer_name, product_name) VALUES ('still live', 'p')`);
  expect((await liveNext).value.data.orderChanged.order.customerName).toBe('still live');
}, 60_000);
