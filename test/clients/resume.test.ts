import { ApolloClient, gql, InMemoryCache } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { subscriptionExchange, Client as UrqlClient } from '@urql/core';
import { createClient, createSSEClient } from 'realtime-orders/client';
import { afterAll, beforeAll, expect, test } from 'vitest';
import WebSocket from 'ws';
import type { OrderChange } from '../../src/changes/change.ts';
import { type CommittedChange, expectExactDelivery, waitForCount } from '../changes/harness.ts';
import { runBackendWorkload, seedBackendOrders } from '../helpers/backend-workload.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { waitFor } from '../helpers/wait.ts';
import { freePort, ServerProcess } from './server-process.ts';
import { startTcpProxy } from './tcp-proxy.ts';

// Exactly once all the way to the application: Apollo Client, urql, graphql-ws and graphql-sse
// (both modes) with realtime-orders/client, each from the same snapshot cursor, while writers
// commit throughout and the server's connections are cut, the server is stopped with SIGTERM and
// started again, then killed with SIGKILL and started again. Each application's sink must end
// with exactly what the writers committed, in order, nothing twice, and no error.

const CHANGES = /* GraphQL */ `
  subscription Changes($after: String) {
    orderChanged(after: $after) { cursor operation order { id version } }
  }`;

type Received = Pick<OrderChange, 'cursor' | 'operation'> & { order: { id: string; version: number } };

interface AppSink {
  name: string;
  changes: Received[];
  errors: unknown[];
  stop(): void | Promise<void>;
}

let database: TestDatabase;
let server: ServerProcess;
let proxy: Awaited<ReturnType<typeof startTcpProxy>>;
const cleanups: (() => unknown)[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  server = new ServerProcess({ databaseUrl: database.url, port: await freePort() });
  await server.start();
  proxy = await startTcpProxy(Number(new URL(server.url).port));
});
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await proxy?.close();
  await server?.stop('SIGKILL');
  await database?.drop();
});

function keepWriting(sharedIds: string[]) {
  const committed: CommittedChange[] = [];
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      committed.push(
        ...(await runBackendWorkload(database.url, {
          writers: 2,
          transactionsPerWriter: 4,
          sharedIds,
          rollbackRate: 0.1,
        })),
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return {
    committed,
    async stop() {
      stopped = true;
      await done;
      return committed;
    },
  };
}

function sink(name: string): AppSink {
  return { name, changes: [], errors: [], stop: () => {} };
}

function apollo(wsUrl: string, variables: { after: string }): AppSink {
  const app = sink('Apollo Client');
  const ws = createClient({ url: wsUrl, webSocketImpl: WebSocket });
  const client = new ApolloClient({ link: new GraphQLWsLink(ws), cache: new InMemoryCache() });
  const subscription = client
    .subscribe<{ orderChanged: Received }>({ query: gql(CHANGES), variables, fetchPolicy: 'no-cache' })
    .subscribe({
      next: (result) => {
        if (result.error) app.errors.push(result.error);
        if (result.data) app.changes.push(result.data.orderChanged);
      },
      error: (error) => app.errors.push(error),
    });
  app.stop = async () => {
    subscription.unsubscribe();
    client.stop();
    await ws.dispose();
  };
  return app;
}

function urql(url: string, wsUrl: string, variables: { after: string }): AppSink {
  const app = sink('urql');
  const ws = createClient({ url: wsUrl, webSocketImpl: WebSocket });
  const client = new UrqlClient({
    url: `${url}/graphql`,
    exchanges: [
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (observer) => ({
            unsubscribe: ws.subscribe({ ...request, query: request.query ?? '' }, observer),
          }),
        }),
      }),
    ],
  });
  const subscription = client.subscription(CHANGES, variables).subscribe((result) => {
    if (result.error) app.errors.push(result.error);
    if (result.data) app.changes.push(result.data.orderChanged);
  });
  app.stop = async () => {
    subscription.unsubscribe();
    await ws.dispose();
  };
  return app;
}

function graphqlWs(wsUrl: string, variables: { after: string }): AppSink {
  const app = sink('graphql-ws (iterate)');
  const ws = createClient({ url: wsUrl, webSocketImpl: WebSocket });
  const results = ws.iterate<{ orderChanged: Received }>({ query: CHANGES, variables });
  const reading = (async () => {
    try {
      for await (const result of results) {
        if (result.errors) app.errors.push(result.errors);
        if (result.data) app.changes.push(result.data.orderChanged);
      }
    } catch (error) {
      app.errors.push(error);
    }
  })();
  app.stop = async () => {
    await results.return?.();
    await reading;
    await ws.dispose();
  };
  return app;
}

function graphqlSse(url: string, singleConnection: boolean, variables: { after: string }): AppSink {
  const app = sink(`graphql-sse (${singleConnection ? 'single connection' : 'distinct connections'})`);
  const client = createSSEClient({ url: `${url}/graphql/stream`, singleConnection });
  const unsubscribe = client.subscribe<{ orderChanged: Received }>(
    { query: CHANGES, variables },
    {
      next: (result) => {
        if (result.errors) app.errors.push(result.errors);
        if (result.data) app.changes.push(result.data.orderChanged);
      },
      error: (error) => app.errors.push(error),
      complete: () => app.errors.push(new Error('completed')),
    },
  );
  app.stop = () => {
    unsubscribe();
    client.dispose();
  };
  return app;
}

test('every application sink receives exactly what was committed across a cut network, SIGTERM and SIGKILL', async () => {
  const { ids: sharedIds } = await seedBackendOrders(database, 5);
  const snapshot = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ orders(first: 1) { changeCursor } }' }),
  }).then((response) => response.json() as Promise<{ data: { orders: { changeCursor: string } } }>);
  const after = snapshot.data.orders.changeCursor;
  // Frozen: the clients must never modify what the application passed.
  const variables = Object.freeze({ after });
  const wsUrl = `${proxy.url.replace(/^http/, 'ws')}/graphql`;
  const apps = [
    apollo(wsUrl, variables),
    urql(proxy.url, wsUrl, variables),
    graphqlWs(wsUrl, variables),
    graphqlSse(proxy.url, false, variables),
    graphqlSse(proxy.url, true, variables),
  ];
  cleanups.push(() => Promise.all(apps.map((app) => app.stop())));

  const writers = keepWriting(sharedIds);
  cleanups.push(() => writers.stop());
  const caughtUp = async (step: string) => {
    const mark = writers.committed.length + 1;
    await waitFor(() => apps.every((app) => app.changes.length >= mark), { timeoutMs: 45_000 }).catch(() => {
      const counts = apps.map(
        (app) => `${app.name}: ${app.changes.length} ${app.errors.map(String).join(' ')}`,
      );
      throw new Error(`not every client got past ${mark} changes ${step}: ${counts.join(', ')}`);
    });
  };

  await caughtUp('before any fault');
  proxy.cut();
  await caughtUp('after the network was cut');
  await server.stop('SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 300));
  await server.start();
  await caughtUp('after SIGTERM and a restart');
  await server.stop('SIGKILL');
  await new Promise((resolve) => setTimeout(resolve, 300));
  await server.start();
  await caughtUp('after SIGKILL and a restart');

  const committed = await writers.stop();
  for (const app of apps) {
    await waitForCount(app.changes, committed.length, 45_000);
    expect(app.errors, app.name).toEqual([]);
    expectExactDelivery(app.changes as OrderChange[], committed);
  }
  expect(variables).toEqual({ after });
}, 180_000);
