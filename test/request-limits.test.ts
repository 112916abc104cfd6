import { connect, type Socket } from 'node:net';
import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { startTestService, type TestService } from './helpers/service.ts';
import { waitFor } from './helpers/wait.ts';

const MiB = 1 << 20;
const MAX_SUBSCRIPTIONS = 3;

let service: TestService;
beforeAll(async () => {
  service = await startTestService({ maxSubscriptionsPerConnection: MAX_SUBSCRIPTIONS });
});
afterAll(async () => {
  await service?.stop();
});

const count = async () => Number((await service.database.sql('SELECT count(*) AS n FROM orders'))[0]?.n);

const BODY_PATHS = [
  ['POST', '/graphql'],
  ['POST', '/graphql/stream'],
  ['POST', '/api/orders'],
  ['PUT', '/api/orders/1'],
] as const;

/** A raw HTTP/1.1 exchange: sends `head`, then whatever `body` writes, and collects the answer. */
function rawRequest(head: string, body: (socket: Socket) => void) {
  const url = new URL(service.url);
  const socket = connect(Number(url.port), url.hostname);
  let received = '';
  socket.on('data', (chunk) => {
    received += chunk.toString('latin1');
  });
  socket.on('error', () => {}); // a reset after the answer is fine; the answer is what counts
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write(head);
  body(socket);
  return { socket, closed, received: () => received };
}

function statusOf(answer: string): number | undefined {
  const status = /^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1];
  return status === undefined ? undefined : Number(status);
}

const bodyOf = (answer: string) => JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));

