import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createDb, createPool } from '../src/db/connect.ts';
import { migrateToLatest, migrationFolder } from '../src/db/migrate.ts';
import { createTestDatabase, databaseUrl, type TestDatabase } from './helpers/database.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

const insert = (values: string) =>
  database.sql(`INSERT INTO orders (customer_name, product_name, quantity, status) VALUES ${values}`);

/** The pg error a statement fails with, or undefined when it succeeds. */
async function failure(run: Promise<unknown>): Promise<{ code?: string; constraint?: string } | undefined> {
  try {
    await run;
    return undefined;
  } catch (error) {
    return error as { code?: string; constraint?: string };
  }
}

async function withAdmin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl('postgres') });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

test('migrations apply to an empty database, and applying them again changes nothing', async () => {
  const name = `ro_empty_${randomBytes(6).toString('hex')}`;
  await withAdmin((admin) => admin.query(`CREATE DATABASE ${name}`));
  const db = createDb(createPool(databaseUrl(name), 2));
  try {
    const applied = await migrateToLatest(db);
    const files = readdirSync(migrationFolder).filter((f) => f.endsWith('.ts'));
    expect(applied).toEqual(files.map((f) => f.replace(/\.ts$/, '')).sort());
    expect(applied.slice(0, 2)).toEqual(['2026-11-22T00-00_orders', '2026-11-22T00-01_change-log']);
    const tables = (await db.introspection.getTables()).map((t) => t.name);
    expect(tables).toEqual(expect.arrayContaining(['change_ticks', 'order_changes', 'orders']));
    expect(await migrateToLatest(db)).toEqual([]);
  } finally {
    await db.destroy();
    await withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  }
});

test("the contract's plain SQL insert works and gets version 1 and equal timestamps", async () => {
  const [row] = await database.sql<{
    id: string;
    quantity: number;
    version: number;
    created_at: Date;
    updated_at: Date;
  }>(
    `INSERT INTO orders (customer_name, product_name, status) VALUES ('John Doe', 'Laptop', 'pending') RETURNING *`,
  );
  expect(row).toMatchObject({ customer_name: 'John Doe', quantity: 1, status: 'pending', version: 1 });
  expect(row?.updated_at).toEqual(row?.created_at);
});

test('an insert cannot choose its own version', async () => {
  const [row] = await database.sql<{ version: number }>(
    `INSERT INTO orders (customer_name, product_name, version) VALUES ('A', 'B', 99) RETURNING version`,
  );
  expect(row?.version).toBe(1);
});

describe('the database enforces the input limits by itself', () => {
  test.each([
    ["('', 'Laptop', 1, 'pending')", 'orders_customer_name_length'],
    ["('   ', 'Laptop', 1, 'pending')", 'orders_customer_name_length'],
    [`('${'x'.repeat(201)}', 'Laptop', 1, 'pending')`, 'orders_customer_name_length'],
    ["('Ann', '', 1, 'pending')", 'orders_product_name_length'],
    [`('Ann', '${'y'.repeat(201)}', 1, 'pending')`, 'orders_product_name_length'],
    ["('Ann', 'Laptop', 0, 'pending')", 'orders_quantity_range'],
    ["('Ann', 'Laptop', -5, 'pending')", 'orders_quantity_range'],
    ["('Ann', 'Laptop', 1000001, 'pending')", 'orders_quantity_range'],
    ["('Ann', 'Laptop', 1, 'PENDING')", 'orders_status_known'],
    ["('Ann', 'Laptop', 1, 'lost')", 'orders_status_known'],
  ])('refuses %s', async (values, constraint) => {
    expect(await failure(insert(values))).toMatchObject({ code: '23514', constraint });
  });

  test('refuses missing names and null status', async () => {
    expect(await failure(insert("(NULL, 'Laptop', 1, 'pending')"))).toMatchObject({ code: '23502' });
    expect(await failure(insert("('Ann', 'Laptop', 1, NULL)"))).toMatchObject({ code: '23502' });
  });

  test('accepts the limits themselves and every status', async () => {
    const name = 'n'.repeat(200);
    await insert(`('${name}', ' ${name} ', 1, 'pending'), ('Ann', 'Laptop', 1000000, 'processing')`);
    await insert(`('Ann', 'L', 1, 'shipped'), ('Ann', 'L', 1, 'delivered'), ('Ann', 'L', 1, 'cancelled')`);
  });

  test('refuses an update that breaks a limit, and changing the id', async () => {
    const [row] = await insert(`('Ann', 'Laptop', 1, 'pending') RETURNING id`);
    const id = (row as { id: string }).id;
    expect(await failure(database.sql('UPDATE orders SET quantity = 0 WHERE id = $1', [id]))).toMatchObject({
      constraint: 'orders_quantity_range',
    });
    expect(
      await failure(database.sql(`UPDATE orders SET status = 'gone' WHERE id = $1`, [id])),
    ).toMatchObject({
      constraint: 'orders_status_known',
    });
    expect(
      await failure(database.sql('UPDATE orders SET id = id + 100000 WHERE id = $1', [id])),
    ).toMatchObject({
      code: '23514',
    });
  });
});

