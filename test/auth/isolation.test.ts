import pg from 'pg';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { TestService } from '../helpers/service.ts';
import { waitFor } from '../helpers/wait.ts';
import { gql, sseClient, startAuthService, wsClient } from './harness.ts';
import { mint } from './tokens.ts';

let service: TestService;
beforeAll(async () => {
  service = await startAuthService();
});
afterAll(async () => {
  await service?.stop();
});

const CUSTOMERS = ['Ann', 'Bob', 'Cid'];
const CHANGES = `subscription ($after: String, $where: OrderChangeFilter) {
  orderChanged(after: $after, where: $where) { cursor operation order { id version customerName productName } }
}`;

interface Received {
  cursor: string;
  key: string;
}

/** One change, named so that it is unique: operation, order id and the version it left. */
const keyOf = (c: { operation: string; order: { id: string; version: number } }) =>
  `${c.operation}:${c.order.id}:${c.order.version}`;

/**
 * Writers in parallel transactions (some rolled back) that create, update, move between
 * customers and delete orders, plus one statement over every row: thousands of changes.
 */
async function workload(pool: pg.Pool, workers = 4, transactions = 120): Promise<void> {
  const random = (n: number) => Math.floor(Math.random() * n);
  const customer = () => CUSTOMERS[random(CUSTOMERS.length)];
  await Promise.all(
    Array.from({ length: workers }, async () => {
      const client = await pool.connect();
      try {
        for (let t = 0; t < transactions; t++) {
          await client.query('BEGIN');
          try {
            await writeSome(client);
          } catch (error) {
            // Writers touching random rows in random order can deadlock; PostgreSQL then rolls one
            // back, which is just another rollback: the expectation is read from the log after.
            if ((error as { code?: string }).code !== '40P01') throw error;
            await client.query('ROLLBACK');
            continue;
          }
          await client.query(random(10) === 0 ? 'ROLLBACK' : 'COMMIT');
        }
      } finally {
        client.release();
      }
    }),
  );
  async function writeSome(client: pg.PoolClient): Promise<void> {
    for (let s = 0, n = 1 + random(4); s < n; s++) {
      const pick = 'SELECT id FROM orders ORDER BY random() LIMIT 1';
      switch (random(5)) {
        case 0:
        case 1:
          await client.query(
            `INSERT INTO orders (customer_name, product_name) SELECT $1, 'p' || g FROM generate_series(1, $2) g`,
            [customer(), 1 + random(3)],
          );
          break;
        case 2:
          await client.query(`UPDATE orders SET quantity = quantity + 1 WHERE id = (${pick})`);
          break;
        case 3:
          await client.query(`UPDATE orders SET customer_name = $1 WHERE id = (${pick})`, [customer()]);
          break;
        default:
          await client.query(`DELETE FROM orders WHERE id = (${pick})`);
      }
    }
  }
  await pool.query(`UPDATE orders SET status = 'processing'`);
  await pool.query(
    `UPDATE orders SET customer_name = CASE customer_name WHEN 'Ann' THEN 'Bob' WHEN 'Bob' THEN 'Ann' ELSE customer_name END`,
  );
}

