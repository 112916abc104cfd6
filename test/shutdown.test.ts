import net from 'node:net';
import { createClient as createWsClient } from 'graphql-ws';
import pg from 'pg';
import { afterAll, expect, test } from 'vitest';
import WebSocket from 'ws';
import { GOING_AWAY } from '../src/server/websocket.ts';
import { spawnService, subscriptionCount } from './helpers/child-service.ts';
import { createTestDatabase } from './helpers/database.ts';
import { waitFor } from './helpers/wait.ts';

// SIGTERM (or SIGINT): no new connections; WebSockets closed with 1001 so that clients reconnect
// at once; SSE streams ended (without `complete`, which graphql-sse clients retry); requests in
// flight finish and their clients get the answer; then the feed and the pool stop, and the
// process exits 0 within 10 s.

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const SUBSCRIPTION = 'subscription { orderChanged { operation order { id } } }';

/** An SSE response read to its end: whether it ended cleanly, and what it carried. */
async function readStream(response: Response) {
  try {
    return { clean: true, text: await response.text() };
  } catch (error) {
    return { clean: false, text: String(error) };
  }
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`${signal}: in-flight mutations are answered, WebSockets closed with 1001, SSE streams ended, exit 0 within 10 s`, async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const service = await spawnService({ DATABASE_URL: database.url });
    cleanups.push(() => service.kill());
    await waitFor(async () => (await fetch(`${service.url}/ready`)).status === 200, { timeoutMs: 30_000 });
    const [row] = await database.sql<{ id: string }>(
      `INSERT INTO orders (customer_name, product_name) VALUES ('locked', 'p') RETURNING id`,
    );
    const id = row?.id as string;

    // A subscriber on a socket of its own, and one whose socket also carries a mutation.
    const closes: { code: number; at: number }[] = [];
    const wsSubscriber = createWsClient({
      url: service.wsUrl,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      on: { closed: (event) => closes.push({ code: (event as CloseEvent).code, at: Date.now() }) },
    });
    const wsWriter = createWsClient({ url: service.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
    cleanups.push(
      () => wsSubscriber.dispose(),
      () => wsWriter.dispose(),
    );
    const subscription = wsSubscriber.iterate({ query: SUBSCRIPTION });
    void subscription.next().catch(() => {});

    // SSE, distinct connections mode: one POST whose response is the stream.
    const distinct = fetch(`${service.url}/graphql/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: SUBSCRIPTION }),
    }).then(readStream);
    // SSE, single connection mode: a reservation, its stream, and an operation on it.
    const token = await (await fetch(`${service.url}/graphql/stream`, { method: 'PUT' })).text();
    const single = fetch(`${service.url}/graphql/stream`, {
      headers: { accept: 'text/event-stream', 'x-graphql-event-stream-token': token },
    }).then(readStream);
    await waitFor(async () => {
      const accepted = await fetch(`${service.url}/graphql/stream`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-graphql-event-stream-token': token },
        body: JSON.stringify({ query: SUBSCRIPTION, extensions: { operationId: 'op1' } }),
      });
      return accepted.status === 202;
    });
    await waitFor(async () => (await subscriptionCount(service.url)) === 3, { message: '3 subscriptions' });

    // Mutations that will be in flight when the signal arrives: the row is locked meanwhile.
    const locker = new pg.Client({ connectionString: database.url });
    await locker.connect();
    cleanups.push(() => locker.end());
    await locker.query('BEGIN');
    await locker.query('SELECT * FROM orders WHERE id = $1 FOR UPDATE', [id]);
    const overHttp = fetch(`${service.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: `mutation { updateOrder(id: "${id}", input: { quantity: 2 }) { version } }`,
      }),
    }).then(async (r) => ({ status: r.status, body: await r.json() }));
    const overWs = wsWriter
      .iterate({
        query: `mutation { updateOrder(id: "${id}", input: { quantity: 3 }) { quantity version } }`,
      })
      .next();
    const overRest = fetch(`${service.url}/api/orders/${id}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ product_name: 'during shutdown' }),
    }).then(async (r) => ({ status: r.status, body: await r.json() }));
    const overSse = fetch(`${service.url}/graphql/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({
        query: `mutation { updateOrder(id: "${id}", input: { status: SHIPPED }) { status version } }`,
      }),
    }).then(readStream);
    await waitFor(
      async () =>
        (
          await database.sql<{ n: string }>(
            `SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`,
          )
        )[0]?.n === '4',
      { message: 'four mutations waiting for the lock' },
    );

    const signalled = Date.now();
    service.child.kill(signal);
    // The subscriber's socket is closed at once with 1001; the streams end.
    await waitFor(() => closes.length > 0, { message: 'the subscriber socket to close' });
    expect(closes[0]?.code).toBe(GOING_AWAY);
    expect((closes[0]?.at ?? 0) - signalled).toBeLessThan(2_000);
    const streams = await Promise.all([distinct, single]);
    for (const stream of streams) {
      expect(stream.clean).toBe(true);
      expect(stream.text).not.toContain('event: complete');
    }
    // No new connections (a fetch could reuse a kept-alive one).
    const port = Number(new URL(service.url).port);
    await expect(
      new Promise((resolve, reject) =>
        net.connect(port, '127.0.0.1', resolve as () => void).once('error', reject),
      ),
    ).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(service.alive()).toBe(true);

    // The mutations in flight complete, and their clients get the answers.
    await new Promise((r) => setTimeout(r, 500));
    await locker.query('COMMIT');
    // In whatever order the lock lets them go: four updates, versions 2 to 5.
    const [http, ws, rest, sse] = await Promise.all([overHttp, overWs, overRest, overSse]);
    expect(sse.clean).toBe(true);
    const sseResult = JSON.parse(/event: next\ndata: (.*)\n/.exec(sse.text)?.[1] ?? '{}');
    expect(sseResult.data.updateOrder.status).toBe('SHIPPED');
    expect(sse.text).toContain('event: complete');
    expect(http.status).toBe(200);
    expect(ws.value).toMatchObject({ data: { updateOrder: { quantity: 3 } } });
    expect(rest).toMatchObject({ status: 200, body: { product_name: 'during shutdown' } });
    const versions = [
      http.body.data.updateOrder.version,
      (ws.value as any).data.updateOrder.version,
      rest.body.version,
      sseResult.data.updateOrder.version,
    ];
    expect(versions.sort()).toEqual([2, 3, 4, 5]);

    const { code } = await service.exited;
    expect(code).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(10_000);
    expect(service.output()).toContain('"msg":"stopped"');
    expect(service.survivedErrors()).toEqual([]);
    // Its sessions are gone: the feed and the pool were closed.
    await waitFor(
      async () =>
        (
          await database.sql<{ n: string }>(
            `SELECT count(*) AS n FROM pg_stat_activity WHERE application_name LIKE 'realtime-orders%' AND datname = current_database()`,
          )
        )[0]?.n === '0',
      { message: 'the service sessions to end' },
    );
  }, 120_000);
}
