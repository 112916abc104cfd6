import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { onMysql } from '../helpers/backend-under-test.ts';
import type { TestService } from '../helpers/service.ts';
import { waitFor } from '../helpers/wait.ts';
import { call, collect, failure, gql, sseClient, startAuthService } from './harness.ts';
import { mint, unsigned } from './tokens.ts';

let service: TestService;
let writer: string;
let reader: string;
let admin: string;
beforeAll(async () => {
  service = await startAuthService();
  writer = await mint({ role: 'writer', sub: 'alice' });
  reader = await mint({ role: 'reader', sub: 'rita' });
  admin = await mint({ role: 'admin' });
});
afterAll(async () => {
  await service?.stop();
});

const ORDERS = '{ orders(first: 5) { changeCursor nodes { id } } }';
const CREATE = `mutation ($input: CreateOrderInput!) { createOrder(input: $input) { id customerName } }`;

const badTokens = async (): Promise<[string, string | undefined][]> => [
  ['no token', undefined],
  ['a malformed token', 'abc'],
  ['an expired token', await mint({ role: 'writer' }, { ttl: -5 })],
  ['alg none', unsigned({ role: 'writer' })],
];

describe('GraphQL over HTTP', () => {
  test('POST and GET without a valid token: 401 UNAUTHENTICATED, and nothing runs', async () => {
    for (const [name, token] of await badTokens()) {
      const post = await gql(service, token, CREATE, { input: { customerName: 'X', productName: name } });
      expect([name, post.status, post.json.errors[0].extensions.code]).toEqual([
        name,
        401,
        'UNAUTHENTICATED',
      ]);
      expect(post.headers.get('www-authenticate')).toBe('Bearer');
      expect(post.json.data).toBeUndefined();
      const get = await call(service, `/graphql?query=${encodeURIComponent(ORDERS)}`, { token });
      expect([name, get.status, get.json.errors[0].extensions.code]).toEqual([name, 401, 'UNAUTHENTICATED']);
    }
    const [count] = await service.database.sql<{ n: string | number }>('SELECT count(*) AS n FROM orders');
    expect(Number(count?.n)).toBe(0);
  });

  test('a role other than reader, writer or customer: 403 FORBIDDEN for everything', async () => {
    const post = await gql(service, admin, ORDERS);
    expect([post.status, post.json.errors[0].extensions.code]).toEqual([403, 'FORBIDDEN']);
    const noRole = await gql(service, await mint({}), ORDERS);
    expect([noRole.status, noRole.json.errors[0].extensions.code]).toEqual([403, 'FORBIDDEN']);
  });

  test('a reader queries (POST and GET) but may not write: FORBIDDEN', async () => {
    const post = await gql(service, reader, ORDERS);
    expect([post.status, post.json.errors]).toEqual([200, undefined]);
    const get = await call(service, `/graphql?query=${encodeURIComponent(ORDERS)}`, { token: reader });
    expect([get.status, get.json.errors]).toEqual([200, undefined]);
    const write = await gql(service, reader, CREATE, { input: { customerName: 'R', productName: 'P' } });
    expect(write.json.errors[0].extensions.code).toBe('FORBIDDEN');
    expect(write.json.data).toBeNull();
  });

  test("a writer writes, and changedBy names the token's subject; other sessions keep theirs", async () => {
    const created = await gql(service, writer, CREATE, { input: { customerName: 'W', productName: 'P' } });
    const { id } = created.json.data.createOrder;
    // MySQL has no application name: another session is named by its user alone.
    await service.database.sql(
      `${onMysql ? '' : "SET application_name = 'psql'; "}UPDATE orders SET quantity = 2 WHERE id = ${Number(id)}`,
    );
    await gql(
      service,
      await mint({ role: 'writer', sub: 'bob' }),
      'mutation ($id: ID!) { deleteOrder(id: $id) { id } }',
      { id },
    );
    // History shows a change once a tick holds it, a few milliseconds after its commit.
    const history = await waitFor(async () => {
      const { json } = await gql(
        service,
        reader,
        'query ($ids: [ID!]) { orderChanges(where: { ids: $ids }) { operation changedBy } }',
        { ids: [id] },
      );
      return json.data.orderChanges.length === 3 && json.data.orderChanges;
    });
    const user = new URL(service.database.url).username;
    expect(history).toEqual([
      { operation: 'INSERT', changedBy: 'api:alice' },
      { operation: 'UPDATE', changedBy: onMysql ? user : `psql as ${user}` },
      { operation: 'DELETE', changedBy: 'api:bob' },
    ]);
  });

  test('GraphiQL opens without a token (the token goes in its headers editor); health, metrics, dashboard too', async () => {
    const page = await call(service, '/graphql', { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.text).toMatch(/GraphiQL|graphiql/);
    for (const path of ['/health', '/ready', '/metrics', '/']) {
      expect([path, (await call(service, path)).status]).toEqual([path, 200]);
    }
  });
});

describe('REST', () => {
  test('without a valid token: 401 {"error": "UNAUTHENTICATED"}', async () => {
    for (const [name, token] of await badTokens()) {
      for (const [method, path] of [
        ['GET', '/api/orders'],
        ['POST', '/api/orders'],
        ['GET', '/api/orders/1'],
        ['PUT', '/api/orders/1'],
        ['DELETE', '/api/orders/1'],
      ] as const) {
        const body =
          method === 'POST' || method === 'PUT' ? { customer_name: 'X', product_name: 'Y' } : undefined;
        const response = await call(service, path, { method, token, body });
        expect([name, method, path, response.status, response.json.error]).toEqual([
          name,
          method,
          path,
          401,
          'UNAUTHENTICATED',
        ]);
      }
    }
  });

  test('other roles 403; a reader reads (200) and may not write (403)', async () => {
    expect((await call(service, '/api/orders', { token: admin })).status).toBe(403);
    expect((await call(service, '/api/orders', { token: reader })).status).toBe(200);
    const created = await call(service, '/api/orders', {
      method: 'POST',
      token: writer,
      body: { customer_name: 'Rest', product_name: 'Thing' },
    });
    expect(created.status).toBe(201);
    const path = `/api/orders/${created.json.id}`;
    expect((await call(service, path, { token: reader })).json).toMatchObject({ customer_name: 'Rest' });
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const target = method === 'POST' ? '/api/orders' : path;
      const body = method === 'DELETE' ? undefined : { customer_name: 'R', product_name: 'W' };
      const response = await call(service, target, { method, token: reader, body });
      expect([method, response.status, response.json.error]).toEqual([method, 403, 'FORBIDDEN']);
    }
    expect((await call(service, path, { token: reader })).json.version).toBe(1);
  });
});

