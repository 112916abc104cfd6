import { expect, test } from 'vitest';
import type { OrderChange } from '../../src/changes/change.ts';
import { isMysqlUrl } from '../../src/db/mysql.ts';
import { collect, feedForFile, waitForCount } from './harness.ts';
import { insertOrders } from './order-writer.ts';

const shared = feedForFile();

const describe = (c: { operation: string; order: { customerName: string; version: number } }) =>
  `${c.operation} ${c.order.customerName} v${c.order.version}`;

// The same changes made by each database's own statements. MySQL has no MERGE (a multi-table
// UPDATE instead), and its TRUNCATE is DDL that writes no rows to the binary log: it is refused
// there (migrations/mysql/…_refuse-truncate.ts) rather than lost, and DELETE stands for it.
const statements = (id: string) =>
  isMysqlUrl(shared.database.url)
    ? {
        upsert: `INSERT INTO orders (id, customer_name, product_name) VALUES (${id}, 'upsert', 'b'), (1000, 'fresh', 'c')
                 ON DUPLICATE KEY UPDATE product_name = VALUES(product_name)`,
        merge: `UPDATE orders o JOIN (SELECT 1000 AS id, 'shipped' AS status) v ON o.id = v.id SET o.status = v.status`,
        truncate: 'DELETE FROM orders',
      }
    : {
        upsert: `INSERT INTO orders (id, customer_name, product_name) VALUES (${id}, 'upsert', 'b'), (1000, 'fresh', 'c')
                 ON CONFLICT (id) DO UPDATE SET product_name = EXCLUDED.product_name`,
        merge: `MERGE INTO orders o USING (VALUES (1000, 'shipped')) AS v(id, status) ON o.id = v.id
                WHEN MATCHED THEN UPDATE SET status = v.status`,
        truncate: 'TRUNCATE orders',
      };

test('every way of writing is captured: upsert, MERGE (MySQL: UPDATE … JOIN), TRUNCATE (MySQL: refused, DELETE)', async () => {
  const subscriber = collect(await shared.feed.subscribe());
  const [first] = await insertOrders(shared.database.url, [{ customer: 'upsert', product: 'a' }]);
  const sql = statements(String(Number(first)));
  // Upsert: one statement, an insert and an update.
  await shared.database.sql(sql.upsert);
  await shared.database.sql(sql.merge);
  if (isMysqlUrl(shared.database.url)) {
    await expect(shared.database.sql('TRUNCATE orders')).rejects.toThrow(/foreign key/);
  }
  await shared.database.sql(sql.truncate);
  await waitForCount(subscriber.changes, 6);
  await subscriber.stop();
  const seen = subscriber.changes.map(describe);
  expect(seen.slice(0, 1)).toEqual(['INSERT upsert v1']);
  // The upsert's two changes arrive together, in the order the database made them.
  expect(seen.slice(1, 3).sort()).toEqual(['INSERT fresh v1', 'UPDATE upsert v2']);
  expect(seen[3]).toBe('UPDATE fresh v2');
  expect(seen.slice(4).sort()).toEqual(['DELETE fresh v2', 'DELETE upsert v2']);
});

test('plain SQL writes are delivered, with version and updated_at kept by the database', async () => {
  const subscriber = collect(await shared.feed.subscribe({ filter: { statuses: ['pending'] } }));
  await shared.database.sql(
    "INSERT INTO orders (customer_name, product_name, status) VALUES ('John Doe', 'Laptop', 'pending')",
  );
  await shared.database.sql("UPDATE orders SET status = 'shipped' WHERE customer_name = 'John Doe'");
  await waitForCount(subscriber.changes, 2);
  await subscriber.stop();
  const [insert, update] = subscriber.changes as [OrderChange, OrderChange];
  expect(insert.operation).toBe('INSERT');
  expect(insert.order).toMatchObject({ customerName: 'John Doe', status: 'pending', version: 1 });
  // CONTRACT.md: an INSERT reports every field as changed.
  expect([...insert.changedFields].sort()).toEqual(
    ['id', 'customerName', 'productName', 'quantity', 'status', 'version', 'createdAt', 'updatedAt'].sort(),
  );
  expect(update.operation).toBe('UPDATE');
  expect(update.order.version).toBe(2);
  expect(update.previous?.status).toBe('pending');
  expect(update.changedFields).toEqual(expect.arrayContaining(['status', 'version', 'updatedAt']));
  expect(update.order.updatedAt.getTime()).toBeGreaterThanOrEqual(insert.order.updatedAt.getTime());
  await expect(
    shared.database.sql(
      "INSERT INTO orders (customer_name, product_name, status) VALUES ('x', 'y', 'PENDING')",
    ),
  ).rejects.toThrow(/orders_status_known/);
});
