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
      const subscription = '{ orderChanged { operation order { customerName } } }';
      const live = Array.from({ length: MAX_SUBSCRIPTIONS }, () =>
        client.iterate<any>({ query: `subscription ${subscription}` }),
      );
      const firsts = live.map((it) => it.next());
      // graphql-ws answers operations in order, so the ones above are accepted before this one.
      await new Promise((r) => setTimeout(r, 300));
      const refused = await client
        .iterate<any>({ query: `subscription Extra ${subscription}` })
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

      await service.database.sql(`INSERT INTO orders (customer_name, product_name) VALUES ('capped', 'x')`);
      for (const first of firsts) {
        expect((await first).value.data.orderChanged.order.customerName).toBe('capped');
      }
      // A completed subscription frees its slot.
      await live[0]?.return?.();
      const again = client.iterate<any>({ query: `subscription Again ${subscription}` });
      const next = again.next();
      await new Promise((r) => setTimeout(r, 300));
      await service.database.sql(`INSERT INTO orders (customer_name, product_name) VALUES ('freed', 'x')`);
      expect((await next).value.data.orderChanged.order.customerName).toBe('freed');
      expect(closes).toBe(0);
      await again.return?.();
      for (const it of live) await it.return?.();
    } finally {
      await client.dispose();
    }
  });
});

test(`SSE in single connection mode: the subscription past ${MAX_SUBSCRIPTIONS} is refused with its code; the others go on`, async () => {
  const client = createSseClient({ url: `${service.url}/graphql/stream`, singleConnection: true });
  const subscription = '{ orderChanged { operation order { customerName } } }';
  try {
    const live = Array.from({ length: MAX_SUBSCRIPTIONS }, () =>
      client.iterate<any>({ query: `subscription ${subscription}` }),
    );
    const firsts = live.map((it) => it.next());
    await new Promise((r) => setTimeout(r, 500));
    const refused = await client
      .iterate<any>({ query: `subscription Extra ${subscription}` })
      .next()
      .then(
        (result) => result.value,
        (error) => error,
      );
    expect(JSON.stringify(refused)).toMatch(/TOO_MANY_SUBSCRIPTIONS/);

    await service.database.sql(`INSERT INTO orders (customer_name, product_name) VALUES ('sse capped', 'x')`);
    for (const first of firsts) {
      expect((await first).value.data.orderChanged.order.customerName).toBe('sse capped');
    }
    await live[0]?.return?.();
    // Its slot is free once the server has seen it complete.
    const again = await waitFor(
      async () => {
        const it = client.iterate<any>({ query: `subscription Again ${subscription}` });
        const next = it.next();
        const first = await Promise.race([next, new Promise((r) => setTimeout(() => r('open'), 300))]);
        if (first === 'open') return { it, next };
        return false;
      },
      { message: 'a freed slot' },
    );
    await service.database.sql(`INSERT INTO orders (customer_name, product_name) VALUES ('sse freed', 'x')`);
    expect(((await again.next) as any).value.data.orderChanged.order.customerName).toBe('sse freed');
    await again.it.return?.();
    for (const it of live.slice(1)) await it.return?.();
  } finally {
    client.dispose();
  }
});
