import { fetchExchange, subscriptionExchange, Client as UrqlClient } from '@urql/core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TestService } from '../helpers/service.ts';
import { waitFor } from '../helpers/wait.ts';
import { call, collect, gql, sseClient, startAuthService, wsClient } from './harness.ts';
import { mint } from './tokens.ts';

let service: TestService;
let writer: string;
let ann: string;
let annOrder: string;
let bobOrder: string;
beforeAll(async () => {
  service = await startAuthService();
  writer = await mint({ role: 'writer', sub: 'ops' });
  ann = await mint({ role: 'customer', customer: 'Ann', sub: 'ann' });
  annOrder = await create('Ann', 'ann-1');
  bobOrder = await create('Bob', 'bob-1');
});
afterAll(async () => {
  await service?.stop();
});

async function create(customerName: string, productName: string): Promise<string> {
  const { json } = await gql(
    service,
    writer,
    'mutation ($i: CreateOrderInput!) { createOrder(input: $i) { id } }',
    {
      i: { customerName, productName },
    },
  );
  return json.data.createOrder.id;
}

const MISSING = '999999';
const ORDER = 'query ($id: ID!) { order(id: $id) { id customerName } }';
const UPDATE =
  'mutation ($id: ID!, $i: UpdateOrderInput!) { updateOrder(id: $id, input: $i) { id customerName version } }';
const DELETE = 'mutation ($id: ID!) { deleteOrder(id: $id) { id } }';
const CHANGES = `subscription ($where: OrderChangeFilter, $after: String) {
  orderChanged(where: $where, after: $after) { cursor operation order { productName customerName } previous { customerName } }
}`;

/** What a customer may not distinguish: the error for someone else's order, with the id masked. */
const shape = (body: any) => JSON.parse(JSON.stringify(body).replaceAll(/\b\d+\b/g, '0'));

describe('queries and mutations (HTTP)', () => {
  test("order: its own; anyone else's exactly as a missing one (null)", async () => {
    expect((await gql(service, ann, ORDER, { id: annOrder })).json.data.order).toEqual({
      id: annOrder,
      customerName: 'Ann',
    });
    const others = await gql(service, ann, ORDER, { id: bobOrder });
    expect(others.json).toEqual({ data: { order: null } });
    expect(others.json).toEqual((await gql(service, ann, ORDER, { id: MISSING })).json);
  });

  test('orders and orderChanges: only its own', async () => {
    const page = await gql(service, ann, '{ orders { nodes { customerName } } }');
    expect(page.json.data.orders.nodes).toEqual([{ customerName: 'Ann' }]);
    const history = await waitFor(async () => {
      const { json } = await gql(service, writer, '{ orderChanges { order { id } } }');
      return json.data.orderChanges.length >= 2;
    });
    expect(history).toBe(true);
    for (const where of [null, { operations: ['INSERT'] }, { ids: [annOrder, bobOrder] }]) {
      const { json } = await gql(
        service,
        ann,
        'query ($w: OrderChangeFilter) { orderChanges(where: $w) { order { customerName } } }',
        { w: where },
      );
      expect(json.data.orderChanges).toEqual([{ order: { customerName: 'Ann' } }]);
    }
  });

  test('creates only for itself; updates and deletes only its own; never changes customerName', async () => {
    const forBob = await gql(
      service,
      ann,
      'mutation { createOrder(input: { customerName: "Bob", productName: "x" }) { id } }',
    );
    expect(forBob.json.errors[0].extensions.code).toBe('FORBIDDEN');
    const own = await gql(
      service,
      ann,
      'mutation { createOrder(input: { customerName: "Ann", productName: "mine" }) { id customerName } }',
    );
    expect(own.json.data.createOrder.customerName).toBe('Ann');

    const rename = await gql(service, ann, UPDATE, { id: annOrder, i: { customerName: 'Bob' } });
    expect(rename.json.errors[0].extensions.code).toBe('FORBIDDEN');
    const same = await gql(service, ann, UPDATE, { id: annOrder, i: { customerName: 'Ann', quantity: 3 } });
    expect(same.json.data.updateOrder).toMatchObject({ customerName: 'Ann', version: 2 });

    for (const [query, variables] of [
      [UPDATE, { i: { quantity: 5 } }],
      [DELETE, {}],
    ] as const) {
      const others = await gql(service, ann, query, { ...variables, id: bobOrder });
      const missing = await gql(service, ann, query, { ...variables, id: MISSING });
      expect(others.json.errors[0].extensions.code).toBe('NOT_FOUND');
      expect(shape(others.json)).toEqual(shape(missing.json));
    }
    const bob = await gql(service, writer, ORDER, { id: bobOrder });
    expect(bob.json.data.order).toEqual({ id: bobOrder, customerName: 'Bob' });
  });
});

describe('REST', () => {
  test('list, get, create, update, delete within its own orders; others 404 like missing ones', async () => {
    const list = await call(service, '/api/orders?limit=500', { token: ann });
    expect(new Set(list.json.map((o: any) => o.customer_name))).toEqual(new Set(['Ann']));
    const others = await call(service, `/api/orders/${bobOrder}`, { token: ann });
    expect([others.status, shape(others.json)]).toEqual([
      404,
      shape((await call(service, `/api/orders/${MISSING}`, { token: ann })).json),
    ]);

    const omitted = await call(service, '/api/orders', {
      method: 'POST',
      token: ann,
      body: { product_name: 'rest' },
    });
    expect([omitted.status, omitted.json.customer_name]).toEqual([201, 'Ann']);
    const forBob = await call(service, '/api/orders', {
      method: 'POST',
      token: ann,
      body: { customer_name: 'Bob', product_name: 'x' },
    });
    expect([forBob.status, forBob.json.error]).toEqual([403, 'FORBIDDEN']);
    const rename = await call(service, `/api/orders/${omitted.json.id}`, {
      method: 'PUT',
      token: ann,
      body: { customer_name: 'Bob' },
    });
    expect([rename.status, rename.json.error]).toEqual([403, 'FORBIDDEN']);
    for (const method of ['PUT', 'DELETE']) {
      const body = method === 'PUT' ? { quantity: 9 } : undefined;
      const response = await call(service, `/api/orders/${bobOrder}`, { method, token: ann, body });
      expect([method, response.status, response.json.error]).toEqual([method, 404, 'NOT_FOUND']);
    }
    const deleted = await call(service, `/api/orders/${omitted.json.id}`, { method: 'DELETE', token: ann });
    expect(deleted.status).toBe(200);
  });
});

