import { type Client, createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import WebSocket from 'ws';
import { encodeCursor } from '../src/changes/position.ts';
import { collectingSink } from './helpers/collecting-sink.ts';
import { startTestService, type TestService } from './helpers/service.ts';
import { waitFor } from './helpers/wait.ts';

// Subscribers with the same operation, variables and scope share one execution and one serialized
// payload per change (src/server/shared-execution.ts, shared-message.ts). What each receives must
// be exactly what it would receive alone: its own start, its own filter, its own pace, its own errors.

const FIELDS = `cursor operation changedFields changedBy committedAt
  order { id customerName productName quantity status version createdAt updatedAt }
  previous { customerName status version updatedAt }`;
const CHANGES = `subscription Changes($where: OrderChangeFilter, $after: String) {
  orderChanged(where: $where, after: $after) { ${FIELDS} } }`;
const HISTORY = `query History($where: OrderChangeFilter, $after: String) {
  orderChanges(where: $where, after: $after, first: 1000) { ${FIELDS} } }`;

interface Subscriber {
  name: string;
  changes: any[];
  errors: unknown[];
  stop(): void;
}

const disposers: (() => unknown)[] = [];
/** Subscriptions of the running test, ended after it whatever happened. */
const running: Subscriber[] = [];
afterEach(() => {
  for (const subscriber of running.splice(0)) subscriber.stop();
});
afterAll(async () => {
  for (const dispose of disposers.splice(0).reverse()) await dispose();
});

/** A subscriber over `client`, either protocol's: both clients take a payload and a sink. */
function subscriberOn(
  client: { subscribe: Client['subscribe']; dispose(): unknown },
  name: string,
  variables: object,
): Subscriber {
  disposers.push(() => client.dispose());
  const subscriber: Subscriber = { name, changes: [], errors: [], stop: () => {} };
  subscriber.stop = client.subscribe(
    { query: CHANGES, variables: variables as Record<string, unknown> },
    collectingSink(subscriber),
  );
  running.push(subscriber);
  return subscriber;
}

const wsSubscriber = (service: TestService, name: string, variables: object) =>
  subscriberOn(
    createWsClient({ url: service.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 }),
    name,
    variables,
  );

const sseSubscriber = (service: TestService, name: string, variables: object) =>
  subscriberOn(createSseClient({ url: `${service.url}/graphql/stream`, retryAttempts: 0 }), name, variables);

async function history(service: TestService, variables: object): Promise<any[]> {
  const result = await service.graphql(HISTORY, variables as Record<string, unknown>);
  expect(result.errors).toBeUndefined();
  return result.data.orderChanges;
}

/** The cursor of the last change, once the feed has read the one to `productName`. */
async function lastCursorOnceRead(service: TestService, productName: string): Promise<string> {
  const changes = await waitFor(async () => {
    const all = await history(service, {});
    return all.some((change) => change.order.productName === productName) && all;
  });
  return changes.at(-1).cursor;
}

async function sharedResults(service: TestService): Promise<number> {
  const text = await (await fetch(`${service.url}/metrics`)).text();
  return Number(/^realtime_orders_subscription_results_shared_total (\d+)/m.exec(text)?.[1]);
}

/** Every subscriber received exactly `expected`, in order; cursors compared only where asked. */
async function expectReceived(subscribers: Subscriber[], expected: any[], compareCursors: boolean) {
  const strip = (changes: any[]) => changes.map(({ cursor: _cursor, ...rest }) => rest);
  for (const subscriber of subscribers) {
    await waitFor(() => subscriber.changes.length >= expected.length, {
      timeoutMs: 20_000,
      message: `${expected.length} changes for ${subscriber.name} (has ${subscriber.changes.length})`,
    });
  }
  // Nothing more than expected arrives.
  await new Promise((resolve) => setTimeout(resolve, 300));
  for (const subscriber of subscribers) {
    expect(subscriber.errors, subscriber.name).toEqual([]);
    if (compareCursors) expect(subscriber.changes, subscriber.name).toEqual(expected);
    else expect(strip(subscriber.changes), subscriber.name).toEqual(strip(expected));
    const cursors = subscriber.changes.map((change) => change.cursor);
    expect(cursors, `${subscriber.name}: cursors increase`).toEqual([...cursors].sort());
    expect(new Set(cursors).size, `${subscriber.name}: no duplicate`).toBe(cursors.length);
  }
}

describe('shared subscriptions', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService();
    disposers.push(() => service.stop());
  });
  const open = (count: number) =>
    waitFor(() => service.feed.status().subscribers === count, { message: `${count} subscriptions` });

  test('identical operations from different starts, filtered and not, each receive exactly their own changes', async () => {
    await service.database.sql(
      `INSERT INTO orders (customer_name, product_name, status) VALUES ('Ann', 'a0', 'pending'), ('Bo', 'b0', 'shipped')`,
    );
    const base = await lastCursorOnceRead(service, 'b0');
    const shippedWhere = { statuses: ['SHIPPED'] };
    const sharedBefore = await sharedResults(service);

    // Resuming from the same cursor: the same variables, so they share.
    const fromBase = [
      wsSubscriber(service, 'ws after 1', { after: base }),
      wsSubscriber(service, 'ws after 2', { after: base }),
      wsSubscriber(service, 'ws after 3', { after: base }),
      sseSubscriber(service, 'sse after', { after: base }),
      sseSubscriber(service, 'sse after 2', { after: base }),
    ];
    const shipped = [
      wsSubscriber(service, 'ws shipped 1', { where: shippedWhere, after: base }),
      wsSubscriber(service, 'ws shipped 2', { where: shippedWhere, after: base }),
    ];
    // From now, accepted before the first batch.
    const early = [wsSubscriber(service, 'ws early 1', {}), wsSubscriber(service, 'ws early 2', {})];
    await open(9);
    await service.database.sql(
      `INSERT INTO orders (customer_name, product_name, status) VALUES ('Cy', 'c1', 'pending'), ('Di', 'd1', 'shipped')`,
    );
    const afterFirst = await lastCursorOnceRead(service, 'd1');
    // From now, accepted between the batches: the same operation as `early`, a later start.
    const late = [wsSubscriber(service, 'ws late 1', {}), wsSubscriber(service, 'ws late 2', {})];
    const lateSse = [sseSubscriber(service, 'sse late', {})];
    await open(12);
    await service.database.sql(`UPDATE orders SET status = 'shipped' WHERE product_name IN ('a0', 'c1')`);
    await service.database.sql(`DELETE FROM orders WHERE product_name = 'd1'`);
    await service.database.sql(
      `INSERT INTO orders (customer_name, product_name) SELECT 'Ed', 'e' || n FROM generate_series(1, 50) AS n`,
    );

    const all = await waitFor(async () => {
      const changes = await history(service, { after: base });
      return changes.length === 2 + 2 + 1 + 50 && changes;
    });
    await expectReceived(fromBase, all, true);
    await expectReceived(shipped, await history(service, { where: shippedWhere, after: base }), true);
    await expectReceived(early, all, false);
    await expectReceived([...late, ...lateSse], await history(service, { after: afterFirst }), false);
    // The same operation and variables: most results were shared, not executed again.
    expect((await sharedResults(service)) - sharedBefore).toBeGreaterThan(all.length);
    for (const subscriber of [...fromBase, ...shipped, ...early, ...late, ...lateSse]) subscriber.stop();
    await open(0);
  });

  test('a stalled client does not hold back the others with the same operation, and later receives everything', async () => {
    const others = [wsSubscriber(service, 'ws 1', {}), wsSubscriber(service, 'ws 2', {})];
    const stalled = new WebSocket(service.wsUrl, 'graphql-transport-ws');
    running.push({ name: 'stalled', changes: [], errors: [], stop: () => stalled.terminate() });
    const received: any[] = [];
    stalled.on('message', (data) => {
      const message = JSON.parse(String(data));
      if (message.type === 'connection_ack') {
        stalled.send(
          JSON.stringify({ id: 'stalled', type: 'subscribe', payload: { query: CHANGES, variables: {} } }),
        );
      }
      if (message.type === 'next') {
        expect(message.id).toBe('stalled');
        received.push(message.payload.data.orderChanged);
      }
    });
    await new Promise((resolve) => stalled.once('open', resolve));
    stalled.send(JSON.stringify({ type: 'connection_init' }));
    await open(3);
    // The client stops reading: the server's writes pile up in its socket until backpressure.
    (stalled as unknown as { _socket: import('node:net').Socket })._socket.pause();
    await service.database.sql(
      `INSERT INTO orders (customer_name, product_name) SELECT repeat('c', 100), repeat('x', 100) || n FROM generate_series(1, 3000) AS n`,
    );
    await waitFor(() => others.every((other) => other.changes.length === 3000), {
      timeoutMs: 30_000,
      message: 'every change at the clients that read',
    });
    expect(received.length).toBeLessThan(3000);
    (stalled as unknown as { _socket: import('node:net').Socket })._socket.resume();
    await waitFor(() => received.length === 3000, {
      timeoutMs: 30_000,
      message: 'the stalled client catches up',
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(received).toEqual(others[0]?.changes);
    expect(others[1]?.changes).toEqual(others[0]?.changes);
    expect(new Set(received.map((change) => change.order.productName)).size).toBe(3000);
    for (const other of others) other.stop();
    stalled.close();
    await open(0);
  });

  test('subscriptions sent directly from one socket keep their own filter and order, and a completed one stops', async () => {
    // Two identical operations and one filtered, on one socket: a page of changes goes to each
    // without the per-result chain (src/server/shared-message.ts DirectResults).
    const socket = new WebSocket(service.wsUrl, 'graphql-transport-ws');
    running.push({ name: 'raw', changes: [], errors: [], stop: () => socket.terminate() });
    const received = new Map<string, any[]>([
      ['all', []],
      ['all too', []],
      ['shipped', []],
    ]);
    const other: unknown[] = [];
    socket.on('message', (data) => {
      const message = JSON.parse(String(data));
      if (message.type === 'next') received.get(message.id)?.push(message.payload.data.orderChanged);
      else if (message.type !== 'connection_ack' && message.type !== 'complete') other.push(message);
    });
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init' }));
    await new Promise((resolve) => socket.once('message', resolve));
    const snapshot = await service.graphql('{ orders(first: 1) { changeCursor } }');
    const base = snapshot.data.orders.changeCursor;
    const subscribe = (id: string, variables: object) =>
      socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query: CHANGES, variables } }));
    subscribe('all', { after: base });
    subscribe('all too', { after: base });
    subscribe('shipped', { after: base, where: { statuses: ['SHIPPED'] } });
    await open(3);
    await service.database.sql(
      `INSERT INTO orders (customer_name, product_name, status)
       SELECT 'Direct', 'direct' || n, CASE WHEN n % 3 = 0 THEN 'shipped' ELSE 'pending' END FROM generate_series(1, 600) AS n`,
    );
    const all = await waitFor(async () => {
      const changes = await history(service, { after: base });
      return changes.length === 600 && changes;
    });
    await waitFor(() => received.get('all')?.length === 600 && received.get('all too')?.length === 600, {
      message: 'every change to both identical subscriptions',
    });
    const shipped = await history(service, { after: base, where: { statuses: ['SHIPPED'] } });
    expect(shipped).toHaveLength(200);
    await waitFor(() => received.get('shipped')?.length === 200, { message: 'the shipped ones' });
    expect(received.get('all')).toEqual(all);
    expect(received.get('all too')).toEqual(all);
    expect(received.get('shipped')).toEqual(shipped);

    // Completed by the client: its slot and reader are freed; the others go on, in order.
    socket.send(JSON.stringify({ id: 'all', type: 'complete' }));
    await open(2);
    await service.database.sql(
      `INSERT INTO orders (customer_name, product_name, status) VALUES ('Direct', 'after', 'shipped')`,
    );
    await waitFor(() => received.get('shipped')?.length === 201, { message: 'the change after' });
    await waitFor(() => received.get('all too')?.length === 601, { message: 'the change after' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(received.get('all')).toHaveLength(600);
    expect(received.get('all too')?.at(-1)).toEqual(received.get('shipped')?.at(-1));
    expect(other).toEqual([]);
    socket.close();
    await open(0);
  });

  test('a shared result is serialized once for all its subscribers, over both protocols', async () => {
    const subscribers = [
      wsSubscriber(service, 'ws 1', {}),
      wsSubscriber(service, 'ws 2', {}),
      wsSubscriber(service, 'ws 3', {}),
      sseSubscriber(service, 'sse 1', {}),
      sseSubscriber(service, 'sse 2', {}),
    ];
    await open(5);
    // The service runs in this process: every serialization of a change's result passes here.
    const stringify = vi.spyOn(JSON, 'stringify');
    const serializations = () =>
      stringify.mock.calls.filter(([value]) => value?.data?.orderChanged?.order?.productName === 'once')
        .length;
    try {
      await service.database.sql(`INSERT INTO orders (customer_name, product_name) VALUES ('Once', 'once')`);
      for (const subscriber of subscribers) {
        await waitFor(() => subscriber.changes.length === 1, { message: `the change at ${subscriber.name}` });
      }
      expect(serializations()).toBe(1);
    } finally {
      stringify.mockRestore();
    }
    for (const subscriber of subscribers) subscriber.stop();
    await open(0);
  });

  test('an unexpected error in a shared execution is masked for every subscriber, which go on', async () => {
    const subscribers = [wsSubscriber(service, 'ws 1', {}), wsSubscriber(service, 'ws 2', {})];
    const sse = sseSubscriber(service, 'sse', {});
    await open(3);
    // A log entry no writer could make: its dates cannot be serialized (a RangeError in DateTime).
    const broken = { id: 999999, customer_name: 'Mask', product_name: 'p', quantity: 1, status: 'pending' };
    await service.database.sql(
      `INSERT INTO order_changes (op, order_id, new_row) VALUES ('INSERT', 999999, $1)`,
      [JSON.stringify({ ...broken, version: 1, created_at: 'not a date', updated_at: 'not a date' })],
    );
    await service.database.sql(`INSERT INTO orders (customer_name, product_name) VALUES ('After', 'mask')`);
    for (const subscriber of [...subscribers, sse]) {
      await waitFor(() => subscriber.changes.length === 1, {
        message: `the next change at ${subscriber.name}`,
      });
      expect(subscriber.errors, subscriber.name).toHaveLength(1);
      expect(subscriber.errors[0], subscriber.name).toMatchObject({ message: 'Unexpected error.' });
      expect(JSON.stringify(subscriber.errors[0])).not.toContain('Invalid time value');
      expect(subscriber.changes[0].order.customerName).toBe('After');
      subscriber.stop();
    }
    await open(0);
  });
});

