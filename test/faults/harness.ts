import { createClient } from 'graphql-ws';
import pg from 'pg';
import WebSocket from 'ws';
import type { OrderChange } from '../../src/changes/change.ts';
import {
  type CommittedChange,
  runWorkload,
  type UncertainTransaction,
  type WorkloadOptions,
} from '../changes/harness.ts';
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

export const BULK_ROWS = 20_000;

export interface MixedLoad {
  /** What the writers saw committed: the ground truth. */
  committed: Promise<CommittedChange[]>;
}

/**
 * The prepared part of the mixed load: shared orders, and BULK_ROWS orders for one big UPDATE
 * later. Done before subscribers start, so they receive only the UPDATE of those rows.
 */
export async function prepareMixedLoad(database: TestDatabase) {
  return withClient(database.url, async (client) => {
    const { rows } = await client.query<{ id: string; version: number }>(
      `INSERT INTO orders (customer_name, product_name) SELECT 'seed', 'item ' || g FROM generate_series(1, 4) g
       RETURNING id, version`,
    );
    await client.query(
      `INSERT INTO orders (customer_name, product_name) SELECT 'bulk', 'bulk ' || g FROM generate_series(1, ${BULK_ROWS}) g`,
    );
    return { ids: rows.map((r) => String(r.id)) };
  });
}

/**
 * Writers that reconnect, so that the load runs through a fault: short transactions with
 * rollbacks and slow ones, one long transaction, and one 20,000-row UPDATE. Only what a COMMIT
 * confirmed is expected; a transaction whose COMMIT got no answer is looked up afterwards in the
 * database (its changes are in the log if, and only if, it committed). `until` keeps the short
 * writers going in rounds until it resolves.
 */
export async function runMixedLoad(
  url: string,
  sharedIds: string[],
  options: {
    until: Promise<unknown>;
    workload?: Partial<WorkloadOptions>;
    longMs?: number;
    bulkAfterMs?: number;
  },
): Promise<CommittedChange[]> {
  let done = false;
  void options.until.finally(() => {
    done = true;
  });
  const committed: CommittedChange[] = [];
  const uncertain: UncertainTransaction[] = [];
  const rounds = (async () => {
    do {
      committed.push(
        ...(await runWorkload(url, {
          writers: 3,
          transactionsPerWriter: 8,
          sharedIds,
          rollbackRate: 0.1,
          slowRate: 0.2,
          slowMs: 100,
          uncertain,
          ...options.workload,
        })),
      );
      if (!done) await sleep(100);
    } while (!done);
  })();
  const long = untilCommitted(url, (client, tag) => longTransaction(client, tag, options.longMs ?? 3_000));
  const bulk = sleep(options.bulkAfterMs ?? 500).then(() => untilCommitted(url, bulkUpdate));
  const [, longChanges, bulkChanges] = await Promise.all([rounds, long, bulk]);
  return [...committed, ...(await committedOf(url, uncertain)), ...longChanges, ...bulkChanges];
}

/**
 * The uncertain transactions that did commit: those whose every change is in the change log under
 * their own transaction id. (pg_xact_status alone is not enough: after an immediate shutdown, the
 * id of a transaction whose WAL was lost is handed out again, to a transaction that commits.)
 */
async function committedOf(url: string, uncertain: UncertainTransaction[]): Promise<CommittedChange[]> {
  const found: CommittedChange[] = [];
  for (const { txid, changes } of uncertain) {
    const [row] = await withClient(url, async (client) => {
      const { rows } = await client.query<{ n: string }>(
        `SELECT count(*) AS n FROM order_changes oc
         JOIN unnest($2::bigint[], $3::text[], $4::int[]) AS c(id, op, version)
           ON oc.order_id = c.id AND oc.op = c.op
          AND (coalesce(oc.new_row, oc.old_row)->>'version')::int = c.version
         WHERE oc.txid = $1::xid8`,
        [txid, changes.map((c) => c.id), changes.map((c) => c.op), changes.map((c) => c.version)],
      );
      return rows;
    });
    if (changes.length > 0 && Number(row?.n) === changes.length) {
      found.push(...changes.map((c) => ({ ...c, tx: `${c.tx} (commit unanswered)` })));
    }
  }
  return found;
}

