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

interface Sent {
  status: number;
  headers: Headers;
  body: any;
}

/** Sends like `curl -X METHOD URL -H 'Content-Type: application/json' -d BODY`. */
async function send(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Sent> {
  const response = await fetch(`${service.url}${path}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  return { status: response.status, headers: response.headers, body: JSON.parse(text) };
}

async function create(body: Record<string, unknown>) {
  const sent = await send('POST', '/api/orders', body);
  expect(sent.status).toBe(201);
  return sent.body;
}

const ORDER_KEYS = [
  'created_at',
  'customer_name',
  'id',
  'product_name',
  'quantity',
  'status',
  'updated_at',
  'version',
];

describe('POST /api/orders', () => {
  test('creates an order: 201, Location, the order in snake_case with defaults', async () => {
    const sent = await send('POST', '/api/orders', { customer_name: 'John Doe', product_name: 'Laptop' });
    expect(sent.status).toBe(201);
    expect(Object.keys(sent.body).sort()).toEqual(ORDER_KEYS);
    expect(sent.body).toMatchObject({
      customer_name: 'John Doe',
      product_name: 'Laptop',
      quantity: 1,
      status: 'pending',
      version: 1,
    });
    expect(sent.headers.get('location')).toBe(`/api/orders/${sent.body.id}`);
    expect(sent.body.created_at).toBe(new Date(sent.body.created_at).toISOString());
    const [row] = await service.database.sql('SELECT customer_name, status FROM orders WHERE id = $1', [
      sent.body.id,
    ]);
    expect(row).toEqual({ customer_name: 'John Doe', status: 'pending' });
  });

  test('takes quantity and status (any case), and trims names', async () => {
    const order = await create({
      customer_name: ' Ann ',
      product_name: 'Phone',
      quantity: 4,
      status: 'SHIPPED',
    });
    expect(order).toMatchObject({ customer_name: 'Ann', quantity: 4, status: 'shipped' });
  });

  test('reads a JSON body whatever its content type, as curl -d sends it', async () => {
    const response = await fetch(`${service.url}/api/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: '{"customer_name":"Bo","product_name":"Desk","quantity":2}',
    });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ customer_name: 'Bo', quantity: 2 });
  });

  test.each([
    ['customer_name', { product_name: 'Laptop' }],
    ['customer_name', { customer_name: '', product_name: 'Laptop' }],
    ['customer_name', { customer_name: null, product_name: 'Laptop' }],
    ['product_name', { customer_name: 'Ann', product_name: 'p'.repeat(201) }],
    ['quantity', { customer_name: 'Ann', product_name: 'Laptop', quantity: 0 }],
    ['quantity', { customer_name: 'Ann', product_name: 'Laptop', quantity: 1_000_001 }],
    ['quantity', { customer_name: 'Ann', product_name: 'Laptop', quantity: '3' }],
    ['quantity', { customer_name: 'Ann', product_name: 'Laptop', quantity: 1.5 }],
    ['status', { customer_name: 'Ann', product_name: 'Laptop', status: 'lost' }],
    ['colour', { customer_name: 'Ann', product_name: 'Laptop', colour: 'red' }],
  ])('400 naming %s for %j, storing nothing', async (field, body) => {
    const [before] = await service.database.sql('SELECT count(*) FROM orders');
    const sent = await send('POST', '/api/orders', body);
    expect(sent.status).toBe(400);
    expect(sent.body).toMatchObject({ error: 'BAD_USER_INPUT', field });
    expect(sent.body.message).toMatch(new RegExp(`^${field}: `));
    expect(sent.body.message).not.toMatch(/[a-z][A-Z]/); // no camelCase leaks into REST
    const [after] = await service.database.sql('SELECT count(*) FROM orders');
    expect(after).toEqual(before);
  });

  test.each(['{"customer_name": "Ann",', '', '[1, 2]', '"text"', 'null'])(
    '400 for the body %j',
    async (body) => {
      const sent = await send('POST', '/api/orders', body);
      expect(sent.status).toBe(400);
      expect(sent.body.error).toBe('BAD_USER_INPUT');
      expect(sent.body.message).toMatch(/JSON/);
    },
  );
});

