import { ApolloClient, gql, HttpLink, InMemoryCache, split } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { isSubscriptionOperation } from '@apollo/client/utilities';
import { cacheExchange, fetchExchange, subscriptionExchange, Client as UrqlClient } from '@urql/core';
import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient } from 'graphql-ws';
import { firstValueFrom, take, toArray } from 'rxjs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import WebSocket from 'ws';
import { startTestService, type TestService } from './helpers/service.ts';
import { waitFor } from './helpers/wait.ts';

// The real client libraries against the real server. Each one: a query (the snapshot's change
// cursor), a mutation, then a subscription from that cursor, which receives exactly the changes
// made after the query, however soon after subscribing they land.

let service: TestService;
beforeAll(async () => {
  service = await startTestService();
});
afterAll(async () => {
  await service?.stop();
});

const SNAPSHOT = /* GraphQL */ `
  query Snapshot {
    orders(first: 10) { changeCursor nodes { id customerName status version } }
  }`;
const CREATE = /* GraphQL */ `
  mutation Create($input: CreateOrderInput!) {
    createOrder(input: $input) { id customerName productName quantity status version }
  }`;
const SHIP = /* GraphQL */ `
  mutation Ship($id: ID!) {
    updateOrder(id: $id, input: { status: SHIPPED }) { id status version }
  }`;
const CHANGES = /* GraphQL */ `
  subscription Changes($after: String, $where: OrderChangeFilter) {
    orderChanged(after: $after, where: $where) {
      cursor operation changedFields committedAt
      order { id customerName productName quantity status version updatedAt }
      previous { customerName productName quantity status version updatedAt }
    }
  }`;

interface Change {
  cursor: string;
  operation: string;
  changedFields: string[];
  order: { id: string; status: string; version: number; customerName: string };
  previous: { status: string; version: number } | null;
}

test('Apollo Client: HttpLink for queries and mutations, GraphQLWsLink for subscriptions', async () => {
  const wsClient = createWsClient({ url: service.wsUrl, webSocketImpl: WebSocket });
  const client = new ApolloClient({
    link: split(
      ({ query }) => isSubscriptionOperation(query),
      new GraphQLWsLink(wsClient),
      new HttpLink({ uri: `${service.url}/graphql` }),
    ),
    cache: new InMemoryCache(),
  });
  try {
    const snapshot = await client.query({ query: gql(SNAPSHOT) });
    const { changeCursor } = (snapshot.data as { orders: { changeCursor: string } }).orders;
    const created = await client.mutate({
      mutation: gql(CREATE),
      variables: { input: { customerName: 'Apollo', productName: 'Rocket' } },
    });
    const { id } = (created.data as { createOrder: { id: string } }).createOrder;

    const events = firstValueFrom(
      client
        .subscribe({ query: gql(CHANGES), variables: { after: changeCursor, where: { ids: [id] } } })
        .pipe(take(2), toArray()),
    );
    await client.mutate({ mutation: gql(SHIP), variables: { id } });
    const [insert, update] = (await events).map((result) => {
      expect(result.error).toBeUndefined();
      return (result.data as { orderChanged: Change }).orderChanged;
    });
    expect(insert).toMatchObject({ operation: 'INSERT', order: { id, status: 'PENDING' }, previous: null });
    expect(update).toMatchObject({
      operation: 'UPDATE',
      order: { id, status: 'SHIPPED', version: 2 },
      previous: { status: 'PENDING', version: 1 },
    });

    // The normalized cache holds one Order per id, the current one; OrderState has no id, so
    // `previous` stays inside its OrderChange instead of overwriting Order:<id> with old values.
    const cache = client.cache.extract() as Record<string, Record<string, unknown>>;
    expect(cache[`Order:${id}`]).toMatchObject({ status: 'SHIPPED', version: 2, customerName: 'Apollo' });
    expect(Object.keys(cache).filter((key) => /OrderState|OrderChange/.test(key))).toEqual([]);
    const cached = client.readFragment({
      id: client.cache.identify({ __typename: 'Order', id }),
      fragment: gql`fragment Current on Order { status version }`,
    });
    expect(cached).toMatchObject({ status: 'SHIPPED', version: 2 });
  } finally {
    client.stop();
    await wsClient.dispose();
  }
});

