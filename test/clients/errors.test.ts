import { ApolloClient, gql, InMemoryCache } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { subscriptionExchange, Client as UrqlClient } from '@urql/core';
import { createClient as createPlainClient } from 'graphql-ws';
import { createClient, createSSEClient } from 'realtime-orders/client';
import { afterAll, beforeAll, expect, test } from 'vitest';
import WebSocket from 'ws';
import { encodeCursor } from '../../src/changes/position.ts';
import { startTestService, type TestService } from '../helpers/service.ts';
import { waitFor } from '../helpers/wait.ts';
import { startTcpProxy } from './tcp-proxy.ts';

// What the resuming clients do not hide: CURSOR_EXPIRED, on a resume or at once, reaches the
// application's error callback with its code and ends the subscription (in Node too, where Apollo's
// GraphQLWsLink needs a global WebSocket to report it); and an operation without `$after`/`cursor`
// is sent exactly as the application wrote it.

const CHANGES =
  'subscription Changes($after: String) { orderChanged(after: $after) { cursor order { customerName } } }';

interface App {
  name: string;
  names: string[];
  errors: unknown[];
  stop(): unknown;
}

let service: TestService;
let proxy: Awaited<ReturnType<typeof startTcpProxy>>;
const hadGlobalWebSocket = 'WebSocket' in globalThis;
beforeAll(async () => {
  // History expires after a second, so that a client kept away for two resumes from an expired cursor.
  service = await startTestService({
    feed: { retentionMs: 1_000, pruneIntervalMs: 3_600_000, pollIntervalMs: 200 },
  });
  proxy = await startTcpProxy(Number(new URL(service.url).port));
});
afterAll(async () => {
  await proxy?.close();
  await service?.stop();
});

function subscribeAll(variables: Record<string, unknown>): App[] {
  const wsUrl = `${proxy.url.replace(/^http/, 'ws')}/graphql`;
  const apps: App[] = [];
  const app = (name: string) => {
    const created: App = { name, names: [], errors: [], stop: () => {} };
    apps.push(created);
    return created;
  };
  const record = (
    target: App,
    data: { orderChanged: { order: { customerName: string } } } | undefined | null,
  ) => {
    if (data) target.names.push(data.orderChanged.order.customerName);
  };

  const apollo = app('Apollo Client');
  const apolloWs = createClient({ url: wsUrl, webSocketImpl: WebSocket });
  const apolloClient = new ApolloClient({ link: new GraphQLWsLink(apolloWs), cache: new InMemoryCache() });
  const apolloSubscription = apolloClient
    .subscribe({ query: gql(CHANGES), variables, fetchPolicy: 'no-cache' })
    .subscribe({
      next: (result) => {
        if (result.error) apollo.errors.push(result.error);
        else record(apollo, result.data as never);
      },
      error: (error) => apollo.errors.push(error),
    });
  apollo.stop = () => {
    apolloSubscription.unsubscribe();
    return apolloWs.dispose();
  };

  const urql = app('urql');
  const urqlWs = createClient({ url: wsUrl, webSocketImpl: WebSocket });
  const urqlClient = new UrqlClient({
    url: `${proxy.url}/graphql`,
    exchanges: [
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({
            unsubscribe: urqlWs.subscribe({ ...request, query: request.query ?? '' }, sink),
          }),
        }),
      }),
    ],
  });
  const urqlSubscription = urqlClient.subscription(CHANGES, variables).subscribe((result) => {
    // urql merges an error into the last result: its data is not a new change.
    if (result.error) urql.errors.push(result.error);
    else record(urql, result.data);
  });
  urql.stop = () => {
    urqlSubscription.unsubscribe();
    return urqlWs.dispose();
  };

  const plainSink = (target: App) => ({
    next: (result: { data?: unknown }) => record(target, result.data as never),
    error: (error: unknown) => target.errors.push(error),
    complete: () => {},
  });
  const ws = app('graphql-ws');
  const wsClient = createClient({ url: wsUrl, webSocketImpl: WebSocket });
  const wsStop = wsClient.subscribe({ query: CHANGES, variables }, plainSink(ws));
  ws.stop = () => {
    wsStop();
    return wsClient.dispose();
  };
  for (const singleConnection of [false, true]) {
    const sse = app(`graphql-sse (${singleConnection ? 'single' : 'distinct'})`);
    const sseClient = createSSEClient({ url: `${proxy.url}/graphql/stream`, singleConnection });
    const sseStop = sseClient.subscribe({ query: CHANGES, variables }, plainSink(sse));
    sse.stop = () => {
      sseStop();
      sseClient.dispose();
    };
  }
  return apps;
}