describe('GraphQL over SSE', () => {
  for (const single of [true, false]) {
    const mode = single ? 'single connection' : 'distinct connections';
    test(`${mode}: refused without a valid token (401), or with another role (403)`, async () => {
      for (const [, token] of await badTokens()) {
        const client = sseClient(service, token, single);
        const error = await failure(client.iterate({ query: ORDERS }));
        expect(String(error)).toMatch(/401/);
        client.dispose();
      }
      const client = sseClient(service, admin, single);
      expect(String(await failure(client.iterate({ query: ORDERS })))).toMatch(/403/);
      client.dispose();
    });

    test(`${mode}: a reader subscribes and queries, and may not write`, async () => {
      const client = sseClient(service, reader, single);
      try {
        const [snapshot] = await collect(client.iterate({ query: ORDERS }));
        expect(snapshot?.errors).toBeUndefined();
        const [write] = await collect(
          client.iterate({ query: CREATE, variables: { input: { customerName: 'S', productName: 'P' } } }),
        );
        expect(write?.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
        const events = client.iterate({
          query: 'subscription ($after: String) { orderChanged(after: $after) { order { productName } } }',
          variables: { after: snapshot?.data.orders.changeCursor },
        });
        await gql(service, writer, CREATE, { input: { customerName: 'S', productName: mode } });
        const { value } = await events.next();
        expect(value.data.orderChanged.order.productName).toBe(mode);
        await events.return?.();
      } finally {
        client.dispose();
      }
    });
  }
});

describe('a subscription over SSE ends when its token expires', () => {
  for (const single of [true, false]) {
    test(single ? 'single connection mode' : 'distinct connections mode', async () => {
      const client = sseClient(service, await mint({ role: 'reader' }, { ttl: 2 }), single);
      try {
        const events = client.iterate<any>({
          query: 'subscription { orderChanged { order { productName } } }',
        });
        const first = events.next();
        await new Promise((r) => setTimeout(r, 300));
        await gql(service, writer, CREATE, { input: { customerName: 'S', productName: 'before expiry' } });
        expect((await first).value.data.orderChanged.order.productName).toBe('before expiry');
        const started = Date.now();
        const end = await events.next().then(
          (result) => result,
          (error) => ({ error }),
        );
        expect(JSON.stringify(end)).toMatch(/UNAUTHENTICATED|expired/);
        expect(Date.now() - started).toBeLessThan(10_000);
      } finally {
        client.dispose();
      }
    });
  }
});

describe('CORS_ORIGINS, default with auth on: the server’s own origin only', () => {
  const preflight = (origin: string) =>
    call(service, '/graphql', {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });

  test('another origin gets no CORS permission; the own origin does', async () => {
    const other = await preflight('https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const rest = await call(service, '/api/orders', {
      token: reader,
      headers: { origin: 'https://evil.example' },
    });
    expect(rest.headers.get('access-control-allow-origin')).toBeNull();
    const own = await preflight(service.url);
    expect(own.headers.get('access-control-allow-origin')).toBe(service.url);
    expect(own.headers.get('access-control-allow-headers')).toMatch(/authorization/);
  });
});
