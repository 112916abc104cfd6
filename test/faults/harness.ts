import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import type { OrderChange } from '../../src/changes/change.ts';
import { isMysqlUrl } from '../../src/db/mysql.ts';
import type { CommittedChange } from '../changes/harness.ts';
import type { TestDatabase } from '../helpers/database.ts';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Records every uncaughtException and unhandledRejection of this (test) process, where an
 * in-process service runs: with a listener installed Node would survive them, so a test must
 * look at what was recorded.
 */
export function watchProcess() {
  const crashes: { kind: string; error: unknown }[] = [];
  const onException = (error: unknown) => crashes.push({ kind: 'uncaughtException', error });
  const onRejection = (error: unknown) => crashes.push({ kind: 'unhandledRejection', error });
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return {
    crashes,
    dispose() {
      process.off('uncaughtException', onException);
      process.off('unhandledRejection', onRejection);
    },
  };
}

const SUBSCRIPTION = /* GraphQL */ `
  subscription ($after: String) {
    orderChanged(after: $after) { cursor operation committedAt order { id version } }
  }`;

/**
 * A real graphql-ws subscriber over a socket. `resume`: when the socket closes (a server that
 * died), it reconnects and subscribes again after the last cursor it received, as an application
 * that keeps its cursor does. Without it, a close is only counted.
 */
export function subscribeOverWebSocket(wsUrl: string, options: { after?: string; resume?: boolean } = {}) {
  const changes: OrderChange[] = [];
  const errors: unknown[] = [];
  let closes = 0;
  let stopped = false;
  let acknowledged = 0;
  let dispose: () => void = () => {};
  const open = (after: string | undefined) => {
    const client = createClient({
      url: wsUrl,
      webSocketImpl: WebSocket,
      lazy: false,
      // A refused reconnect while the server is down is expected here; graphql-ws would print it.
      onNonLazyError: () => {},
      retryAttempts: options.resume ? 0 : Number.POSITIVE_INFINITY,
      retryWait: async () => sleep(250),
      shouldRetry: () => true,
      on: {
        connected: () => acknowledged++,
        closed: () => {
          if (!stopped) closes++;
        },
      },
    });
    const unsubscribe = client.subscribe<{ orderChanged: OrderChange }>(
      { query: SUBSCRIPTION, variables: { after } },
      {
        next: ({ data, errors: e }) => {
          if (e) errors.push(e);
          if (data) changes.push(data.orderChanged);
        },
        error: (error) => {
          if (stopped || !options.resume) {
            if (!stopped) errors.push(error);
            return;
          }
          // The server is gone: come back after the last cursor seen, once it answers again.
          void client.dispose();
          setTimeout(() => !stopped && open(changes.at(-1)?.cursor ?? after), 250);
        },
        complete: () => {},
      },
    );
    dispose = () => {
      unsubscribe();
      void client.dispose();
    };
  };
  open(options.after);
  return {
    changes,
    errors,
    /** Socket closes seen while running (a subscriber that "stayed connected" has none). */
    get closes() {
      return closes;
    },
    get connections() {
      return acknowledged;
    },
    stop() {
      stopped = true;
      dispose();
    },
  };
}

/** The change-feed position of now, read as a client would: `orders { changeCursor }`. */
export async function changeCursorOf(baseUrl: string): Promise<string> {
  const response = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ orders(first: 1) { changeCursor } }' }),
  });
  const body = (await response.json()) as { data?: { orders: { changeCursor: string } }; errors?: unknown };
  if (!body.data) throw new Error(`no changeCursor: ${JSON.stringify(body.errors)}`);
  return body.data.orders.changeCursor;
}

/** One sample of /metrics, as name → value (labels kept in the name). */
export async function metricsOf(baseUrl: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (match) values.set(match[1] as string, Number(match[2]));
  }
  return values;
}

