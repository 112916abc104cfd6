import { createClient } from 'graphql-ws';
import pg from 'pg';
import { afterAll, beforeAll, expect, test } from 'vitest';
import WebSocket from 'ws';
import { startTestService, type TestService } from '../helpers/service.ts';
import { waitFor } from '../helpers/wait.ts';
import { onMysql } from './backend-sql.ts';
import { insertOrders } from './order-writer.ts';

// On PostgreSQL and on MySQL/MariaDB (vitest project `mysql`), but for changedBy.

let service: TestService;
beforeAll(async () => {
  service = await startTestService();
});
afterAll(async () => {
  await service?.stop();
});

interface Seen {
  operation: string;
  order: { id: string; status: string };
  previous: { status: string } | null;
  changedFields: string[];
}

test('filters run on the server: statuses match before or after, fields AND, values OR', async () => {
  const client = createClient({ url: service.wsUrl, webSocketImpl: WebSocket });
  const subscribe = (where: unknown) => {
    const seen: Seen[] = [];
    client.subscribe<{ orderChanged: Seen }>(
      {
        query: `subscription ($where: OrderChangeFilter) { orderChanged(where: $where) {
          operation changedFields order { id status } previous { status } } }`,
        variables: { where },
      },
      { next: ({ data }) => data && seen.push(data.orderChanged), error: () => {}, complete: () => {} },
    );
    return seen;
  };
  try {
    const all = subscribe(null);
    const pending = subscribe({ statuses: ['PENDING'] });
    const shippedUpdates = subscribe({ statuses: ['SHIPPED', 'DELIVERED'], operations: ['UPDATE'] });
    // Accepted means started: each delivers what commits from then on (not from a fixed pause).
    const accepted = (n: number) => () => service.feed.status().subscribers === n;
    await waitFor(accepted(3), { message: 'three subscriptions accepted' });
    const [A, B] = (await insertOrders(service.database.url, [
      { customer: 'A', product: 'x' },
      { customer: 'B', product: 'y' },
    ])) as [string, string];
    await waitFor(() => all.length >= 2);
    const onlyA = subscribe({ ids: [A] });
    await waitFor(accepted(4), { message: 'the fourth subscription accepted' });
    await service.database.sql(`UPDATE orders SET status = 'processing' WHERE id = $1`, [A]);
    await service.database.sql(`UPDATE orders SET status = 'shipped' WHERE id = $1`, [A]);
    await service.database.sql(`UPDATE orders SET quantity = 5 WHERE id = $1`, [B]);
    await service.database.sql(`DELETE FROM orders WHERE id = $1`, [B]);
    await waitFor(() => all.length >= 6);
    await new Promise((r) => setTimeout(r, 300));

    const describe = (list: Seen[]) =>
      list.map((c) => `${c.operation} ${c.order.id} ${c.previous?.status ?? '-'}>${c.order.status}`);
    expect(describe(all)).toEqual([
      `INSERT ${A} ->PENDING`,
      `INSERT ${B} ->PENDING`,
      `UPDATE ${A} PENDING>PROCESSING`,
      `UPDATE ${A} PROCESSING>SHIPPED`,
      `UPDATE ${B} PENDING>PENDING`,
      `DELETE ${B} PENDING>PENDING`,
    ]);
    // A subscriber to PENDING sees an order leave PENDING, and B's changes while it stays there.
    expect(describe(pending)).toEqual([
      `INSERT ${A} ->PENDING`,
      `INSERT ${B} ->PENDING`,
      `UPDATE ${A} PENDING>PROCESSING`,
      `UPDATE ${B} PENDING>PENDING`,
      `DELETE ${B} PENDING>PENDING`,
    ]);
    expect(describe(shippedUpdates)).toEqual([`UPDATE ${A} PROCESSING>SHIPPED`]);
    expect(describe(onlyA)).toEqual([`UPDATE ${A} PENDING>PROCESSING`, `UPDATE ${A} PROCESSING>SHIPPED`]);
    expect(all[2]?.changedFields.sort()).toEqual(['status', 'updatedAt', 'version']);
    expect(all[5]?.changedFields).toEqual([]);
  } finally {
    await client.dispose();
  }
});

test('a malformed id in a filter is BAD_USER_INPUT', async () => {
  const { errors } = await service.graphql('{ orderChanges(where: { ids: ["nope"] }) { cursor } }');
  expect(errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
});

// PostgreSQL only: MySQL sessions have no application name (MySQL's changedBy, the API's subject
// or the session's user, is checked in test/mysql/changed-by.test.ts).
test.skipIf(onMysql)(
  'changedBy names the writing session: the service itself, or another client by its application_name',
  async () => {
    const live = service.feed.subscribe({ filter: { operations: ['INSERT'] } });
    const iterator = await live;
    await service.graphql(
      'mutation { createOrder(input: { customerName: "Via", productName: "API" }) { id } }',
    );
    const client = new pg.Client({ connectionString: service.database.url, application_name: 'billing-job' });
    await client.connect();
    await client.query(`INSERT INTO orders (customer_name, product_name) VALUES ('Via', 'SQL')`);
    await client.end();
    const first = await iterator.next();
    const second = await iterator.next();
    await iterator.return?.();
    const user = new URL(service.database.url).username;
    expect(first.value.changedBy).toBe(`realtime-orders as ${user}`);
    expect(second.value.changedBy).toBe(`billing-job as ${user}`);
  },
);
