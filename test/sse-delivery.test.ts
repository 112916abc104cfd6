import { request } from 'node:http';
import { createClient } from 'graphql-sse';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { collectingSink } from './helpers/collecting-sink.ts';
import { startTestService, type TestService } from './helpers/service.ts';
import { waitFor } from './helpers/wait.ts';

// GraphQL over SSE delivers each result serialized once for every stream that sends it, and at the
// pace of the client (src/server/sse-delivery.ts): what each client receives must be exactly what
// it would receive alone, and a client that stops reading must not make the server queue without
// bound.

const CHANGES = `subscription Changes($where: OrderChangeFilter, $after: String) {
  orderChanged(where: $where, after: $after) {
    cursor operation changedFields
    order { id customerName productName status version }
    previous { customerName status }
  } }`;
const HISTORY = `query History($where: OrderChangeFilter, $after: String) {
  orderChanges(where: $where, after: $after, first: 1000) {
    cursor operation changedFields
    order { id customerName productName status version }
    previous { customerName status }
  } }`;

/**
 * One raw SSE response whose socket can be paused, parsed by hand: distinct connections mode (the
 * operation in the stream's request), or single connection mode with `token` (the operation POSTed
 * separately, as `op`).
 */
function rawSseSubscription(service: TestService, variables: object, token?: string) {
  const received: any[] = [];
  const other: string[] = [];
  let buffered = '';
  const url = new URL(`${service.url}/graphql/stream`);
  const req = request(url, {
    method: token ? 'GET' : 'POST',
    headers: {
      accept: 'text/event-stream',
      'content-type': 'application/json',
      ...(token ? { 'x-graphql-event-stream-token': token } : {}),
    },
  });
  const socket = new Promise<import('node:net').Socket>((resolve) => req.once('socket', resolve));
  req.on('response', (res) => {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffered += chunk;
      let end = buffered.indexOf('\n\n');
      while (end >= 0) {
        const event = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        end = buffered.indexOf('\n\n');
        if (event.startsWith('event: next\ndata: ')) {
          const data = JSON.parse(event.slice('event: next\ndata: '.length));
          if (token && data.id !== 'op') other.push(event);
          received.push((token ? data.payload : data).data.orderChanged);
        } else if (event !== ':') other.push(event);
      }
    });
  });
  req.on('error', () => {});
  if (token) {
    req.end();
    const subscribe = () =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-graphql-event-stream-token': token },
        body: JSON.stringify({ query: CHANGES, variables, extensions: { operationId: 'op' } }),
      });
    return { received, other, socket, subscribe, close: () => req.destroy() };
  }
  req.end(JSON.stringify({ query: CHANGES, variables }));
  return { received, other, socket, subscribe: undefined, close: () => req.destroy() };
}

function sseSubscriber(service: TestService, variables: object, singleConnection = false) {
  const client = createClient({ url: `${service.url}/graphql/stream`, retryAttempts: 0, singleConnection });
  const subscriber = { changes: [] as any[], errors: [] as unknown[], client };
  client.subscribe(
    { query: CHANGES, variables: variables as Record<string, unknown> },
    collectingSink(subscriber),
  );
  return subscriber;
}

async function resultsPulled(service: TestService): Promise<number> {
  const text = await (await fetch(`${service.url}/metrics`)).text();
  const total = (name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1]);
  return (
    total('realtime_orders_subscription_executions_total') +
    total('realtime_orders_subscription_results_shared_total')
  );
}