/** The `extensions.code` of the first GraphQL error, however each library wraps it. */
function codeOf(error: unknown): unknown {
  const e = error as { errors?: unknown[]; graphQLErrors?: unknown[] };
  const errors = Array.isArray(error) ? error : (e.errors ?? e.graphQLErrors ?? []);
  return (errors[0] as { extensions?: { code?: unknown } } | undefined)?.extensions?.code;
}

/** Waits until `check` holds for every application; on a timeout, says what each one has. */
async function waitForApps(apps: App[], check: (app: App) => boolean, what: string, timeoutMs = 20_000) {
  await waitFor(() => apps.every(check), { timeoutMs }).catch(() => {
    const state = apps.map(
      (app) => `${app.name}: [${app.names}] ${app.errors.map((e) => JSON.stringify(e) ?? String(e))}`,
    );
    throw new Error(`not ${what}: ${state.join('; ')}`);
  });
}

const insert = (name: string) =>
  service.database.sql(`INSERT INTO orders (customer_name, product_name) VALUES ($1, 'x')`, [name]);

test('CURSOR_EXPIRED on a resume reaches every application as an error, and ends its subscription', async () => {
  const apps = subscribeAll({});
  try {
    await waitFor(() => service.feed.status().subscribers === apps.length, { message: 'every subscription' });
    await insert('early');
    await waitFor(() => apps.every((app) => app.names.length === 1), {
      message: 'the first change everywhere',
    });

    // Away for longer than the retention, while changes are committed: one that the retention
    // drops meanwhile (the application's resume needs it: a gap, on every backend) and a newer one.
    proxy.refuse(true);
    await insert('missed');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await insert('late');
    await waitFor(
      async () => (await service.graphql('{ orderChanges { cursor } }')).data?.orderChanges.length === 1,
    );
    proxy.refuse(false);

    await waitForApps(apps, (app) => app.errors.length > 0, 'an error in every application');
    for (const app of apps) {
      expect(app.errors.map(codeOf), app.name).toEqual(['CURSOR_EXPIRED']);
      expect(app.names, app.name).toEqual(['early']);
    }
    // Ended: nothing more arrives, and nothing is retried.
    await insert('later');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    for (const app of apps) expect([app.names, app.errors.length], app.name).toEqual([['early'], 1]);
    expect(service.feed.status().subscribers).toBe(0);
  } finally {
    await Promise.all(apps.map((app) => app.stop()));
  }
  // Node 20 has no global WebSocket: without the client setting one, Apollo's error path throws.
  if (!hadGlobalWebSocket) expect(globalThis.WebSocket).toBe(WebSocket);
});

test('CURSOR_EXPIRED on the first subscription reaches every application as an error', async () => {
  const apps = subscribeAll({ after: encodeCursor({ position: { tick: 0, last: 0, seq: 0 } }) });
  try {
    await waitForApps(apps, (app) => app.errors.length > 0, 'an error in every application');
    for (const app of apps) expect(app.errors.map(codeOf), app.name).toEqual(['CURSOR_EXPIRED']);
  } finally {
    await Promise.all(apps.map((app) => app.stop()));
  }
});