test('urql: fetchExchange for queries and mutations, subscriptionExchange over graphql-ws', async () => {
  const wsClient = createWsClient({ url: service.wsUrl, webSocketImpl: WebSocket });
  const client = new UrqlClient({
    url: `${service.url}/graphql`,
    exchanges: [
      cacheExchange,
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({
            unsubscribe: wsClient.subscribe({ ...request, query: request.query ?? '' }, sink),
          }),
        }),
      }),
      fetchExchange,
    ],
  });
  try {
    const snapshot = await client.query(SNAPSHOT, {}).toPromise();
    expect(snapshot.error).toBeUndefined();
    const { changeCursor } = snapshot.data.orders;
    const created = await client
      .mutation(CREATE, { input: { customerName: 'Urql', productName: 'Wonka', quantity: 3 } })
      .toPromise();
    expect(created.error).toBeUndefined();
    const { id } = created.data.createOrder;

    const received: Change[] = [];
    const errors: unknown[] = [];
    const subscription = client
      .subscription(CHANGES, { after: changeCursor, where: { ids: [id] } })
      .subscribe((result) => {
        if (result.error) errors.push(result.error);
        if (result.data) received.push(result.data.orderChanged);
      });
    try {
      // A write by another program: plain SQL.
      await service.database.sql(`UPDATE orders SET status = 'processing' WHERE id = $1`, [id]);
      await waitFor(() => received.length >= 2);
      expect(errors).toEqual([]);
      expect(received.map((c) => [c.operation, c.previous?.status ?? null, c.order.status])).toEqual([
        ['INSERT', null, 'PENDING'],
        ['UPDATE', 'PENDING', 'PROCESSING'],
      ]);
      expect(received[1]?.changedFields).toContain('status');
    } finally {
      subscription.unsubscribe();
    }
  } finally {
    await wsClient.dispose();
  }
});

test('graphql-sse client in single-connection mode: query, mutation, subscription', async () => {
  const client = createSseClient({ url: `${service.url}/graphql/stream`, singleConnection: true });
  try {
    const snapshot = await once<{ orders: { changeCursor: string } }>(client.iterate({ query: SNAPSHOT }));
    const created = await once<{ createOrder: { id: string } }>(
      client.iterate({ query: CREATE, variables: { input: { customerName: 'Sse', productName: 'Stream' } } }),
    );
    const { id } = created.createOrder;
    const events = client.iterate<{ orderChanged: Change }>({
      query: CHANGES,
      variables: { after: snapshot.orders.changeCursor, where: { ids: [id] } },
    });
    try {
      const first = await events.next();
      expect(first.value?.data?.orderChanged).toMatchObject({ operation: 'INSERT', order: { id } });
      await service.database.sql('DELETE FROM orders WHERE id = $1', [id]);
      const second = await events.next();
      expect(second.value?.errors).toBeUndefined();
      expect(second.value?.data?.orderChanged).toMatchObject({
        operation: 'DELETE',
        order: { id, customerName: 'Sse' },
        changedFields: [],
      });
    } finally {
      await events.return?.();
    }
  } finally {
    client.dispose();
  }
});

test('graphql-ws client: query, mutation and subscription over one WebSocket', async () => {
  const client = createWsClient({ url: service.wsUrl, webSocketImpl: WebSocket });
  try {
    const snapshot = await once<{ orders: { changeCursor: string } }>(client.iterate({ query: SNAPSHOT }));
    const created = await once<{ createOrder: { id: string } }>(
      client.iterate({ query: CREATE, variables: { input: { customerName: 'Ws', productName: 'Socket' } } }),
    );
    const { id } = created.createOrder;
    const shipped = await once<{ updateOrder: { status: string } }>(
      client.iterate({ query: SHIP, variables: { id } }),
    );
    expect(shipped.updateOrder.status).toBe('SHIPPED');
    const events = client.iterate<{ orderChanged: Change }>({
      query: CHANGES,
      variables: { after: snapshot.orders.changeCursor, where: { ids: [id], operations: ['UPDATE'] } },
    });
    try {
      const { value } = await events.next();
      expect(value?.data?.orderChanged).toMatchObject({
        operation: 'UPDATE',
        order: { id, status: 'SHIPPED', version: 2 },
        previous: { status: 'PENDING', version: 1 },
      });
    } finally {
      await events.return?.();
    }
  } finally {
    await client.dispose();
  }
});

/** The single result of a query or mutation sent over a streaming client. */
async function once<T>(results: AsyncIterable<{ data?: unknown; errors?: unknown }>): Promise<T> {
  for await (const result of results) {
    expect(result.errors).toBeUndefined();
    return result.data as T;
  }
  throw new Error('no result');
}
