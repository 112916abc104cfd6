import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient } from 'graphql-ws';
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

const SUBSCRIPTION = /* GraphQL */ `
  subscription ($where: OrderChangeFilter) {
    orderChanged(where: $where) {
      cursor operation changedFields
      order { id customerName productName status version }
      previous { status }
    }
  }`;

test('a graphql-ws subscriber receives an INSERT made by plain SQL', async () => {
  const client = createWsClient({ url: service.wsUrl, webSocketImpl: WebSocket, lazy: false });
  try {
    const events = client.iterate<any>({ query: SUBSCRIPTION });
    const first = events.next();
    // Subscribed once the server acknowledges; a write after that must arrive.
    await new Promise((r) => setTimeout(r, 200));
    await service.database.sql(
      `INSERT INTO orders (customer_name, product_name, status) VALUES ('John Doe', 'Laptop', 'pending')`,
    );
    const { value } = await first;
    expect(value.errors).toBeUndefined();
    expect(value.data.orderChanged).toMatchObject({
      operation: 'INSERT',
      order: { customerName: 'John Doe', productName: 'Laptop', status: 'PENDING', version: 1 },
      previous: null,
    });
    await events.return?.();
  } finally {
    await client.dispose();
  }
});

test('an SSE subscriber receives an INSERT made by plain SQL', async () => {
  const client = createSseClient({ url: `${service.url}/graphql/stream`, singleConnection: true });
  try {
    const events = client.iterate<any>({
      query: SUBSCRIPTION,
      variables: { where: { operations: ['INSERT'] } },
    });
    const first = events.next();
    await new Promise((r) => setTimeout(r, 300));
    await service.database.sql(`INSERT INTO orders (customer_name, product_name) VALUES ('Ann', 'Phone')`);
    const { value } = await first;
    expect(value.data.orderChanged).toMatchObject({ operation: 'INSERT', order: { customerName: 'Ann' } });
    await events.return?.();
  } finally {
    client.dispose();
  }
});

test('an SSE subscriber in distinct connections mode receives changes too', async () => {
  const client = createSseClient({ url: `${service.url}/graphql/stream` });
  try {
    const events = client.iterate<any>({
      query: SUBSCRIPTION,
      variables: { where: { statuses: ['SHIPPED'] } },
    });
    const first = events.next();
    await new Promise((r) => setTimeout(r, 300));
    await service.database.sql(
      `INSERT INTO orders (customer_name, product_name, status) VALUES ('Cy', 'Cap', 'shipped')`,
    );
    const { value } = await first;
    expect(value.data.orderChanged).toMatchObject({
      operation: 'INSERT',
      order: { customerName: 'Cy', status: 'SHIPPED' },
    });
    await events.return?.();
  } finally {
    client.dispose();
  }
});

test('a malformed cursor is BAD_USER_INPUT over WebSocket', async () => {
  const client = createWsClient({ url: service.wsUrl, webSocketImpl: WebSocket });
  try {
    const events = client.iterate<any>({ query: 'subscription { orderChanged(after: "zz") { cursor } }' });
    const { value } = await events.next();
    expect(value.errors[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'after' } });
  } finally {
    await client.dispose();
  }
});
