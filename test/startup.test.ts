import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient } from 'graphql-ws';
import { afterAll, expect, test } from 'vitest';
import WebSocket from 'ws';
import { emptyDatabase } from './changes/backend-sql.ts';
import { type ChildService, delayedDatabase, spawnService } from './helpers/child-service.ts';
import { createTestDatabase, type TestDatabase } from './helpers/database.ts';
import { waitFor } from './helpers/wait.ts';

// The server listens before its database, migrations and change feed are up (so that /health and
// /ready answer). Whatever a client sends meanwhile, on any transport, is held until the service
// is up and then answered, or answered SERVICE_UNAVAILABLE after 5 s while the database stays
// down: never "Unexpected error.", and the process never exits. On PostgreSQL and on MySQL/MariaDB
// (vitest project `mysql`).

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const SUBSCRIPTION = 'subscription { orderChanged { operation order { customerName } } }';
const CREATE = (name: string) =>
  `mutation { createOrder(input: { customerName: "${name}", productName: "p" }) { customerName version } }`;

async function startWithDatabaseDown(database: TestDatabase) {
  const proxy = await delayedDatabase(database.url);
  cleanups.push(() => proxy.close());
  const service = await spawnService({ DATABASE_URL: proxy.url });
  cleanups.push(() => service.kill());
  return { proxy, service };
}