describe('shared subscriptions and expired cursors', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService({
      feed: { retentionMs: 1_000, pruneIntervalMs: 3_600_000, pollIntervalMs: 200 },
    });
    disposers.push(() => service.stop());
  });

  test('CURSOR_EXPIRED reaches only the subscriber whose cursor expired', async () => {
    const expired = encodeCursor({ position: { tick: 0, last: 0, seq: 0 } });
    const refused = [
      wsSubscriber(service, 'expired 1', { after: expired }),
      wsSubscriber(service, 'expired 2', { after: expired }),
    ];
    const live = [wsSubscriber(service, 'live 1', {}), wsSubscriber(service, 'live 2', {})];
    await waitFor(() => refused.every((subscriber) => subscriber.errors.length > 0), {
      message: 'the errors',
    });
    for (const subscriber of refused) {
      expect(
        (subscriber.errors[0] as any)[0]?.extensions?.code ?? (subscriber.errors[0] as any).extensions?.code,
      ).toBe('CURSOR_EXPIRED');
    }
    await waitFor(() => service.feed.status().subscribers === 2, { message: 'the live subscriptions' });
    await service.database.sql(`INSERT INTO orders (customer_name, product_name) VALUES ('Live', 'x')`);
    for (const subscriber of live) {
      await waitFor(() => subscriber.changes.length === 1, { message: subscriber.name });
      expect(subscriber.errors).toEqual([]);
      expect(subscriber.changes[0].order.customerName).toBe('Live');
      subscriber.stop();
    }
  });
});
