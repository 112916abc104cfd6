import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createDb, createPool } from '../../src/db/connect.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { onMysql } from '../helpers/backend-under-test.ts';
import { databaseUrl, type TestDatabase } from '../helpers/database.ts';
import { createMysqlTestDatabase } from '../helpers/mysql-database.ts';
import { startTestService, type TestService } from '../helpers/service.ts';
import { readState } from './inputs.ts';

// A database created with LATIN1 (an operator's choice the service does not control) cannot hold
// an emoji: PostgreSQL refuses the value (22P05), which must reach the client as its mistake.
async function createLatin1Database(): Promise<TestDatabase> {
  const name = `ro_latin1_${randomBytes(6).toString('hex')}`;
  const admin = async (text: string) => {
    const client = new pg.Client({ connectionString: databaseUrl('postgres') });
    await client.connect();
    await client.query(text).finally(() => client.end());
  };
  await admin(`CREATE DATABASE ${name} ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`);
  const url = databaseUrl(name);
  const db = createDb(createPool(url, 3));
  await migrateToLatest(db);
  return {
    url,
    db,
    async sql(text, values) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      return (await client.query(text, values).finally(() => client.end())).rows;
    },
    async drop() {
      await db.destroy();
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

// MySQL: the migration creates orders as utf8mb4 whatever the database's charset, so the operator's
// choice is the table's: converted to latin1, the server refuses an emoji (1366).
async function createLatin1MysqlDatabase(): Promise<TestDatabase> {
  const database = await createMysqlTestDatabase();
  await database.sql('ALTER TABLE orders CONVERT TO CHARACTER SET latin1 COLLATE latin1_bin');
  return database;
}

let database: TestDatabase;
let service: TestService;
beforeAll(async () => {
  database = onMysql ? await createLatin1MysqlDatabase() : await createLatin1Database();
  service = await startTestService({ database });
});
afterAll(async () => {
  await service?.stop();
  await database?.drop();
});

test('a name the database encoding cannot store is BAD_USER_INPUT naming it; what it can store is kept', async () => {
  const before = await readState(database.db);
  const emoji = await service.graphql(
    'mutation ($input: CreateOrderInput!) { createOrder(input: $input) { id } }',
    { input: { customerName: 'Zoë', productName: 'Cake 😀' } },
  );
  expect(emoji.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'productName' });
  expect(emoji.errors?.[0]?.message).toMatch(/^productName: .*encoding/);
  expect(await readState(database.db)).toEqual(before);

  const rest = await fetch(`${service.url}/api/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ customer_name: 'Ann 😀', product_name: 'Pen' }),
  });
  expect(rest.status).toBe(400);
  expect(await rest.json()).toMatchObject({ error: 'BAD_USER_INPUT', field: 'customer_name' });

  const kept = await service.graphql(
    'mutation ($input: CreateOrderInput!) { createOrder(input: $input) { id customerName } }',
    { input: { customerName: 'Zoë', productName: 'Crème brûlée' } },
  );
  expect(kept.data?.createOrder.customerName).toBe('Zoë');

  const update = await service.graphql(
    'mutation ($id: ID!) { updateOrder(id: $id, input: { customerName: "Zoë 👩‍👩‍👧" }) { id } }',
    { id: kept.data?.createOrder.id },
  );
  expect(update.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'customerName' });
  const [row] = await database.sql('SELECT customer_name, version FROM orders WHERE id = $1', [
    kept.data?.createOrder.id,
  ]);
  expect(row).toEqual({ customer_name: 'Zoë', version: 1 });
});
