import { CloseCode } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { startTestService, type TestService } from './helpers/service.ts';
import { waitFor } from './helpers/wait.ts';

// The graphql-transport-ws protocol is served by the service itself (src/server/graphql-transport-ws.ts),
// not by graphql-ws's server: its messages and close codes, as graphql-ws's PROTOCOL.md gives them,
// seen by a raw socket.

let service: TestService;
beforeAll(async () => {
  service = await startTestService();
});
afterAll(async () => {
  await service?.stop();
});

const SUBSCRIPTION = 'subscription { orderChanged { order { customerName } } }';

/** A raw socket with every message and the close it receives. */
async function open(protocol: string | null = 'graphql-transport-ws') {
  const socket = new WebSocket(service.wsUrl, protocol === null ? [] : protocol);
  const messages: any[] = [];
  let closed: { code: number; reason: string } | undefined;
  socket.on('message', (data) => messages.push(JSON.parse(String(data))));
  socket.on('close', (code, reason) => {
    closed = { code, reason: String(reason) };
  });
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  const send = (message: object | string) =>
    socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  return {
    socket,
    messages,
    send,
    closed: () => closed,
    closeCode: async () => (await waitFor(() => closed, { message: 'the close' })).code,
    async init() {
      send({ type: 'connection_init' });
      await waitFor(() => messages.some((m) => m.type === 'connection_ack'), { message: 'the ack' });
    },
    of: (id: string) => messages.filter((m) => m.id === id),
  };
}

const insert = (name: string) =>
  service.database.sql(`INSERT INTO orders (customer_name, product_name) VALUES ('${name}', 'p')`);

describe('the connection', () => {
  test('connection_init is acknowledged; a second one closes with 4429', async () => {
    const client = await open();
    await client.init();
    expect(client.messages).toEqual([{ type: 'connection_ack' }]);
    client.send({ type: 'connection_init' });
    expect(await client.closeCode()).toBe(CloseCode.TooManyInitialisationRequests);
  });

  test('no connection_init within 3 s: 4408', async () => {
    const client = await open();
    const started = Date.now();
    expect(await client.closeCode()).toBe(CloseCode.ConnectionInitialisationTimeout);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_500);
  });

  test('subscribe before the acknowledgement: 4401', async () => {
    const client = await open();
    client.send({ id: '1', type: 'subscribe', payload: { query: '{ __typename }' } });
    expect(await client.closeCode()).toBe(CloseCode.Unauthorized);
  });

  test.each([
    ['not JSON', 'hello'],
    ['no type', '{"id":"1"}'],
    ['an unknown type', '{"type":"subscribe_all"}'],
    ['a subscribe without a query', '{"id":"1","type":"subscribe","payload":{}}'],
  ])('%s: 4400', async (_name, message) => {
    const client = await open();
    await client.init();
    client.send(message);
    expect(await client.closeCode()).toBe(CloseCode.BadRequest);
  });

  test('without the subprotocol graphql-transport-ws: 4406', async () => {
    const client = await open(null);
    expect(await client.closeCode()).toBe(CloseCode.SubprotocolNotAcceptable);
  });

  test('ping is answered with pong and its payload', async () => {
    const client = await open();
    await client.init();
    client.send({ type: 'ping', payload: { at: 1 } });
    client.send({ type: 'ping' });
    client.send({ type: 'pong' });
    await waitFor(() => client.messages.length === 3, { message: 'two pongs' });
    expect(client.messages.slice(1)).toEqual([{ type: 'pong', payload: { at: 1 } }, { type: 'pong' }]);
    expect(client.closed()).toBeUndefined();
    client.socket.close();
  });
});