describe('GET /api/orders', () => {
  let ids: number[];
  beforeAll(async () => {
    await service.database.sql('DELETE FROM orders');
    ids = [];
    for (const status of ['pending', 'shipped', 'pending', 'delivered']) {
      ids.push((await create({ customer_name: 'Lister', product_name: 'Thing', status })).id);
    }
  });

  test('lists orders as an array of snake_case orders, by ascending id', async () => {
    const sent = await send('GET', '/api/orders');
    expect(sent.status).toBe(200);
    expect(Array.isArray(sent.body)).toBe(true);
    expect(sent.body.map((o: any) => o.id)).toEqual(ids);
    expect(Object.keys(sent.body[0]).sort()).toEqual(ORDER_KEYS);
    expect(sent.body.map((o: any) => o.status)).toEqual(['pending', 'shipped', 'pending', 'delivered']);
    expect(sent.headers.get('link')).toBeNull();
  });

  test('filters with ?status= (any case)', async () => {
    expect((await send('GET', '/api/orders?status=pending')).body.map((o: any) => o.id)).toEqual([
      ids[0],
      ids[2],
    ]);
    expect((await send('GET', '/api/orders?status=SHIPPED')).body.map((o: any) => o.id)).toEqual([ids[1]]);
    expect((await send('GET', '/api/orders?status=cancelled')).body).toEqual([]);
  });

  test('limits with ?limit= and links to the next page', async () => {
    const first = await send('GET', '/api/orders?limit=3');
    expect(first.body.map((o: any) => o.id)).toEqual(ids.slice(0, 3));
    const next = /^<([^>]+)>; rel="next"$/.exec(first.headers.get('link') ?? '')?.[1];
    expect(next).toBeDefined();
    const second = await send('GET', next as string);
    expect(second.body.map((o: any) => o.id)).toEqual(ids.slice(3));
    expect(second.headers.get('link')).toBeNull();
  });

  test.each([
    ['limit', 'limit=0'],
    ['limit', 'limit=abc'],
    ['limit', 'limit=501'],
    ['status', 'status=lost'],
    ['after_id', 'after_id=x'],
  ])('400 naming %s for ?%s', async (field, query) => {
    const sent = await send('GET', `/api/orders?${query}`);
    expect(sent.status).toBe(400);
    expect(sent.body).toMatchObject({ error: 'BAD_USER_INPUT', field });
  });
});

describe('GET /api/orders/:id', () => {
  test('200 with the order', async () => {
    const created = await create({ customer_name: 'Cy', product_name: 'Lamp' });
    const sent = await send('GET', `/api/orders/${created.id}`);
    expect(sent.status).toBe(200);
    expect(sent.body).toEqual(created);
  });

  test('404 for a missing order, 400 for a malformed id', async () => {
    const missing = await send('GET', '/api/orders/987654321');
    expect(missing.status).toBe(404);
    expect(missing.body.error).toBe('NOT_FOUND');
    const malformed = await send('GET', '/api/orders/abc');
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({ error: 'BAD_USER_INPUT', field: 'id' });
  });
});