test('every UPDATE, even plain SQL, raises version by one and moves updated_at', async () => {
  const [created] = await database.sql<{ id: string; version: number; created_at: Date; updated_at: Date }>(
    `INSERT INTO orders (customer_name, product_name) VALUES ('Bo', 'Desk') RETURNING *`,
  );
  if (!created) throw new Error('no row');
  await new Promise((r) => setTimeout(r, 5));
  const [once] = await database.sql<{ version: number; created_at: Date; updated_at: Date }>(
    `UPDATE orders SET status = 'shipped' WHERE id = $1 RETURNING *`,
    [created.id],
  );
  expect(once?.version).toBe(2);
  expect(once?.created_at).toEqual(created.created_at);
  expect(once?.updated_at.getTime()).toBeGreaterThan(created.updated_at.getTime());
  // Neither an explicit version nor an explicit timestamp overrides the trigger.
  const [twice] = await database.sql<{ version: number; created_at: Date }>(
    `UPDATE orders SET version = 1, created_at = '2000-01-01', quantity = 3 WHERE id = $1 RETURNING *`,
    [created.id],
  );
  expect(twice?.version).toBe(3);
  expect(twice?.created_at).toEqual(created.created_at);
  // A no-op update is still an update.
  const [thrice] = await database.sql<{ version: number }>(
    'UPDATE orders SET quantity = quantity WHERE id = $1 RETURNING *',
    [created.id],
  );
  expect(thrice?.version).toBe(4);
});

describe('the change log', () => {
  interface ChangeRow {
    seq: string;
    txid: string;
    op: string;
    order_id: string;
    old_row: Record<string, unknown> | null;
    new_row: Record<string, unknown> | null;
  }
  const changesOf = (id: string) =>
    database.sql<ChangeRow>(
      'SELECT seq, txid::text, op, order_id::text, old_row, new_row FROM order_changes WHERE order_id = $1 ORDER BY seq',
      [id],
    );

  test('records one row per changed row, each with its transaction id', async () => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<{ id: string }>(
        `INSERT INTO orders (customer_name, product_name) VALUES ('C1', 'P'), ('C2', 'P') RETURNING id`,
      );
      const ids = rows.map((r) => r.id);
      await client.query(`UPDATE orders SET status = 'processing' WHERE id = ANY($1)`, [ids]);
      const { rows: tx } = await client.query<{ txid: string }>('SELECT pg_current_xact_id()::text AS txid');
      await client.query('COMMIT');
      await database.sql(`DELETE FROM orders WHERE id = $1`, [ids[0]]);

      const first = await changesOf(ids[0] as string);
      expect(first.map((c) => c.op)).toEqual(['INSERT', 'UPDATE', 'DELETE']);
      expect(first[0]?.txid).toBe(tx[0]?.txid);
      expect(first[1]?.txid).toBe(tx[0]?.txid);
      expect(first[2]?.txid).not.toBe(tx[0]?.txid);
      expect(first[0]).toMatchObject({ old_row: null, new_row: { customer_name: 'C1', version: 1 } });
      expect(first[1]).toMatchObject({
        old_row: { status: 'pending', version: 1 },
        new_row: { status: 'processing', version: 2 },
      });
      expect(first[2]).toMatchObject({ old_row: { status: 'processing', version: 2 }, new_row: null });
      expect((await changesOf(ids[1] as string)).map((c) => c.op)).toEqual(['INSERT', 'UPDATE']);
    } finally {
      await client.end();
    }
  });

  test('a statement that changes no row writes nothing', async () => {
    const before = await database.sql<{ n: string }>('SELECT count(*) AS n FROM order_changes');
    await database.sql(`UPDATE orders SET quantity = 2 WHERE id = -1`);
    await database.sql(`DELETE FROM orders WHERE id = -1`);
    expect(await database.sql('SELECT count(*) AS n FROM order_changes')).toEqual(before);
  });

  test('rolled-back writes leave neither orders nor changes behind', async () => {
    const before = await database.sql<{ orders: string; changes: string }>(
      'SELECT (SELECT count(*) FROM orders) AS orders, (SELECT count(*) FROM order_changes) AS changes',
    );
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      await client.query('BEGIN');
      await client.query(`INSERT INTO orders (customer_name, product_name) VALUES ('Rolled', 'Back')`);
      await client.query(`UPDATE orders SET quantity = 7`);
      await client.query(`DELETE FROM orders WHERE customer_name = 'Bo'`);
      await client.query('ROLLBACK');
    } finally {
      await client.end();
    }
    const after = await database.sql(
      'SELECT (SELECT count(*) FROM orders) AS orders, (SELECT count(*) FROM order_changes) AS changes',
    );
    expect(after).toEqual(before);
    expect(await database.sql(`SELECT 1 FROM orders WHERE customer_name = 'Rolled'`)).toEqual([]);
  });

  test('TRUNCATE is recorded as one DELETE per row', async () => {
    const [{ n } = { n: '0' }] = await database.sql<{ n: string }>('SELECT count(*) AS n FROM orders');
    const [{ seq } = { seq: '0' }] = await database.sql<{ seq: string }>(
      'SELECT coalesce(max(seq), 0) AS seq FROM order_changes',
    );
    expect(Number(n)).toBeGreaterThan(0);
    await database.sql('TRUNCATE orders');
    const deletes = await database.sql<{ op: string; new_row: unknown }>(
      'SELECT op, new_row FROM order_changes WHERE seq > $1',
      [seq],
    );
    expect(deletes).toHaveLength(Number(n));
    expect(deletes.every((d) => d.op === 'DELETE' && d.new_row === null)).toBe(true);
  });
});
