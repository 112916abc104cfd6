import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { failInsertsNamedExplode } from './helpers/database.ts';
import { startTestService, type TestService } from './helpers/service.ts';

let service: TestService;
beforeAll(async () => {
  service = await startTestService();
});
afterAll(async () => {
  await service?.stop();
});

const ORDER = 'id customerName productName quantity status version createdAt updatedAt';

const CREATE = /* GraphQL */ `
  mutation ($input: CreateOrderInput!) { createOrder(input: $input) { ${ORDER} } }`;
const UPDATE = /* GraphQL */ `
  mutation ($id: ID!, $input: UpdateOrderInput!, $expectedVersion: Int) {
    updateOrder(id: $id, input: $input, expectedVersion: $expectedVersion) { ${ORDER} }
  }`;
const DELETE = /* GraphQL */ `mutation ($id: ID!) { deleteOrder(id: $id) { ${ORDER} } }`;
const GET = /* GraphQL */ `query ($id: ID!) { order(id: $id) { ${ORDER} } }`;
const LIST = /* GraphQL */ `
  query ($first: Int, $after: String, $status: OrderStatus) {
    orders(first: $first, after: $after, status: $status) {
      edges { cursor node { id customerName status } }
      pageInfo { hasNextPage endCursor }
      changeCursor
    }
  }`;

async function create(input: Record<string, unknown>) {
  const { data, errors } = await service.graphql(CREATE, { input });
  expect(errors).toBeUndefined();
  return data.createOrder;
}

/** The one error of a failed operation, checked for not leaking internals. */
async function errorOf(query: string, variables?: Record<string, unknown>) {
  const { data, errors } = await service.graphql(query, variables);
  expect(errors).toHaveLength(1);
  expect(JSON.stringify(errors)).not.toMatch(/stack| {4}at |node_modules|kysely|pg_/i);
  return { data, error: errors?.[0] };
}

describe('createOrder', () => {
  test('defaults quantity to 1 and status to PENDING, with version 1 and a decimal id', async () => {
    const order = await create({ customerName: 'John Doe', productName: 'Laptop' });
    expect(order).toMatchObject({
      customerName: 'John Doe',
      productName: 'Laptop',
      quantity: 1,
      status: 'PENDING',
    });
    expect(order.version).toBe(1);
    expect(order.id).toMatch(/^[1-9][0-9]*$/);
    expect(new Date(order.createdAt).toISOString()).toBe(order.createdAt);
    expect(order.updatedAt).toBe(order.createdAt);
  });

  test('stores the given quantity and status, and trims the names', async () => {
    const order = await create({
      customerName: '  Ann  ',
      productName: '\tPhone\n',
      quantity: 3,
      status: 'SHIPPED',
    });
    expect(order).toMatchObject({
      customerName: 'Ann',
      productName: 'Phone',
      quantity: 3,
      status: 'SHIPPED',
    });
    const [row] = await service.database.sql('SELECT customer_name, status FROM orders WHERE id = $1', [
      order.id,
    ]);
    expect(row).toEqual({ customer_name: 'Ann', status: 'shipped' });
  });

  test('accepts the limits themselves', async () => {
    const order = await create({
      customerName: 'c'.repeat(200),
      productName: `  ${'p'.repeat(200)}  `,
      quantity: 1_000_000,
    });
    expect(order.customerName).toHaveLength(200);
    expect(order.productName).toHaveLength(200);
    expect(order.quantity).toBe(1_000_000);
  });

  test.each([
    ['customerName', { customerName: '', productName: 'Laptop' }],
    ['customerName', { customerName: '   ', productName: 'Laptop' }],
    ['productName', { customerName: 'Ann', productName: 'x'.repeat(201) }],
    ['customerName', { customerName: ` ${'x'.repeat(201)} `, productName: 'Laptop' }],
    ['quantity', { customerName: 'Ann', productName: 'Laptop', quantity: 0 }],
    ['quantity', { customerName: 'Ann', productName: 'Laptop', quantity: -1 }],
    ['quantity', { customerName: 'Ann', productName: 'Laptop', quantity: 1_000_001 }],
    ['quantity', { customerName: 'Ann', productName: 'Laptop', quantity: null }],
    ['status', { customerName: 'Ann', productName: 'Laptop', status: null }],
  ])('refuses a bad %s with BAD_USER_INPUT naming it: %j', async (field, input) => {
    const before = await service.database.sql('SELECT count(*) FROM orders');
    const { data, error } = await errorOf(CREATE, { input });
    expect(data).toBeNull();
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(error.message).toContain(field);
    expect(await service.database.sql('SELECT count(*) FROM orders')).toEqual(before);
  });

  // These never reach a resolver: graphql-js refuses the variable, and the error still says which field.
  test.each([
    ['customerName', { customerName: null, productName: 'Laptop' }],
    ['productName', { customerName: 'Ann', productName: null }],
    ['productName', { customerName: 'Ann' }],
    ['status', { customerName: 'Ann', productName: 'Laptop', status: 'LOST' }],
    ['quantity', { customerName: 'Ann', productName: 'Laptop', quantity: 'many' }],
  ])('refuses a variable with a bad %s with BAD_USER_INPUT naming it: %j', async (field, input) => {
    const { error } = await errorOf(CREATE, { input });
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(error.message).toContain(field);
  });
});