describe('HTTP bodies over 1 MiB: 413 before they are parsed', () => {
  test.each(BODY_PATHS)(
    '%s %s: a declared Content-Length of 5 MB is answered at once, without sending it',
    async (method, path) => {
      const exchange = rawRequest(
        `${method} ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${5 * 1024 * 1024}\r\n\r\n`,
        (socket) => socket.write('{"query": "'),
      );
      // Not one more byte is sent: the answer cannot wait for the body.
      await waitFor(() => statusOf(exchange.received()), { message: 'an answer' });
      expect(statusOf(exchange.received())).toBe(413);
      await exchange.closed; // and the connection is not kept for the rest of the body
      const body = bodyOf(exchange.received());
      if (path.startsWith('/graphql')) {
        expect(body.errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
      } else {
        expect(body.error).toBe('PAYLOAD_TOO_LARGE');
      }
    },
  );

  test.each(BODY_PATHS)(
    '%s %s: a chunked body is counted as it streams: 413 once past 1 MiB, without its end',
    async (method, path) => {
      const before = await count();
      const chunk = Buffer.alloc(64 * 1024, ' ');
      const exchange = rawRequest(
        `${method} ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
        (socket) => {
          // 1 MiB + 64 KiB of chunks, and never the terminating chunk.
          for (let sent = 0; sent <= MiB; sent += chunk.length) {
            socket.write(`${chunk.length.toString(16)}\r\n`);
            socket.write(chunk);
            socket.write('\r\n');
          }
        },
      );
      await waitFor(() => statusOf(exchange.received()), { message: 'an answer' });
      expect(statusOf(exchange.received())).toBe(413);
      await exchange.closed;
      expect(await count()).toBe(before);
    },
  );

  test('Expect: 100-continue is answered 413 at once for a body over the limit, 100 for one within', async () => {
    const head = (length: number) =>
      `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAccept: application/json\r\nExpect: 100-continue\r\nContent-Length: ${length}\r\n\r\n`;
    const big = rawRequest(head(5 * MiB), () => {});
    await waitFor(() => statusOf(big.received()), { message: 'an answer' });
    expect(statusOf(big.received())).toBe(413); // and no "100 Continue" before it
    await big.closed;

    const body = JSON.stringify({ query: '{ orders(first: 1) { changeCursor } }' });
    const small = rawRequest(head(Buffer.byteLength(body)), () => {});
    await waitFor(() => statusOf(small.received()), { message: '100 Continue' });
    expect(statusOf(small.received())).toBe(100);
    small.socket.write(body);
    await waitFor(() => small.received().includes('changeCursor'), { message: 'the result' });
    expect(small.received()).toMatch(/HTTP\/1\.1 200/);
    small.socket.destroy();
  });

  test('a client that gives up in the middle of a chunked body breaks nothing', async () => {
    for (const path of ['/graphql', '/api/orders']) {
      const exchange = rawRequest(
        `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
        (socket) => socket.write('5\r\n{"que\r\n'),
      );
      await new Promise((r) => setTimeout(r, 100));
      exchange.socket.destroy();
      await exchange.closed;
    }
    expect((await fetch(`${service.url}/health`)).status).toBe(200);
    expect((await service.graphql('{ orders(first: 1) { changeCursor } }')).errors).toBeUndefined();
  });

  test('REST draws its own line lower: a 100 KiB order body is 413 too', async () => {
    const response = await fetch(`${service.url}/api/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ customer_name: 'Ann', product_name: 'x'.repeat(100 * 1024) }),
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: 'PAYLOAD_TOO_LARGE' });
  });

  test('fetch with a 5 MB body gets the 413 with its code, on GraphQL, SSE and REST', async () => {
    const big = JSON.stringify({ query: '{ orders { changeCursor } }', variables: { pad: 'x'.repeat(5e6) } });
    for (const [method, path] of BODY_PATHS) {
      const response = await fetch(`${service.url}${path}`, {
        method,
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: big,
      });
      expect(response.status, `${method} ${path}`).toBe(413);
      expect(JSON.stringify(await response.json())).toMatch(/PAYLOAD_TOO_LARGE/);
    }
  });

  test('bodies within the limit still work, with a Content-Length and chunked', async () => {
    const padded = JSON.stringify({
      query: '{ orders(first: 1) { changeCursor } }',
      variables: { pad: 'x'.repeat(MiB - 200) },
    });
    expect(Buffer.byteLength(padded)).toBeLessThanOrEqual(MiB);
    const plain = await fetch(`${service.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: padded,
    });
    expect(plain.status).toBe(200);
    expect((await plain.json()).data.orders.changeCursor).toEqual(expect.any(String));

    const chunked = (text: string) =>
      new ReadableStream({
        start(controller) {
          const bytes = new TextEncoder().encode(text);
          for (let i = 0; i < bytes.length; i += 10_000) controller.enqueue(bytes.slice(i, i + 10_000));
          controller.close();
        },
      });
    const streamed = await fetch(`${service.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: chunked(padded),
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(200);
    expect((await streamed.json()).data.orders.changeCursor).toEqual(expect.any(String));

    const created = await fetch(`${service.url}/api/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: chunked(JSON.stringify({ customer_name: 'Chunky', product_name: 'Bacon' })),
      duplex: 'half',
    } as RequestInit);
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ customer_name: 'Chunky', product_name: 'Bacon' });
  });
});