test('two customers under a concurrent mixed workload: each receives exactly its own changes, live and resumed', async () => {
  const tokens = {
    Ann: await mint({ role: 'customer', customer: 'Ann' }),
    Bob: await mint({ role: 'customer', customer: 'Bob' }),
  };
  const start = (await gql(service, tokens.Ann, '{ orders(first: 1) { changeCursor } }')).json.data.orders
    .changeCursor;
  const received: Record<string, Received[]> = {};
  const disposers: (() => unknown)[] = [];
  const failures: string[] = [];
  let disposing = false;
  const sink = (name: string) => {
    const list: Received[] = [];
    received[name] = list;
    return {
      next: ({ data, errors }: any) => {
        if (errors) failures.push(`${name}: ${JSON.stringify(errors)}`);
        else list.push({ cursor: data.orderChanged.cursor, key: keyOf(data.orderChanged) });
      },
      error: (error: unknown) => {
        if (!disposing) failures.push(`${name}: ${String(error)}`);
      },
      complete: () => {},
    };
  };
  for (const name of ['Ann', 'Bob'] as const) {
    const ws = wsClient(service, tokens[name]).client;
    disposers.push(ws.subscribe({ query: CHANGES, variables: { after: start } }, sink(`${name} ws`)), () =>
      ws.dispose(),
    );
    // With a filter too: the scope is ANDed with it.
    disposers.push(
      ws.subscribe(
        { query: CHANGES, variables: { after: start, where: { operations: ['UPDATE', 'DELETE'] } } },
        sink(`${name} ws filtered`),
      ),
    );
    const sse = sseClient(service, tokens[name], name === 'Ann');
    disposers.push(sse.subscribe({ query: CHANGES, variables: { after: start } }, sink(`${name} sse`)), () =>
      sse.dispose(),
    );
  }

  const pool = new pg.Pool({ connectionString: service.database.url, max: 5 });
  try {
    await workload(pool);
    // The database's own record of what committed, read apart from the feed: the expectation.
    const log = await pool.query<{ key: string; old: string | null; new: string | null }>(`
      SELECT op || ':' || order_id || ':' || (coalesce(new_row, old_row) ->> 'version') AS key,
             old_row->>'customer_name' AS old, new_row->>'customer_name' AS new
      FROM order_changes ORDER BY seq`);
    expect(log.rows.length).toBeGreaterThan(2_000);
    const expected = (name: string) =>
      log.rows.filter((r) => r.old === name || r.new === name).map((r) => r.key);
    // A last change of each customer's own, after which nothing more may arrive.
    const markers = await pool.query<{ id: string }>(
      `INSERT INTO orders (customer_name, product_name) VALUES ('Ann', 'end'), ('Bob', 'end') RETURNING id`,
    );
    const markerKeys = markers.rows.map((r) => `INSERT:${r.id}:1`);

    for (const [name, list] of Object.entries(received)) {
      const customer = name.split(' ')[0] as string;
      const marker = markerKeys[customer === 'Ann' ? 0 : 1] as string;
      const wanted = name.endsWith('filtered')
        ? expected(customer).filter((key) => !key.startsWith('INSERT'))
        : [...expected(customer), marker];
      await waitFor(() => list.length >= wanted.length && list.at(-1)?.key === wanted.at(-1), {
        timeoutMs: 60_000,
        message: `${name}'s changes`,
      });
      // Same changes, none missing, none extra; cursors strictly increasing.
      expect(new Set(list.map((r) => r.key))).toEqual(new Set(wanted));
      expect(list).toHaveLength(wanted.length);
      for (let i = 1; i < list.length; i++) {
        expect((list[i - 1] as Received).cursor < (list[i] as Received).cursor).toBe(true);
      }
    }

    // Resumed from the middle of what Ann received: exactly the rest, from the log or memory.
    const ann = received['Ann ws'] as Received[];
    const middle = Math.floor(ann.length / 2);
    const resumed = wsClient(service, tokens.Ann).client;
    disposers.push(() => resumed.dispose());
    disposers.push(
      resumed.subscribe(
        { query: CHANGES, variables: { after: (ann[middle - 1] as Received).cursor } },
        sink('Ann resumed'),
      ),
    );
    const rest = received['Ann resumed'] as Received[];
    await waitFor(() => rest.length >= ann.length - middle, { timeoutMs: 60_000 });
    await new Promise((r) => setTimeout(r, 300));
    expect(rest.map((r) => r.key)).toEqual(ann.slice(middle).map((r) => r.key));
    expect(failures).toEqual([]);
  } finally {
    disposing = true;
    for (const dispose of disposers.reverse()) await dispose();
    await pool.end();
  }
}, 180_000);