describe('operations', () => {
  test('a query is answered with next, then complete; an invalid one with error', async () => {
    const client = await open();
    await client.init();
    client.send({ id: 'q', type: 'subscribe', payload: { query: '{ orders(first: 1) { nodes { id } } }' } });
    client.send({ id: 'bad', type: 'subscribe', payload: { query: '{ nope }' } });
    client.send({ id: 'syntax', type: 'subscribe', payload: { query: '{ orders(' } });
    await waitFor(
      () => client.of('q').length === 2 && client.of('bad').length > 0 && client.of('syntax').length > 0,
      {
        message: 'the answers',
      },
    );
    expect(client.of('q')).toEqual([
      { id: 'q', type: 'next', payload: { data: { orders: { nodes: [] } } } },
      { id: 'q', type: 'complete' },
    ]);
    expect(client.of('bad')).toMatchObject([
      { id: 'bad', type: 'error', payload: [{ extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }] },
    ]);
    expect(client.of('syntax')).toMatchObject([{ id: 'syntax', type: 'error', payload: [{}] }]);
    client.socket.close();
  });

  test('a mutation with an input error gets it with its code, as over HTTP', async () => {
    const client = await open();
    await client.init();
    const query = 'mutation { createOrder(input: { customerName: " ", productName: "p" }) { id } }';
    client.send({ id: 'm', type: 'subscribe', payload: { query } });
    await waitFor(() => client.of('m').length === 2, { message: 'the answer' });
    const overHttp = await service.graphql(query);
    expect(client.of('m')).toEqual([
      { id: 'm', type: 'next', payload: JSON.parse(JSON.stringify(overHttp)) },
      { id: 'm', type: 'complete' },
    ]);
    expect(client.of('m')[0].payload.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    client.socket.close();
  });

  test('a running subscription id used again: 4409; once completed, the id is free', async () => {
    const client = await open();
    await client.init();
    client.send({ id: 's', type: 'subscribe', payload: { query: SUBSCRIPTION } });
    await waitFor(() => service.feed.status().subscribers === 1, { message: 'the subscription' });
    client.send({ id: 's', type: 'complete' });
    await waitFor(() => service.feed.status().subscribers === 0, { message: 'its end' });
    client.send({ id: 's', type: 'subscribe', payload: { query: SUBSCRIPTION } });
    await waitFor(() => service.feed.status().subscribers === 1, { message: 'the same id again' });
    client.send({ id: 's', type: 'subscribe', payload: { query: SUBSCRIPTION } });
    expect(await client.closeCode()).toBe(CloseCode.SubscriberAlreadyExists);
    await waitFor(() => service.feed.status().subscribers === 0, { message: 'the close ends it' });
  });

  test('after complete, no more results for that id; the socket and its other subscriptions go on', async () => {
    const client = await open();
    await client.init();
    client.send({ id: 'a', type: 'subscribe', payload: { query: SUBSCRIPTION } });
    client.send({ id: 'b', type: 'subscribe', payload: { query: SUBSCRIPTION } });
    await waitFor(() => service.feed.status().subscribers === 2, { message: 'both subscriptions' });
    await insert('first');
    await waitFor(() => client.of('a').length === 1 && client.of('b').length === 1, { message: 'first' });
    client.send({ id: 'a', type: 'complete' });
    await waitFor(() => service.feed.status().subscribers === 1, { message: 'a ended' });
    await insert('second');
    // a's reader has ended (the feed counts one subscriber); b's result shows the change went out.
    await waitFor(() => client.of('b').length === 2, { message: 'second to b' });
    expect(client.of('a').map((m) => m.payload.data.orderChanged.order.customerName)).toEqual(['first']);
    expect(client.of('b').map((m) => m.payload.data.orderChanged.order.customerName)).toEqual([
      'first',
      'second',
    ]);
    // The server never sends complete for an id the client completed.
    expect(client.of('a').some((m) => m.type === 'complete')).toBe(false);
    client.socket.close();
    await waitFor(() => service.feed.status().subscribers === 0, { message: 'the close ends b' });
  });

  test('a subscription refused at subscribe time gets its error as a result, then complete', async () => {
    const client = await open();
    await client.init();
    client.send({
      id: 'x',
      type: 'subscribe',
      payload: { query: 'subscription { orderChanged(after: "not-a-cursor") { cursor } }' },
    });
    await waitFor(() => client.of('x').length === 2, { message: 'the refusal' });
    expect(client.of('x')).toMatchObject([
      { id: 'x', type: 'next', payload: { errors: [{ extensions: { code: 'BAD_USER_INPUT' } }] } },
      { id: 'x', type: 'complete' },
    ]);
    client.socket.close();
  });
});
