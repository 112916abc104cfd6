import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createMysqlDb } from '../../src/db/mysql.ts';
import { deleteScopedOrder, updateScopedOrder } from '../../src/orders/scope.ts';
import { call, gql, startAuthService } from '../auth/harness.ts';
import { mint } from '../auth/tokens.ts';
import { mysqlServerUrl } from '../helpers/mysql-database.ts';
import type { TestService } from '../helpers/service.ts';
import { waitFor } from '../helpers/wait.ts';

// changedBy on MySQL/MariaDB, as on PostgreSQL (test/auth/http.test.ts): writes through the API
// name the token's subject, every other session its database user; inserts, updates and deletes.
describe.skipIf(!mysqlServerUrl)('changedBy on MySQL/MariaDB', () => {
  let service: TestService;
  let user: string;
  let reader: string;
  beforeAll(async () => {
    // The mysql project's databases come with a user of their own (createMysqlTestDatabase).
    service = await startAuthService();
    user = new URL(service.database.url).username;
    reader = await mint({ role: 'reader', sub: 'rita' });
  });
  afterAll(async () => {
    await service?.stop();
  });

  const history = (id: string, count: number) =>
    waitFor(
      async () => {
        const { json } = await gql(
          service,
          reader,
          'query ($ids: [ID!]) { orderChanges(where: { ids: $ids }) { operation changedBy order { version } } }',
          { ids: [id] },
        );
        return json.data.orderChanges.length === count && json.data.orderChanges;
      },
      { timeoutMs: 20_000, message: `${count} changes of order ${id}` },
    );

  test("GraphQL and REST writes name the token's subject; plain SQL names its user", async () => {
    const alice = await mint({ role: 'writer', sub: 'alice' });
    const created = await gql(
      service,
      alice,
      'mutation ($input: CreateOrderInput!) { createOrder(input: $input) { id } }',
      { input: { customerName: 'W', productName: 'P' } },
    );
    const { id } = created.json.data.createOrder;
    await service.database.sql(`UPDATE orders SET quantity = 2 WHERE id = ${Number(id)}`);
    const put = await call(service, `/api/orders/${id}`, {
      method: 'PUT',
      token: await mint({ role: 'writer', sub: 'carol' }),
      body: { quantity: 3 },
    });
    expect(put.status).toBe(200);
    await service.database.sql(`UPDATE orders SET quantity = 4 WHERE id = ${Number(id)}`);
    await gql(
      service,
      await mint({ role: 'writer', sub: 'bob' }),
      'mutation ($id: ID!) { deleteOrder(id: $id) { id } }',
      { id },
    );
    expect(await history(id, 5)).toEqual([
      { operation: 'INSERT', changedBy: 'api:alice', order: { version: 1 } },
      { operation: 'UPDATE', changedBy: user, order: { version: 2 } },
      { operation: 'UPDATE', changedBy: 'api:carol', order: { version: 3 } },
      { operation: 'UPDATE', changedBy: user, order: { version: 4 } },
      { operation: 'DELETE', changedBy: 'api:bob', order: { version: 4 } },
    ]);
  });

  test('a plain SQL delete names its user, not the last writer; one transaction of several writes keeps its name', async () => {
    const alice = await mint({ role: 'writer', sub: 'alice' });
    const { json } = await gql(
      service,
      alice,
      'mutation ($input: CreateOrderInput!) { createOrder(input: $input) { id } }',
      { input: { customerName: 'D', productName: 'P' } },
    );
    const { id } = json.data.createOrder;
    await service.database.sql(
      `INSERT INTO orders (customer_name, product_name) VALUES ('bulk', 'a'), ('bulk', 'b')`,
    );
    await service.database.sql(`DELETE FROM orders WHERE id = ${Number(id)} OR customer_name = 'bulk'`);
    expect(await history(id, 2)).toEqual([
      { operation: 'INSERT', changedBy: 'api:alice', order: { version: 1 } },
      { operation: 'DELETE', changedBy: user, order: { version: 1 } },
    ]);
    const { json: all } = await gql(
      service,
      reader,
      `{ orderChanges(first: 1000) { operation changedBy order { customerName } } }`,
    );
    const bulk = all.data.orderChanges.filter((c: any) => c.order.customerName === 'bulk');
    expect(bulk.map((c: any) => [c.operation, c.changedBy])).toEqual([
      ['INSERT', user],
      ['INSERT', user],
      ['DELETE', user],
      ['DELETE', user],
    ]);
  });

  test("a pooled session lent after an API write, even a failed one, does not carry that write's name", async () => {
    // One connection: whatever an API write leaves on its session, the next write finds.
    const db = createMysqlDb(service.database.url, 1);
    try {
      const [row] = await service.database.sql<{ id: number }>(
        "INSERT INTO orders (customer_name, product_name) VALUES ('pool', 'p') RETURNING id",
      );
      const id = String(row?.id);
      await expect(
        updateScopedOrder(db, { actor: 'api:mallory' }, id, { quantity: 9 }, 7),
      ).rejects.toMatchObject({ code: 'CONFLICT' });
      await updateScopedOrder(db, { actor: 'api:dave' }, id, { quantity: 8 });
      await updateScopedOrder(db, {}, id, { quantity: 7 });
      await deleteScopedOrder(db, {}, id);
      expect((await history(id, 4)).map((c: any) => c.changedBy)).toEqual([user, 'api:dave', user, user]);
    } finally {
      await db.destroy();
    }
  });
});