describe('GraphQL over SSE delivery', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService();
  });
  afterAll(async () => {
    await service?.stop();
  });
  const open = (count: number) =>
    waitFor(() => service.feed.status().subscribers === count, { message: `${count} subscriptions` });
  const history = async (variables: object) => {
    const result = await service.graphql(HISTORY, variables as Record<string, unknown>);
    expect(result.errors).toBeUndefined();
    return result.data.orderChanges as any[];
  };

  test.each(['distinct connections', 'single connection'])(
    '%s: a stalled SSE client makes the server queue a bounded amount, then receives everything in order',
    async (mode) => {
      const reading = sseSubscriber(service, {});
      let token: string | undefined;
      if (mode === 'single connection') {
        const reserved = await fetch(`${service.url}/graphql/stream`, { method: 'PUT' });
        expect(reserved.status).toBe(201);
        token = await reserved.text();
      }
      const stalled = rawSseSubscription(service, {}, token);
      await stalled.socket;
      if (stalled.subscribe) expect((await stalled.subscribe()).status).toBe(202);
      await open(2);
      (await stalled.socket).pause();
      const before = await resultsPulled(service);
      // About 12 MB of events: far more than the server's bound (1 MiB queued in graphql-sse, plus
      // the socket's buffers), so an unbounded server would have read them all for the stalled one.
      const total = 15_000;
      await service.database.sql(
        `INSERT INTO orders (customer_name, product_name)
       SELECT repeat('c', 190), repeat('p', 190) || n FROM generate_series(1, ${total}) AS n`,
      );
      await waitFor(() => reading.changes.length === total, {
        timeoutMs: 60_000,
        message: `every change at the client that reads (has ${reading.changes.length})`,
      });
      // Give an unbounded server time to read on for the stalled client, as it did before.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const pulledForStalled = (await resultsPulled(service)) - before - total;
      expect(stalled.received.length).toBeLessThan(total);
      expect(pulledForStalled).toBeLessThan(total * 0.7);

      (await stalled.socket).resume();
      await waitFor(() => stalled.received.length === total, {
        timeoutMs: 60_000,
        message: `the stalled client catches up (has ${stalled.received.length})`,
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(stalled.received).toEqual(reading.changes);
      expect(new Set(stalled.received.map((change) => change.order.productName)).size).toBe(total);
      expect(stalled.other).toEqual([]);
      expect(reading.errors).toEqual([]);
      stalled.close();
      reading.client.dispose();
      await open(0);
    },
  );

  test.each(['distinct connections', 'single connection'])(
    '%s: a stalled SSE client that goes away ends its subscription, which was waiting for room',
    async (mode) => {
      const reading = sseSubscriber(service, {});
      let token: string | undefined;
      if (mode === 'single connection')
        token = await (await fetch(`${service.url}/graphql/stream`, { method: 'PUT' })).text();
      const stalled = rawSseSubscription(service, {}, token);
      await stalled.socket;
      if (stalled.subscribe) expect((await stalled.subscribe()).status).toBe(202);
      await open(2);
      (await stalled.socket).pause();
      await service.database.sql(
        `INSERT INTO orders (customer_name, product_name)
       SELECT repeat('g', 190), repeat('q', 190) || n FROM generate_series(1, 10000) AS n`,
      );
      await waitFor(() => reading.changes.length === 10_000, {
        timeoutMs: 60_000,
        message: `every change at the client that reads (has ${reading.changes.length})`,
      });
      expect(stalled.received.length).toBeLessThan(10_000);
      stalled.close();
      await open(1);
      reading.client.dispose();
      await open(0);
    },
  );

  test('identical subscriptions in both connection modes, from different starts and filters, each receive exactly theirs', async () => {
    const snapshot = await service.graphql('{ orders(first: 1) { changeCursor } }');
    const base = snapshot.data.orders.changeCursor;
    const shipped = { statuses: ['SHIPPED'] };
    const distinct = [sseSubscriber(service, { after: base }), sseSubscriber(service, { after: base })];
    const distinctShipped = sseSubscriber(service, { after: base, where: shipped });
    // Three operations on one stream: two identical, one filtered.
    const single = [sseSubscriber(service, { after: base }, true)];
    single.push({ ...single[0], changes: [], errors: [] } as any);
    const singleShipped = { changes: [] as any[], errors: [] as unknown[] };
    for (const [sink, variables] of [
      [single[1], { after: base }],
      [singleShipped, { after: base, where: shipped }],
    ] as const) {
      single[0]?.client.subscribe(
        { query: CHANGES, variables },
        {
          next: (result: any) =>
            result.errors
              ? sink?.errors.push(...result.errors)
              : sink?.changes.push(result.data.orderChanged),
          error: (error) => sink?.errors.push(error),
          complete: () => {},
        },
      );
    }
    await open(6);
    await service.database.sql(
      `INSERT INTO orders (customer_name, product_name, status)
       SELECT 'Mode', 'mode' || n, CASE WHEN n % 4 = 0 THEN 'shipped' ELSE 'pending' END
       FROM generate_series(1, 400) AS n`,
    );
    await service.database.sql(
      `UPDATE orders SET status = 'shipped' WHERE product_name IN ('mode1', 'mode2')`,
    );
    const all = await waitFor(async () => {
      const changes = await history({ after: base });
      return changes.length === 402 && changes;
    });
    const allShipped = await history({ after: base, where: shipped });
    expect(allShipped).toHaveLength(102);
    const everyone = [...distinct, distinctShipped, ...single, singleShipped];
    await waitFor(
      () =>
        everyone.every((s) => s.changes.length >= (s === distinctShipped || s === singleShipped ? 102 : 402)),
      {
        timeoutMs: 30_000,
        message: 'every change at every subscriber',
      },
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const subscriber of [...distinct, ...single]) {
      expect(subscriber.errors).toEqual([]);
      expect(subscriber.changes).toEqual(all);
    }
    for (const subscriber of [distinctShipped, singleShipped]) {
      expect(subscriber.errors).toEqual([]);
      expect(subscriber.changes).toEqual(allShipped);
    }
    for (const subscriber of [...distinct, distinctShipped, single[0]]) subscriber?.client.dispose();
    await open(0);
  });
});