describe('order', () => {
  test('returns the order by id', async () => {
    const created = await create({ customerName: 'Cy', productName: 'Lamp' });
    const { data, errors } = await service.graphql(GET, { id: created.id });
    expect(errors).toBeUndefined();
    expect(data.order).toEqual(created);
  });

  test('returns null for an id that does not exist', async () => {
    const { data, errors } = await service.graphql(GET, { id: '999999999' });
    expect(errors).toBeUndefined();
    expect(data).toEqual({ order: null });
  });

  test.each(['abc', '0', '-1', '1.5', '99999999999999999999'])('refuses the malformed id %s', async (id) => {
    const { error } = await errorOf(GET, { id });
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
  });
});

describe('orders', () => {
  let ids: string[];
  beforeAll(async () => {
    await service.database.sql('DELETE FROM orders');
    ids = [];
    for (const [i, status] of ['PENDING', 'SHIPPED', 'PENDING', 'DELIVERED', 'PENDING'].entries()) {
      ids.push((await create({ customerName: `List ${i}`, productName: 'Item', status })).id);
    }
  });

  test('pages through every order by ascending id with first/after', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    const pages: boolean[] = [];
    for (;;) {
      const { data, errors }: { data?: any; errors?: unknown } = await service.graphql(LIST, {
        first: 2,
        after,
      });
      expect(errors).toBeUndefined();
      const { edges, pageInfo, changeCursor }: { edges: any[]; pageInfo: any; changeCursor: string } =
        data.orders;
      expect(typeof changeCursor).toBe('string');
      expect(changeCursor.length).toBeGreaterThan(0);
      seen.push(...edges.map((e: any) => e.node.id));
      pages.push(pageInfo.hasNextPage);
      expect(pageInfo.endCursor).toBe(edges.at(-1)?.cursor ?? null);
      if (!pageInfo.hasNextPage) break;
      after = pageInfo.endCursor;
    }
    expect(seen).toEqual(ids);
    expect(pages).toEqual([true, true, false]);
  });

  test('defaults to a page of 50 and says there is no next page', async () => {
    const { data } = await service.graphql('{ orders { edges { node { id } } pageInfo { hasNextPage } } }');
    expect(data.orders.edges.map((e: any) => e.node.id)).toEqual(ids);
    expect(data.orders.pageInfo.hasNextPage).toBe(false);
  });

  test('filters by status', async () => {
    const { data } = await service.graphql(LIST, { status: 'PENDING' });
    expect(data.orders.edges.map((e: any) => e.node.id)).toEqual([ids[0], ids[2], ids[4]]);
    expect(data.orders.edges.every((e: any) => e.node.status === 'PENDING')).toBe(true);
    const page = await service.graphql(LIST, {
      status: 'PENDING',
      first: 1,
      after: data.orders.edges[0].cursor,
    });
    expect(page.data.orders.edges.map((e: any) => e.node.id)).toEqual([ids[2]]);
    expect(page.data.orders.pageInfo.hasNextPage).toBe(true);
    const none = await service.graphql(LIST, { status: 'CANCELLED' });
    expect(none.data.orders).toMatchObject({ edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
  });

  test.each([0, -1, 501])('refuses first: %d', async (first) => {
    const { error } = await errorOf(LIST, { first });
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
  });

  test('refuses an after that is not one of its cursors', async () => {
    const { error } = await errorOf(LIST, { after: 'not-a-cursor' });
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
  });
});

describe('updateOrder', () => {
  test('changes only the given fields and raises the version by one', async () => {
    const created = await create({ customerName: 'Dee', productName: 'Chair', quantity: 2 });
    const { data, errors } = await service.graphql(UPDATE, {
      id: created.id,
      input: { status: 'PROCESSING' },
    });
    expect(errors).toBeUndefined();
    expect(data.updateOrder).toMatchObject({
      ...created,
      status: 'PROCESSING',
      version: 2,
      updatedAt: expect.any(String),
    });
    expect(new Date(data.updateOrder.updatedAt) >= new Date(created.updatedAt)).toBe(true);
    const next = await service.graphql(UPDATE, {
      id: created.id,
      input: { quantity: 5, productName: ' Sofa ' },
      expectedVersion: 2,
    });
    expect(next.data.updateOrder).toMatchObject({
      customerName: 'Dee',
      productName: 'Sofa',
      quantity: 5,
      status: 'PROCESSING',
      version: 3,
    });
  });

  test('fails with CONFLICT when expectedVersion differs, and changes nothing', async () => {
    const created = await create({ customerName: 'Eve', productName: 'Desk' });
    const { data, error } = await errorOf(UPDATE, {
      id: created.id,
      input: { quantity: 9 },
      expectedVersion: 2,
    });
    expect(data).toBeNull();
    expect(error.extensions.code).toBe('CONFLICT');
    const after = await service.graphql(GET, { id: created.id });
    expect(after.data.order).toEqual(created);
  });

  test('fails with NOT_FOUND for a missing order, with or without expectedVersion', async () => {
    for (const expectedVersion of [undefined, 1]) {
      const { error } = await errorOf(UPDATE, { id: '987654321', input: { quantity: 2 }, expectedVersion });
      expect(error.extensions.code).toBe('NOT_FOUND');
    }
  });

  test.each([
    ['customerName', { customerName: '' }],
    ['productName', { productName: 'x'.repeat(201) }],
    ['quantity', { quantity: 0 }],
    ['quantity', { quantity: 1_000_001 }],
    ['customerName', { customerName: null }],
    ['status', { status: null }],
  ])('refuses a bad %s with BAD_USER_INPUT: %j', async (field, input) => {
    const created = await create({ customerName: 'Fay', productName: 'Bed' });
    const { error } = await errorOf(UPDATE, { id: created.id, input });
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect((await service.graphql(GET, { id: created.id })).data.order).toEqual(created);
  });

  test('refuses an empty input and a malformed id', async () => {
    const created = await create({ customerName: 'Gus', productName: 'Rug' });
    expect((await errorOf(UPDATE, { id: created.id, input: {} })).error.extensions.code).toBe(
      'BAD_USER_INPUT',
    );
    expect((await errorOf(UPDATE, { id: 'x', input: { quantity: 2 } })).error.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'id',
    });
  });
});

