import mysql from 'mysql2/promise';
import pg from 'pg';
import { isMysqlUrl, mysqlOptions } from '../../src/db/mysql.ts';

/** What one write did to its row, as the database reported it. */
export interface WrittenRow {
  id: string;
  version: number;
}

/**
 * A connection of its own that writes orders in transactions, as another program would: the same
 * calls on PostgreSQL and on MySQL/MariaDB (the URL chooses). Each write reports the row it wrote:
 * PostgreSQL's RETURNING; MySQL has none, so the row is read back in the same transaction, under
 * the write's own row lock.
 */
export interface OrderWriter {
  begin(): Promise<void>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
  /** This transaction's id, so that a COMMIT that got no answer can be looked up later (PostgreSQL). */
  transactionId(): Promise<string>;
  insert(values: {
    customer: string;
    product?: string;
    quantity?: number;
    status?: string;
  }): Promise<WrittenRow>;
  /** Sets `status`, or else bumps the quantity; undefined when no row has this id. */
  update(id: string, set?: { status?: string }): Promise<WrittenRow | undefined>;
  /** The row as it was when deleted; undefined when no row has this id. */
  delete(id: string): Promise<WrittenRow | undefined>;
  /** The connection died: its next query fails. */
  readonly broken: boolean;
  end(): Promise<void>;
}

export function openWriter(url: string): Promise<OrderWriter> {
  return isMysqlUrl(url) ? openMysqlWriter(url) : openPostgresWriter(url);
}

// Placeholders in text order, so that MySQL's positional `?` take the same values.
const updateStatement = (id: string, set: { status?: string } | undefined) =>
  set?.status === undefined
    ? { text: 'UPDATE orders SET quantity = quantity % 1000 + 1 WHERE id = $1', values: [id] }
    : { text: 'UPDATE orders SET status = $1 WHERE id = $2', values: [set.status, id] };

async function openPostgresWriter(url: string): Promise<OrderWriter> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  let broken = false;
  client.on('error', () => {
    broken = true;
  });
  await client.connect();
  const row = (rows: { id: string | number; version: number }[]) =>
    rows[0] ? { id: String(rows[0].id), version: rows[0].version } : undefined;
  return {
    get broken() {
      return broken;
    },
    begin: async () => void (await client.query('BEGIN')),
    commit: async () => void (await client.query('COMMIT')),
    rollback: async () => void (await client.query('ROLLBACK')),
    async transactionId() {
      const { rows } = await client.query<{ txid: string }>('SELECT pg_current_xact_id()::text AS txid');
      return rows[0]?.txid as string;
    },
    async insert({ customer, product = 'widget', quantity = 1, status = 'pending' }) {
      const { rows } = await client.query(
        'INSERT INTO orders (customer_name, product_name, quantity, status) VALUES ($1, $2, $3, $4) RETURNING id, version',
        [customer, product, quantity, status],
      );
      return row(rows) as WrittenRow;
    },
    async update(id, set) {
      const { text, values } = updateStatement(id, set);
      const { rows } = await client.query(`${text} RETURNING id, version`, values);
      return row(rows);
    },
    async delete(id) {
      const { rows } = await client.query('DELETE FROM orders WHERE id = $1 RETURNING id, version', [id]);
      return row(rows);
    },
    end: () => client.end().catch(() => {}),
  };
}

async function openMysqlWriter(url: string): Promise<OrderWriter> {
  const client = await mysql.createConnection({ ...mysqlOptions(url), connectTimeout: 5_000 });
  let broken = false;
  client.on('error', () => {
    broken = true;
  });
  const query = async <T>(text: string, values?: unknown[]) =>
    (await client.query(text.replace(/\$\d+/g, '?'), values))[0] as T;
  const version = async (id: string, lock = '') => {
    const rows = await query<mysql.RowDataPacket[]>(`SELECT version FROM orders WHERE id = ? ${lock}`, [id]);
    return rows[0] ? { id, version: Number(rows[0].version) } : undefined;
  };
  return {
    get broken() {
      return broken;
    },
    begin: async () => void (await query('START TRANSACTION')),
    commit: async () => void (await query('COMMIT')),
    rollback: async () => void (await query('ROLLBACK')),
    transactionId() {
      // The binary log has no transaction id a test could look up after a lost COMMIT.
      return Promise.reject(new Error('a lost COMMIT cannot be looked up on MySQL/MariaDB'));
    },
    async insert({ customer, product = 'widget', quantity = 1, status = 'pending' }) {
      const result = await query<mysql.ResultSetHeader>(
        'INSERT INTO orders (customer_name, product_name, quantity, status) VALUES (?, ?, ?, ?)',
        [customer, product, quantity, status],
      );
      return (await version(String(result.insertId))) as WrittenRow;
    },
    async update(id, set) {
      const { text, values } = updateStatement(id, set);
      const result = await query<mysql.ResultSetHeader>(text, values);
      // The version trigger changes every matched row: affected rows are matched rows.
      return result.affectedRows === 1 ? version(id) : undefined;
    },
    async delete(id) {
      const before = await version(id, 'FOR UPDATE');
      if (before) await query('DELETE FROM orders WHERE id = ?', [id]);
      return before;
    },
    end: () => client.end().catch(() => {}),
  };
}

/** Inserts orders in one transaction of a connection of its own; returns their ids in order. */
export async function insertOrders(
  url: string,
  orders: { customer: string; product?: string; quantity?: number; status?: string }[],
): Promise<string[]> {
  const writer = await openWriter(url);
  try {
    await writer.begin();
    const ids: string[] = [];
    for (const order of orders) ids.push((await writer.insert(order)).id);
    await writer.commit();
    return ids;
  } finally {
    await writer.end();
  }
}