test('an operation without `$after` and `cursor` is sent as written, after reconnects too, like the plain client', async () => {
  // `$after` without `cursor`: not resumable, so a reconnect sends the same `after` again and both
  // clients receive everything after it a second time, which is what the plain client does.
  const query =
    'subscription Plain($after: String) { orderChanged(after: $after) { order { customerName } } }';
  // History kept as usual here, so that the cursor does not expire on the way.
  const service = await startTestService();
  const proxy = await startTcpProxy(Number(new URL(service.url).port));
  const { data } = await service.graphql('{ orders(first: 1) { changeCursor } }');
  const variables = Object.freeze({ after: data.orders.changeCursor });
  const insert = (name: string) =>
    service.database.sql(`INSERT INTO orders (customer_name, product_name) VALUES ($1, 'x')`, [name]);
  const wsUrl = `${proxy.url.replace(/^http/, 'ws')}/graphql`;
  const clients = {
    resuming: createClient({ url: wsUrl, webSocketImpl: WebSocket }),
    plain: createPlainClient({ url: wsUrl, webSocketImpl: WebSocket, shouldRetry: () => true }),
  };
  const received = { resuming: [] as string[], plain: [] as string[] };
  const stops = (['resuming', 'plain'] as const).map((name) =>
    clients[name].subscribe<{ orderChanged: { order: { customerName: string } } }>(
      { query, variables },
      {
        next: (result) => received[name].push(result.data?.orderChanged.order.customerName ?? 'error'),
        error: (error) => received[name].push(`error ${String(error)}`),
        complete: () => {},
      },
    ),
  );
  try {
    await insert('one');
    await waitFor(() => received.resuming.length === 1 && received.plain.length === 1);
    proxy.cut();
    await insert('two');
    await waitFor(() => received.resuming.length === 3 && received.plain.length === 3, {
      timeoutMs: 20_000,
    }).catch(() => {
      throw new Error(`resuming: ${received.resuming}; plain: ${received.plain}`);
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(received.resuming).toEqual(['one', 'one', 'two']);
    expect(received.plain).toEqual(received.resuming);
    expect(variables).toEqual({ after: data.orders.changeCursor });
  } finally {
    for (const stop of stops) stop();
    await Promise.all([clients.resuming.dispose(), clients.plain.dispose()]);
    await proxy.close();
    await service.stop();
  }
});

test('closes that graphql-ws itself does not retry (1011, 4500) are resumed from the last cursor', async () => {
  const service = await startTestService();
  const proxy = await startTcpProxy(Number(new URL(service.url).port));
  const client = createClient({
    url: `${proxy.url.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
  });
  const app: App = { name: 'graphql-ws', names: [], errors: [], stop: () => {} };
  const stop = client.subscribe<{ orderChanged: { order: { customerName: string } } }>(
    { query: CHANGES, variables: {} },
    {
      next: (result) => app.names.push(result.data?.orderChanged.order.customerName ?? 'no data'),
      error: (error) => app.errors.push(error),
      complete: () => app.errors.push('completed'),
    },
  );
  const insert = (name: string) =>
    service.database.sql(`INSERT INTO orders (customer_name, product_name) VALUES ($1, 'x')`, [name]);
  try {
    await waitFor(() => service.feed.status().subscribers === 1);
    await insert('first');
    await waitForApps([app], (a) => a.names.length === 1, 'the first change');
    proxy.closeWebSockets(1011);
    await insert('second');
    await waitForApps([app], (a) => a.names.length === 2, 'the change after 1011');
    proxy.closeWebSockets(4500);
    await insert('third');
    await waitForApps([app], (a) => a.names.length === 3, 'the change after 4500');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(app).toMatchObject({ names: ['first', 'second', 'third'], errors: [] });
  } finally {
    stop();
    await client.dispose();
    await proxy.close();
    await service.stop();
  }
});