describe('deleteOrder', () => {
  test('returns the deleted order, after which it is gone', async () => {
    const created = await create({ customerName: 'Hal', productName: 'Clock' });
    const { data, errors } = await service.graphql(DELETE, { id: created.id });
    expect(errors).toBeUndefined();
    expect(data.deleteOrder).toEqual(created);
    expect((await service.graphql(GET, { id: created.id })).data).toEqual({ order: null });
    const again = await errorOf(DELETE, { id: created.id });
    expect(again.error.extensions.code).toBe('NOT_FOUND');
  });
});

describe('transport and errors', () => {
  test('an unexpected error is masked, without internals', async () => {
    const undo = await failInsertsNamedExplode(service.database);
    try {
      const { data, error } = await errorOf(CREATE, { input: { customerName: 'explode', productName: 'X' } });
      expect(data).toBeNull();
      expect(error.message).toBe('Unexpected error.');
      expect(JSON.stringify(error)).not.toContain('secret');
      expect(error.extensions?.code).not.toBe('BAD_USER_INPUT');
    } finally {
      await undo();
    }
  });

  test('queries work over GET; mutations over GET are refused', async () => {
    const created = await create({ customerName: 'Ida', productName: 'Vase' });
    const url = new URL(`${service.url}/graphql`);
    url.searchParams.set('query', 'query ($id: ID!) { order(id: $id) { id customerName } }');
    url.searchParams.set('variables', JSON.stringify({ id: created.id }));
    const response = await fetch(url, { headers: { accept: 'application/graphql-response+json' } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { order: { id: created.id, customerName: 'Ida' } } });

    const mutation = new URL(`${service.url}/graphql`);
    mutation.searchParams.set('query', `mutation { deleteOrder(id: "${created.id}") { id } }`);
    const refused = await fetch(mutation, { headers: { accept: 'application/graphql-response+json' } });
    expect(refused.status).toBe(405);
    expect((await service.graphql(GET, { id: created.id })).data.order.id).toBe(created.id);
  });

  test('a syntax error is reported as such', async () => {
    const response = await fetch(`${service.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query: '{ orders { ' }),
    });
    expect(response.status).toBe(400);
    const body = await response.json();
    expect(body.errors[0].extensions.code).toBe('GRAPHQL_PARSE_FAILED');
  });
});