function clients(service: ChildService) {
  const ws = createWsClient({ url: service.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
  const sseSingle = createSseClient({
    url: `${service.url}/graphql/stream`,
    singleConnection: true,
    retryAttempts: 0,
  });
  const sseDistinct = createSseClient({ url: `${service.url}/graphql/stream`, retryAttempts: 0 });
  cleanups.push(
    () => ws.dispose(),
    () => sseSingle.dispose(),
    () => sseDistinct.dispose(),
  );
  return {
    ws,
    sseSingle,
    sseDistinct,
    http: async (query: string) => {
      const response = await fetch(`${service.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
        body: JSON.stringify({ query }),
      });
      return { status: response.status, body: (await response.json()) as any };
    },
    rest: async (method: string, body?: unknown) => {
      const response = await fetch(`${service.url}/api/orders`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as any };
    },
  };
}

/** The first result of an operation over graphql-ws or graphql-sse (both have `iterate`). */
async function first(
  client: { iterate: (request: { query: string }) => AsyncIterableIterator<any> },
  query: string,
) {
  const events = client.iterate({ query });
  const { value } = await events.next();
  return { value, events };
}

const codes = (result: { errors?: { extensions?: { code?: string } }[] }) =>
  (result.errors ?? []).map((e) => e.extensions?.code);

test('while the database stays down, every transport answers SERVICE_UNAVAILABLE after the hold; /health, /ready, /metrics at once', async () => {
  const database = await createTestDatabase();
  cleanups.push(() => database.drop());
  const { proxy, service } = await startWithDatabaseDown(database);
  const c = clients(service);

  const began = Date.now();
  const [http, httpMutation, ws, sseSingle, sseDistinct, restList, restCreate] = await Promise.all([
    c.http('{ orders { changeCursor } }'),
    c.http(CREATE('refused')),
    first(c.ws, SUBSCRIPTION).catch((error) => ({ value: { errors: error } })),
    first(c.sseSingle, SUBSCRIPTION),
    first(c.sseDistinct, SUBSCRIPTION),
    c.rest('GET'),
    c.rest('POST', { customer_name: 'refused', product_name: 'p' }),
  ]);
  const waited = Date.now() - began;
  // Held first (5 s), not refused at once and not forever.
  expect(waited).toBeGreaterThan(4_000);
  expect(waited).toBeLessThan(30_000);

  expect(http.status).toBe(503);
  expect(codes(http.body)).toEqual(['SERVICE_UNAVAILABLE']);
  expect(httpMutation.status).toBe(503);
  expect(codes(httpMutation.body)).toEqual(['SERVICE_UNAVAILABLE']);
  expect(codes(ws.value)).toEqual(['SERVICE_UNAVAILABLE']);
  expect(codes(sseSingle.value)).toEqual(['SERVICE_UNAVAILABLE']);
  expect(codes(sseDistinct.value)).toEqual(['SERVICE_UNAVAILABLE']);
  expect(restList).toMatchObject({ status: 503, body: { error: 'SERVICE_UNAVAILABLE' } });
  expect(restCreate).toMatchObject({ status: 503, body: { error: 'SERVICE_UNAVAILABLE' } });
  const everything = JSON.stringify([http, httpMutation, ws, sseSingle, sseDistinct, restList, restCreate]);
  expect(everything).not.toContain('Unexpected error');

  // The probes never wait for the database.
  for (const [path, status] of [
    ['/health', 200],
    ['/ready', 503],
    ['/metrics', 200],
  ] as const) {
    const started = Date.now();
    const response = await fetch(`${service.url}${path}`);
    expect(response.status).toBe(status);
    expect(Date.now() - started).toBeLessThan(2_000);
  }
  expect(await (await fetch(`${service.url}/ready`)).json()).toMatchObject({ reason: /database/ });

  await proxy.open();
  await waitFor(async () => (await fetch(`${service.url}/ready`)).status === 200, { timeoutMs: 30_000 });
  // Nothing refused was written.
  expect(await database.sql(`SELECT * FROM orders`)).toEqual([]);
  expect(service.alive()).toBe(true);
  expect(service.survivedErrors()).toEqual([]);
}, 120_000);

test('operations sent while it starts (database late, migrations still to run) are held, then answered, on every transport', async () => {
  const database = await createTestDatabase();
  cleanups.push(() => database.drop());
  // An empty database: the migrations run inside the window too.
  await emptyDatabase(database);
  const { proxy, service } = await startWithDatabaseDown(database);
  const c = clients(service);

  expect((await fetch(`${service.url}/ready`)).status).toBe(503);
  const wsEvents = c.ws.iterate<any>({ query: SUBSCRIPTION });
  const sseSingleEvents = c.sseSingle.iterate<any>({ query: SUBSCRIPTION });
  const sseDistinctEvents = c.sseDistinct.iterate<any>({ query: SUBSCRIPTION });
  const wanted = (events: AsyncIterableIterator<any>) =>
    (async () => {
      for await (const event of events) {
        if (event.errors) return event;
        if (event.data.orderChanged.order.customerName === 'after start') return event;
      }
    })();
  const received = [wsEvents, sseSingleEvents, sseDistinctEvents].map(wanted);
  const held = Promise.all([
    c.http(CREATE('over http')),
    first(c.ws, CREATE('over ws')),
    c.rest('POST', { customer_name: 'over rest', product_name: 'p' }),
    c.http('{ orders { nodes { customerName } } }'),
  ]);
  // The database appears at once: what was sent is held for the migrations and the feed (a few
  // hundred ms), well within the 5 s hold.
  await proxy.open();
  // Clients that give up mid-request, as reconnecting ones do, must not disturb anything.
  const impatient = Array.from({ length: 5 }, async () => {
    for (const mode of [true, false]) {
      const client = createSseClient({
        url: `${service.url}/graphql/stream`,
        singleConnection: mode,
        retryAttempts: 0,
      });
      const events = client.iterate({ query: SUBSCRIPTION });
      void events.next().catch(() => {});
      await new Promise((r) => setTimeout(r, 50));
      await events.return?.();
      client.dispose();
    }
    await fetch(`${service.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ orders { changeCursor } }' }),
      signal: AbortSignal.timeout(50),
    }).catch(() => {});
  });

  await Promise.all(impatient);

  const [http, ws, rest, query] = await held;
  expect(http).toEqual({
    status: 200,
    body: { data: { createOrder: { customerName: 'over http', version: 1 } } },
  });
  expect(ws.value).toEqual({ data: { createOrder: { customerName: 'over ws', version: 1 } } });
  expect(rest).toMatchObject({ status: 201, body: { customer_name: 'over rest', version: 1 } });
  expect(query.status).toBe(200);
  expect(query.body.errors).toBeUndefined();

  // The held subscriptions started too: changes made now reach each of them (graphql-ws and SSE do
  // not say when a subscription is accepted, so write until each has one).
  let all = false;
  const arrived = Promise.all(received).finally(() => {
    all = true;
  });
  while (!all) {
    await database.sql(`INSERT INTO orders (customer_name, product_name) VALUES ('after start', 'p')`);
    await Promise.race([arrived, new Promise((r) => setTimeout(r, 300))]);
  }
  const events = await Promise.all(received);
  for (const event of events) {
    expect(event.errors).toBeUndefined();
    expect(event.data.orderChanged).toEqual({ operation: 'INSERT', order: { customerName: 'after start' } });
  }
  expect(JSON.stringify([http, ws, rest, query, events])).not.toContain('Unexpected error');
  expect(service.alive()).toBe(true);
  expect(service.survivedErrors()).toEqual([]);
}, 120_000);

test('an exception nobody catches and a rejection nobody handles are logged, and the process goes on serving', async () => {
  const database = await createTestDatabase();
  cleanups.push(() => database.drop());
  const service = await spawnService({ DATABASE_URL: database.url }, [
    '--import',
    './test/fixtures/stray-errors.ts',
  ]);
  cleanups.push(() => service.kill());
  await waitFor(async () => (await fetch(`${service.url}/ready`)).status === 200, { timeoutMs: 30_000 });
  service.child.kill('SIGUSR2');
  await waitFor(() => service.survivedErrors().length >= 2, { timeoutMs: 30_000, message: 'both logged' });
  const [exception, rejection] = service.survivedErrors().map((line) => JSON.parse(line));
  expect(exception).toMatchObject({ level: 50, msg: 'uncaught exception (survived)' });
  expect(exception.err.message).toBe('stray exception from an event emitter');
  expect(rejection).toMatchObject({ level: 50, msg: 'unhandled rejection (survived)' });
  expect(rejection.err.message).toBe('stray rejection nobody awaited');
  expect(service.alive()).toBe(true);
  const response = await fetch(`${service.url}/api/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ customer_name: 'still', product_name: 'up' }),
  });
  expect(response.status).toBe(201);
}, 120_000);
