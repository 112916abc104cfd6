import { CloseCode } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { createClient as createResumingClient } from '../../src/client/index.ts';
import type { TestService } from '../helpers/service.ts';
import { startTestService } from '../helpers/service.ts';
import { waitFor } from '../helpers/wait.ts';
import { collect, failure, gql, startAuthService, type WsShape, wsClient } from './harness.ts';
import { bearer, mint, unsigned } from './tokens.ts';

let service: TestService;
let writer: string;
beforeAll(async () => {
  service = await startAuthService();
  writer = await mint({ role: 'writer' });
});
afterAll(async () => {
  await service?.stop();
});

const ORDERS = '{ orders(first: 1) { changeCursor } }';
const CREATE = `mutation ($input: CreateOrderInput!) { createOrder(input: $input) { id } }`;
const CHANGES =
  'subscription ($after: String) { orderChanged(after: $after) { cursor order { productName } } }';

describe('graphql-ws: the token of connection_init', () => {
  for (const shape of ['authorization', 'headers'] as WsShape[]) {
    test(`accepted as {"${shape}": …}: queries, subscriptions, and writes for a writer`, async () => {
      const { client } = wsClient(service, writer, shape);
      try {
        const [snapshot] = await collect(client.iterate({ query: ORDERS }));
        expect(snapshot?.errors).toBeUndefined();
        const events = client.iterate({
          query: CHANGES,
          variables: { after: snapshot?.data.orders.changeCursor },
        });
        const [created] = await collect(
          client.iterate({ query: CREATE, variables: { input: { customerName: 'Ws', productName: shape } } }),
        );
        expect(created?.errors).toBeUndefined();
        const { value } = await events.next();
        expect(value.data.orderChanged.order.productName).toBe(shape);
        await events.return?.();
      } finally {
        await client.dispose();
      }
    });
  }

  test('missing, malformed, wrongly signed, expired or alg none: closed with 4403 at connection_init', async () => {
    const tokens = [
      undefined,
      'abc',
      await mint({ role: 'writer' }, { secret: new TextEncoder().encode('y'.repeat(40)) }),
      await mint({ role: 'writer' }, { ttl: -5 }),
      unsigned({ role: 'writer' }),
      await mint({ role: 'admin' }),
      await mint({ role: 'customer' }),
    ];
    for (const token of tokens) {
      const { client, closes } = wsClient(service, token);
      const error = await failure(client.iterate({ query: ORDERS }));
      expect(error).toMatchObject({ code: CloseCode.Forbidden });
      expect(closes).toEqual([CloseCode.Forbidden]);
      await client.dispose();
    }
  });

  test('a reader subscribes and queries, and may not write: FORBIDDEN', async () => {
    const { client } = wsClient(service, await mint({ role: 'reader' }), 'headers');
    try {
      const [snapshot] = await collect(client.iterate({ query: ORDERS }));
      expect(snapshot?.errors).toBeUndefined();
      const [write] = await collect(
        client.iterate({ query: CREATE, variables: { input: { customerName: 'R', productName: 'W' } } }),
      );
      expect(write?.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    } finally {
      await client.dispose();
    }
  });

  test('when the token expires, the socket is closed with 4403; a fresh token resumes from the last cursor', async () => {
    const first = wsClient(service, await mint({ role: 'reader' }, { ttl: 2 }));
    const [snapshot] = await collect(first.client.iterate({ query: ORDERS }));
    let cursor = snapshot?.data.orders.changeCursor as string;
    const received: string[] = [];
    const ended = new Promise<unknown>((resolve) => {
      first.client.subscribe<any>(
        { query: CHANGES, variables: { after: cursor } },
        {
          next: ({ data }) => {
            cursor = data.orderChanged.cursor;
            received.push(data.orderChanged.order.productName);
          },
          error: resolve,
          complete: () => resolve('completed'),
        },
      );
    });
    await gql(service, writer, CREATE, { input: { customerName: 'E', productName: 'before expiry' } });
    await waitFor(() => received.length === 1);
    expect(await ended).toMatchObject({ code: CloseCode.Forbidden });
    expect(first.closes.at(-1)).toBe(CloseCode.Forbidden);
    await first.client.dispose();

    // Written while no socket is open: the resumed subscription must deliver it, once.
    await gql(service, writer, CREATE, { input: { customerName: 'E', productName: 'after expiry' } });
    const second = wsClient(service, await mint({ role: 'reader' }));
    try {
      const events = second.client.iterate<any>({ query: CHANGES, variables: { after: cursor } });
      const { value } = await events.next();
      expect(value.data.orderChanged.order.productName).toBe('after expiry');
      await events.return?.();
      expect(received).toEqual(['before expiry']);
    } finally {
      await second.client.dispose();
    }
  });
});

describe('realtime-orders/client across token expiries', () => {
  test('connectionParams as a function: each expiry (4403) reconnects with a fresh token and resumes, every change once', async () => {
    const closes: number[] = [];
    const client = createResumingClient({
      url: service.wsUrl,
      webSocketImpl: WebSocket,
      // Tokens that live 2 s: the writes below outlast three of them.
      connectionParams: async () => bearer(await mint({ role: 'reader' }, { ttl: 2 })),
      on: { closed: (event) => closes.push((event as { code: number }).code) },
    });
    const snapshot = await gql(service, writer, ORDERS);
    const received: string[] = [];
    let failure: unknown;
    const unsubscribe = client.subscribe<any>(
      { query: CHANGES, variables: { after: snapshot.json.data.orders.changeCursor } },
      {
        next: ({ data }) => received.push(data.orderChanged.order.productName),
        error: (error) => {
          failure = error;
        },
        complete: () => {},
      },
    );
    const written: string[] = [];
    try {
      for (let i = 0; i < 35; i++) {
        const name = `refresh ${i}`;
        const result = await gql(service, writer, CREATE, {
          input: { customerName: 'R', productName: name },
        });
        expect(result.json.errors).toBeUndefined();
        written.push(name);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      await waitFor(() => received.length >= written.length, { timeoutMs: 20_000, message: 'every change' });
      expect(failure).toBeUndefined();
      expect(received).toEqual(written);
      expect(closes.filter((code) => code === CloseCode.Forbidden).length).toBeGreaterThanOrEqual(2);
    } finally {
      unsubscribe();
      await client.dispose();
    }
  });
});

describe('the WebSocket upgrade’s Origin (CORS_ORIGINS)', () => {
  const upgrade = (url: string, origin?: string) =>
    new Promise<number>((resolve) => {
      const socket = new WebSocket(url, 'graphql-transport-ws', origin ? { origin } : {});
      socket.on('open', () => {
        socket.close();
        resolve(101);
      });
      socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      socket.on('error', () => {});
    });

  test('with auth on and no CORS_ORIGINS: own origin and non-browsers only; others 403', async () => {
    expect(await upgrade(service.wsUrl, 'https://evil.example')).toBe(403);
    expect(await upgrade(service.wsUrl, service.url)).toBe(101);
    expect(await upgrade(service.wsUrl)).toBe(101);
  });

  test('CORS_ORIGINS lists the others', async () => {
    const listed = await startAuthService({ corsOrigins: ['https://shop.example'] });
    try {
      expect(await upgrade(listed.wsUrl, 'https://shop.example')).toBe(101);
      expect(await upgrade(listed.wsUrl, 'https://evil.example')).toBe(403);
      expect(await upgrade(listed.wsUrl, listed.url)).toBe(101);
    } finally {
      await listed.stop();
    }
  });

  test('with auth off (the default), any origin, as before', async () => {
    const open = await startTestService();
    try {
      expect(await upgrade(open.wsUrl, 'https://evil.example')).toBe(101);
      const { client } = wsClient(open, undefined);
      const [result] = await collect(client.iterate({ query: ORDERS }));
      expect(result?.errors).toBeUndefined();
      await client.dispose();
    } finally {
      await open.stop();
    }
  });
});
