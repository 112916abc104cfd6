import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, expect, test } from 'vitest';
import WebSocket from 'ws';
import { startTestService, type TestService } from './helpers/service.ts';

let service: TestService;
beforeAll(async () => {
  service = await startTestService();
});
afterAll(async () => {
  await service?.stop();
});

const manyAliases = `{ ${Array.from({ length: 30 }, (_, i) => `a${i}: orders { changeCursor }`).join(' ')} }`;
const manyTokens = `{ orders { ${Array.from({ length: 3_000 }, () => 'changeCursor').join(' ')} } }`;

test('operations that would cost the server too much are refused with a code, over HTTP', async () => {
  const aliases = await service.graphql(manyAliases);
  expect(aliases.data).toBeUndefined();
  expect(aliases.errors?.[0]).toMatchObject({
    message: 'Aliases limit of 15 exceeded, found 30.',
    extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
  });
  const tokens = await service.graphql(manyTokens);
  expect(tokens.errors?.[0]?.message).toMatch(/Token limit of 3000 exceeded/);
  expect(tokens.errors?.[0]?.extensions?.code).toBeDefined();
  // A reasonable operation still works.
  expect((await service.graphql('{ orders { changeCursor } }')).errors).toBeUndefined();
});

test('over WebSocket, a refused operation fails alone: the connection and its other subscriptions go on', async () => {
  const client = createClient({ url: service.wsUrl, webSocketImpl: WebSocket });
  try {
    const live = client.iterate<any>({
      query: 'subscription { orderChanged { operation order { customerName } } }',
    });
    const first = live.next();
    const refused = await client
      .iterate<any>({ query: manyAliases })
      .next()
      .catch((errors) => errors);
    expect(JSON.stringify(refused)).toMatch(/Aliases limit/);
    await new Promise((r) => setTimeout(r, 200));
    await service.database.sql(`INSERT INTO orders (customer_name, product_name) VALUES ('still', 'here')`);
    expect((await first).value.data.orderChanged.order.customerName).toBe('still');
    await live.return?.();
  } finally {
    await client.dispose();
  }
});