/**
 * Runs `attempt` (one transaction, tagged) until it commits. A failed attempt is looked up by its
 * tag: if its COMMIT went through before the connection died, it is not run twice.
 */
async function untilCommitted(
  url: string,
  attempt: (client: pg.Client, tag: string) => Promise<CommittedChange[]>,
  deadlineMs = 120_000,
): Promise<CommittedChange[]> {
  const deadline = Date.now() + deadlineMs;
  for (let n = 1; ; n++) {
    const tag = `t${Date.now()}-${n}`;
    try {
      return await withClient(url, (client) => attempt(client, tag));
    } catch (error) {
      const rows = await withClient(url, (client) =>
        client.query<{ id: string; version: number; customer_name: string }>(
          `SELECT id, version, customer_name FROM orders WHERE product_name = $1`,
          [tag],
        ),
      ).catch(() => undefined);
      if (rows && rows.rows.length > 0) {
        return rows.rows.map((r) => ({
          op: r.customer_name === 'long' ? 'INSERT' : 'UPDATE',
          id: String(r.id),
          version: r.version,
          tx: tag,
        }));
      }
      if (Date.now() > deadline) throw error;
      await sleep(500);
    }
  }
}

async function withClient<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  client.on('error', () => {});
  await client.connect();
  try {
    // These writers are not the service: whatever a DBA set on the database, they do not time out.
    await client.query(
      'SET statement_timeout = 0; SET lock_timeout = 0; SET idle_in_transaction_session_timeout = 0',
    );
    return await run(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Inserts an order, waits `ms` inside the transaction, then commits. */
async function longTransaction(client: pg.Client, tag: string, ms: number): Promise<CommittedChange[]> {
  await client.query('BEGIN');
  const { rows } = await client.query(
    `INSERT INTO orders (customer_name, product_name) VALUES ('long', $1) RETURNING id, version`,
    [tag],
  );
  await sleep(ms);
  await client.query('COMMIT');
  return [{ op: 'INSERT', id: String(rows[0].id), version: rows[0].version, tx: tag }];
}

/** One statement updating BULK_ROWS orders; its product_name tags the attempt. */
async function bulkUpdate(client: pg.Client, tag: string): Promise<CommittedChange[]> {
  const { rows } = await client.query(
    `UPDATE orders SET quantity = quantity % 1000 + 1, product_name = $1 WHERE customer_name = 'bulk'
     RETURNING id, version`,
    [tag],
  );
  return rows.map((r) => ({ op: 'UPDATE' as const, id: String(r.id), version: r.version, tx: tag }));
}

export interface ServiceWrites {
  /** Mutations the service answered with an order: committed. */
  committed: CommittedChange[];
  /** Names of orders whose createOrder failed, with the error code and how long it took. */
  failed: { name: string; code: string | undefined; ms: number }[];
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
    else writes.failed.push({ name, code: body.errors?.[0]?.extensions?.code, ms: Date.now() - started });
    await sleep(pauseMs);
  }
  return writes;
}

/** Failed createOrders that nevertheless committed (the answer was lost, not the write). */
export async function committedDespiteFailure(database: TestDatabase, writes: ServiceWrites) {
  if (writes.failed.length === 0) return [];
  const rows = await database.sql<{ id: string; version: number; customer_name: string }>(
    'SELECT id, version, customer_name FROM orders WHERE customer_name = ANY($1)',
    [writes.failed.map((f) => f.name)],
  );
  return rows.map((r) => ({
    op: 'INSERT' as const,
    id: String(r.id),
    version: r.version,
    tx: r.customer_name,
  }));
}