describe('WebSocket', () => {
  test('a message over 1 MiB closes that socket with 1009; other sockets go on', async () => {
    const other = createWsClient({ url: service.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
    const socket = new WebSocket(service.wsUrl, 'graphql-transport-ws');
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    const acknowledged = new Promise((resolve) => socket.once('message', resolve));
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init' }));
    expect(JSON.parse(String(await acknowledged)).type).toBe('connection_ack');
    socket.send(
      JSON.stringify({
        id: '1',
        type: 'subscribe',
        payload: { query: '{ orders { changeCursor } }', variables: { pad: 'x'.repeat(MiB) } },
      }),
    );
    expect(await closed).toBe(1009); // "message too big", RFC 6455
    try {
      const result = await other.iterate<any>({ query: '{ orders(first: 1) { changeCursor } }' }).next();
      expect(result.value.data.orders.changeCursor).toEqual(expect.any(String));
    } finally {
      await other.dispose();
    }
  });

  test(`the subscription past ${MAX_SUBSCRIPTIONS} on one socket is refused; the socket and the others go on`, async () => {
    const client = createWsClient({ url: service.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
    let closes = 0;
    client.on('closed', () => closes++);
    try {
      const live = await subscribedAll(() => client.iterate<any>({ query: SUBSCRIPTION }), 'ws warm-up');
      const refused = await client
        .iterate<any>({ query: SUBSCRIPTION })
        .next()
        .then(
          (value) => value,
          (errors) => errors,
        );
      expect(refused).toEqual([
        expect.objectContaining({ extensions: expect.objectContaining({ code: 'TOO_MANY_SUBSCRIPTIONS' }) }),
      ]);
      // Queries are not counted, and the socket is still open.
      const query = await client.iterate<any>({ query: '{ orders(first: 1) { changeCursor } }' }).next();
      expect(query.value.data.orders.changeCursor).toEqual(expect.any(String));
      await insertOrder('capped');
      for (const record of live) await received(record, 'capped');

      // A completed subscription frees its slot.
      await live[0]?.it.return?.();
      const again = await acceptedOnceFree(() => client.iterate<any>({ query: SUBSCRIPTION }), 'ws freed');
      expect(closes).toBe(0);
      await again.it.return?.();
      for (const record of live) await record.it.return?.();
    } finally {
      await client.dispose();
    }
  });
});

test(`SSE in single connection mode: the subscription past ${MAX_SUBSCRIPTIONS} is refused with its code; the others go on`, async () => {
  const client = createSseClient({ url: `${service.url}/graphql/stream`, singleConnection: true });
  try {
    const live = await subscribedAll(() => client.iterate<any>({ query: SUBSCRIPTION }), 'sse warm-up');
    const refused = await client
      .iterate<any>({ query: SUBSCRIPTION })
      .next()
      .then(
        (result) => result.value,
        (error) => error,
      );
    expect(JSON.stringify(refused)).toMatch(/TOO_MANY_SUBSCRIPTIONS/);
    await insertOrder('sse capped');
    for (const record of live) await received(record, 'sse capped');

    await live[0]?.it.return?.();
    const again = await acceptedOnceFree(() => client.iterate<any>({ query: SUBSCRIPTION }), 'sse freed');
    await again.it.return?.();
    for (const record of live.slice(1)) await record.it.return?.();
  } finally {
    client.dispose();
  }
});

const SUBSCRIPTION = 'subscription { orderChanged { operation order { customerName } } }';
type Changes = AsyncIterableIterator<any>;

const insertOrder = (name: string) =>
  service.database.sql('INSERT INTO orders (customer_name, product_name) VALUES ($1, $2)', [name, 'x']);

interface Recorded {
  it: Changes;
  names: string[];
  errors: unknown[];
}

/** Reads a subscription to its end in the background (its first pull sends it). */
function recorded(it: Changes): Recorded {
  const record: Recorded = { it, names: [], errors: [] };
  (async () => {
    for (;;) {
      const { value, done } = await it.next();
      if (done) return;
      if (value.errors) record.errors.push(value.errors);
      else record.names.push(value.data.orderChanged.order.customerName);
    }
  })().catch((error) => record.errors.push(error));
  return record;
}

/**
 * Waits for the change to the order named `name`. A subscription may also deliver a change
 * committed just before it started (issue 7, part 4): others are not this check's business.
 */
const received = (record: Recorded, name: string) =>
  waitFor(
    () => {
      if (record.errors.length) throw new Error(JSON.stringify(record.errors));
      return record.names.includes(name);
    },
    { message: name },
  );

/** MAX_SUBSCRIPTIONS subscriptions, each proven running by a change it received. */
async function subscribedAll(subscribe: () => Changes, name: string): Promise<Recorded[]> {
  const live = Array.from({ length: MAX_SUBSCRIPTIONS }, () => recorded(subscribe()));
  await waitFor(
    async () => {
      await insertOrder(name);
      await new Promise((r) => setTimeout(r, 200));
      return live.every((record) => record.names.includes(name));
    },
    { message: 'every subscription running', timeoutMs: 20_000 },
  );
  return live;
}

/** A new subscription, retried while the server has not yet freed the completed one's slot. */
async function acceptedOnceFree(subscribe: () => Changes, name: string): Promise<Recorded> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const record = recorded(subscribe());
    await new Promise((r) => setTimeout(r, 300));
    if (/TOO_MANY_SUBSCRIPTIONS/.test(JSON.stringify(record.errors))) continue;
    await insertOrder(name);
    await received(record, name);
    return record;
  }
  throw new Error('the completed subscription never freed its slot');
}