/** For a failure's message: where the database has these changes (transaction, tick). */
export async function explainMissing(database: TestDatabase, missing: CommittedChange[]) {
  if (isMysqlUrl(database.url)) {
    return database.sql(
      'SELECT seq, binlog_pos, op, order_id FROM order_changes WHERE order_id IN (?) ORDER BY seq',
      [missing.slice(0, 5).map((c) => c.id)],
    );
  }
  const found = [];
  for (const change of missing.slice(0, 5)) {
    const rows = await database.sql(
      `SELECT oc.seq, oc.txid::text, (SELECT min(tick_id) FROM change_ticks t
         WHERE pg_visible_in_snapshot(oc.txid, t.snapshot)) AS first_tick_seeing_it
       FROM order_changes oc WHERE order_id = $1 AND op = $2
         AND (coalesce(new_row, old_row)->>'version')::int = $3`,
      [change.id, change.op, change.version],
    );
    found.push({ change, rows });
  }
  return found;
}

export async function readyStatus(baseUrl: string): Promise<number> {
  return (await fetch(`${baseUrl}/ready`).catch(() => undefined))?.status ?? 0;
}

/** Samples /ready every `everyMs` until stopped: the statuses seen, in order. */
export function watchReady(baseUrl: string, everyMs = 200) {
  const seen: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      seen.push(await readyStatus(baseUrl));
      await sleep(everyMs);
    }
  })();
  return {
    seen,
    async stop() {
      running = false;
      await loop;
      return seen;
    },
  };
}

export interface ServiceWrites {
  /** Mutations the service answered with an order: committed. */
  committed: CommittedChange[];
  /** Names of orders whose createOrder failed, with the error and how long it took. */
  failed: { name: string; code: string | undefined; message: string | undefined; ms: number }[];
}

/**
 * createOrder over GraphQL, one after another, until `until` resolves: the service's own write
 * path through the fault. Each order has a name of its own, to look it up afterwards.
 */
export async function writeThroughService(
  baseUrl: string,
  until: Promise<unknown>,
  pauseMs = 50,
): Promise<ServiceWrites> {
  let done = false;
  void until.finally(() => {
    done = true;
  });
  const writes: ServiceWrites = { committed: [], failed: [] };
  for (let n = 0; !done; n++) {
    const name = `service ${process.pid} ${Date.now()} ${n}`;
    const started = Date.now();
    const body = await fetch(`${baseUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query:
          'mutation ($name: String!) { createOrder(input: { customerName: $name, productName: "svc" }) { id version } }',
        variables: { name },
      }),
    })
      .then(
        (r) =>
          r.json() as Promise<{ data?: { createOrder: { id: string; version: number } }; errors?: any[] }>,
      )
      .catch(
        (error: Error) => ({ errors: [{ message: error.message }] }) as { data?: undefined; errors: any[] },
      );
    const order = body.data?.createOrder;
    if (order) writes.committed.push({ op: 'INSERT', id: order.id, version: order.version, tx: name });
    else {
      const error = body.errors?.[0];
      writes.failed.push({
        name,
        code: error?.extensions?.code,
        message: error?.message,
        ms: Date.now() - started,
      });
    }
    await sleep(pauseMs);
  }
  return writes;
}

/** Failed createOrders that nevertheless committed (the answer was lost, not the write). */
export async function committedDespiteFailure(database: TestDatabase, writes: ServiceWrites) {
  if (writes.failed.length === 0) return [];
  const rows = await ordersNamed(
    database,
    writes.failed.map((f) => f.name),
  );
  return rows.map((r) => ({
    op: 'INSERT' as const,
    id: String(r.id),
    version: r.version,
    tx: r.customer_name,
  }));
}

/** The orders whose customer_name is one of `names`, on either backend. */
export async function ordersNamed(database: TestDatabase, names: string[]) {
  if (names.length === 0) return [];
  return database.sql<{ id: string; version: number; customer_name: string }>(
    isMysqlUrl(database.url)
      ? 'SELECT id, version, customer_name FROM orders WHERE customer_name IN (?)'
      : 'SELECT id, version, customer_name FROM orders WHERE customer_name = ANY($1)',
    [names],
  );
}