/**
 * Writes by someone else: one order of Ann's and one of Bob's each created, updated, moved to the
 * other customer and deleted. Returns what Ann must receive, in order.
 */
async function workload(tag: string): Promise<string[]> {
  const a = await create('Ann', `${tag}:a`);
  const b = await create('Bob', `${tag}:b`);
  await gql(service, writer, UPDATE, { id: b, i: { quantity: 2 } });
  await gql(service, writer, UPDATE, { id: a, i: { quantity: 2 } });
  await gql(service, writer, UPDATE, { id: b, i: { customerName: 'Ann' } }); // Bob → Ann
  await gql(service, writer, UPDATE, { id: a, i: { customerName: 'Bob' } }); // Ann → Bob
  await gql(service, writer, UPDATE, { id: a, i: { quantity: 3 } }); // Bob's now
  await gql(service, writer, DELETE, { id: b }); // Ann's now
  await gql(service, writer, DELETE, { id: a });
  return [
    `INSERT ${tag}:a Ann`,
    `UPDATE ${tag}:a Ann`,
    `UPDATE ${tag}:b Ann<-Bob`,
    `UPDATE ${tag}:a Bob<-Ann`,
    `DELETE ${tag}:b Ann`,
  ];
}

const describeChange = (c: any) =>
  `${c.operation} ${c.order.productName} ${c.order.customerName}${
    c.previous && c.previous.customerName !== c.order.customerName ? `<-${c.previous.customerName}` : ''
  }`;

async function snapshotCursor(): Promise<string> {
  return (await gql(service, ann, '{ orders(first: 1) { changeCursor } }')).json.data.orders.changeCursor;
}

describe('orderChanged: only changes to orders that were its own before or after', () => {
  test('graphql-ws, with and without a filter', async () => {
    const { client } = wsClient(service, ann, 'headers');
    try {
      const after = await snapshotCursor();
      const plain = client.iterate<any>({ query: CHANGES, variables: { after } });
      const filtered = client.iterate<any>({
        query: CHANGES,
        variables: { after, where: { operations: ['UPDATE'] } },
      });
      const expected = await workload('ws');
      const got = (await collect(plain, expected.length)).map((r) => describeChange(r.data.orderChanged));
      expect(got).toEqual(expected);
      const updates = (await collect(filtered, 3)).map((r) => describeChange(r.data.orderChanged));
      expect(updates).toEqual(expected.filter((line) => line.startsWith('UPDATE')));
      // Nothing else arrives: a marker change of Ann's comes next, not anything of Bob's.
      await create('Bob', 'ws:bob-after');
      await create('Ann', 'ws:ann-after');
      expect(describeChange((await plain.next()).value.data.orderChanged)).toBe('INSERT ws:ann-after Ann');
      await plain.return?.();
      await filtered.return?.();
    } finally {
      await client.dispose();
    }
  });

  for (const single of [true, false]) {
    test(`graphql-sse, ${single ? 'single connection' : 'distinct connections'} mode`, async () => {
      const client = sseClient(service, ann, single);
      try {
        const events = client.iterate<any>({ query: CHANGES, variables: { after: await snapshotCursor() } });
        const tag = single ? 'sse1' : 'sse2';
        const expected = await workload(tag);
        await create('Ann', `${tag}:end`);
        const got = (await collect(events, expected.length + 1)).map((r) =>
          describeChange(r.data.orderChanged),
        );
        expect(got).toEqual([...expected, `INSERT ${tag}:end Ann`]);
      } finally {
        client.dispose();
      }
    });
  }

  test('urql, with the token on fetch and on graphql-ws', async () => {
    const { client: ws } = wsClient(service, ann);
    const client = new UrqlClient({
      url: `${service.url}/graphql`,
      fetchOptions: { headers: { authorization: `Bearer ${ann}` } },
      exchanges: [
        subscriptionExchange({
          forwardSubscription: (request) => ({
            subscribe: (sink) => ({
              unsubscribe: ws.subscribe({ ...request, query: request.query ?? '' }, sink),
            }),
          }),
        }),
        fetchExchange,
      ],
    });
    try {
      const snapshot = await client
        .query('{ orders(first: 500) { changeCursor nodes { customerName } } }', {})
        .toPromise();
      expect(snapshot.error).toBeUndefined();
      expect(new Set(snapshot.data.orders.nodes.map((o: any) => o.customerName))).toEqual(new Set(['Ann']));
      const received: string[] = [];
      const subscription = client
        .subscription(CHANGES, { after: snapshot.data.orders.changeCursor })
        .subscribe((result) => result.data && received.push(describeChange(result.data.orderChanged)));
      const expected = await workload('urql');
      await waitFor(() => received.length >= expected.length);
      subscription.unsubscribe();
      expect(received).toEqual(expected);
    } finally {
      await ws.dispose();
    }
  });
});
