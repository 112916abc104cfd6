import { type Insertable, type Kysely, sql, type Transaction, type Updateable } from 'kysely';
import type { Database, OrdersTable } from '../db/database.ts';
import type { OrderRow } from './order.ts';

type Db = Kysely<Database>;

/**
 * The writes of repository.ts for MySQL/MariaDB, which have no RETURNING: each runs in a
 * transaction that reads back the row it wrote (its own write, under its own row lock), so the
 * result is that write's row, whatever other sessions do meanwhile.
 */
function inTransaction<T>(db: Db, work: (trx: Db) => Promise<T>): Promise<T> {
  if (db.isTransaction) return work(db);
  return db.transaction().execute((trx: Transaction<Database>) => work(trx));
}

const readRow = (db: Db, id: string | bigint) =>
  db.selectFrom('orders').selectAll().where('id', '=', String(id)).executeTakeFirst() as Promise<
    OrderRow | undefined
  >;

export function insertOrderMysql(db: Db, values: Insertable<OrdersTable>) {
  return inTransaction(db, async (trx) => {
    const result = await trx.insertInto('orders').values(values).executeTakeFirstOrThrow();
    const row = await readRow(trx, result.insertId as bigint);
    if (!row) throw new Error('the inserted order cannot be read back');
    return row;
  });
}

/** Undefined when no row matched (missing, or another version than `version`). */
export function updateOrderMysql(
  db: Db,
  id: string,
  version: number | undefined,
  set: Updateable<OrdersTable>,
): Promise<OrderRow | undefined> {
  return inTransaction(db, async (trx) => {
    let query = trx.updateTable('orders').set(set).where('id', '=', id);
    if (version !== undefined) query = query.where('version', '=', version);
    const result = await query.executeTakeFirst();
    // The version trigger changes every updated row, so affected rows = matched rows.
    if (Number(result.numUpdatedRows) === 0) return undefined;
    return readRow(trx, id);
  });
}

export function deleteOrderMysql(
  db: Db,
  id: string,
  version: number | undefined,
): Promise<OrderRow | undefined> {
  return inTransaction(db, async (trx) => {
    const row = (await trx
      .selectFrom('orders')
      .selectAll()
      .where('id', '=', id)
      .forUpdate()
      .executeTakeFirst()) as OrderRow | undefined;
    if (!row || (version !== undefined && row.version !== version)) return undefined;
    await trx.deleteFrom('orders').where('id', '=', id).execute();
    return row;
  });
}

/**
 * Runs a write of an API caller inside its transaction under the caller's name: the triggers of
 * migrations/mysql/2026-11-27T20-00_change-actor.ts record @realtime_orders_actor as changedBy.
 * A user variable lives as long as the session, which the pool lends to others: it is cleared
 * before the transaction ends, whether the write succeeded or not.
 */
export async function asMysqlActor<T>(trx: Db, actor: string, write: () => Promise<T>): Promise<T> {
  await sql`SET @realtime_orders_actor = ${actor}`.execute(trx);
  try {
    return await write();
  } finally {
    await sql`SET @realtime_orders_actor = NULL`.execute(trx);
  }
}

const COLUMN_FIELDS: Record<string, string> = { customer_name: 'customerName', product_name: 'productName' };

/**
 * MySQL's refusals carry no constraint property: the name is in the message. MariaDB:
 * "CONSTRAINT `orders_quantity_range` failed for ..."; MySQL: "Check constraint
 * 'orders_quantity_range' is violated."; text the column cannot store: "Incorrect string value:
 * ... for column `db`.`orders`.`customer_name` ...".
 */
export function mysqlConstraintOf(error: unknown): { constraint?: string; field?: string } {
  const { message, errno } = error as { message?: string; errno?: number };
  if (typeof message !== 'string') return {};
  const constraint = /(?:CONSTRAINT|Check constraint) [`']([a-z_]+)[`']/.exec(message)?.[1];
  if (constraint) return { constraint };
  if (errno === 1366) {
    const column = /column [`'](?:[^`']+[`']\.[`'])*([a-z_]+)[`']/.exec(message)?.[1];
    return { field: (column && COLUMN_FIELDS[column]) ?? 'input' };
  }
  return {};
}