describe('PUT /api/orders/:id', () => {
  test('200 with the updated order; only the given fields change; version + 1', async () => {
    const created = await create({ customer_name: 'Dee', product_name: 'Chair', quantity: 2 });
    const sent = await send('PUT', `/api/orders/${created.id}`, { status: 'shipped' });
    expect(sent.status).toBe(200);
    expect(sent.body).toMatchObject({
      ...created,
      status: 'shipped',
      version: 2,
      updated_at: expect.any(String),
    });
    const full = await send('PUT', `/api/orders/${created.id}`, {
      customer_name: 'Dee Dee',
      product_name: 'Sofa',
      quantity: 3,
      status: 'delivered',
    });
    expect(full.body).toMatchObject({
      customer_name: 'Dee Dee',
      product_name: 'Sofa',
      quantity: 3,
      version: 3,
    });
  });

  test('accepts back what GET returned (read-only fields are ignored)', async () => {
    const created = await create({ customer_name: 'Eli', product_name: 'Pen' });
    const sent = await send('PUT', `/api/orders/${created.id}`, { ...created, quantity: 8, version: 40 });
    expect(sent.status).toBe(200);
    expect(sent.body).toMatchObject({
      id: created.id,
      quantity: 8,
      version: 2,
      created_at: created.created_at,
    });
  });

  test('409 when expected_version or If-Match differs, and nothing changes', async () => {
    const created = await create({ customer_name: 'Eve', product_name: 'Desk' });
    const body = await send('PUT', `/api/orders/${created.id}`, { quantity: 9, expected_version: 2 });
    expect(body.status).toBe(409);
    expect(body.body.error).toBe('CONFLICT');
    const header = await send('PUT', `/api/orders/${created.id}`, { quantity: 9 }, { 'if-match': '"7"' });
    expect(header.status).toBe(409);
    expect((await send('GET', `/api/orders/${created.id}`)).body).toEqual(created);
    const matching = await send('PUT', `/api/orders/${created.id}`, { quantity: 9 }, { 'if-match': '"1"' });
    expect(matching.status).toBe(200);
    expect(matching.body.version).toBe(2);
  });

  test('404 for a missing order; 400 for bad input', async () => {
    expect((await send('PUT', '/api/orders/987654321', { quantity: 2 })).status).toBe(404);
    const created = await create({ customer_name: 'Fay', product_name: 'Bed' });
    const bad = await send('PUT', `/api/orders/${created.id}`, { quantity: 0 });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: 'BAD_USER_INPUT', field: 'quantity' });
    const empty = await send('PUT', `/api/orders/${created.id}`, {});
    expect(empty.status).toBe(400);
    expect((await send('PUT', `/api/orders/${created.id}`, 'nope')).status).toBe(400);
    expect((await send('GET', `/api/orders/${created.id}`)).body).toEqual(created);
  });
});

describe('DELETE /api/orders/:id', () => {
  test('200 with the deleted order, then 404', async () => {
    const created = await create({ customer_name: 'Hal', product_name: 'Clock' });
    const sent = await send('DELETE', `/api/orders/${created.id}`);
    expect(sent.status).toBe(200);
    expect(sent.body).toEqual(created);
    expect((await send('GET', `/api/orders/${created.id}`)).status).toBe(404);
    expect((await send('DELETE', `/api/orders/${created.id}`)).status).toBe(404);
  });

  test('409 when If-Match differs', async () => {
    const created = await create({ customer_name: 'Ivy', product_name: 'Mug' });
    expect((await send('DELETE', `/api/orders/${created.id}`, undefined, { 'if-match': '"3"' })).status).toBe(
      409,
    );
    expect((await send('GET', `/api/orders/${created.id}`)).status).toBe(200);
  });
});

test('other methods get 405 with Allow', async () => {
  const sent = await send('PATCH', '/api/orders');
  expect(sent.status).toBe(405);
  expect(sent.headers.get('allow')).toBe('GET, POST');
});

test('an unexpected error is a 500 without internals', async () => {
  const undo = await failInsertsNamedExplode(service.database);
  try {
    const sent = await send('POST', '/api/orders', { customer_name: 'explode', product_name: 'X' });
    expect(sent.status).toBe(500);
    expect(sent.body).toEqual({ error: 'INTERNAL_SERVER_ERROR', message: 'Unexpected error.' });
  } finally {
    await undo();
  }
});
