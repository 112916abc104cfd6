import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/database.ts';
import { isMysqlDb } from '../db/dialect.ts';
import { badInput, DomainError } from '../errors.ts';
import { deleteOrderMysql, insertOrderMysql, mysqlConstraintOf, updateOrderMysql } from './mysql-writes.ts';
import { type Order, type OrderStatus, orderRowToOrder } from './order.ts';
import {
  validateCreateOrder,
  validateExpectedVersion,
  validateOrderId,
  validatePageSize,
  validateStatus,
  validateUpdateOrder,
} from './validation.ts';

type Db = Kysely<Database>;

export const MAX_PAGE_SIZE = 500;

export async function createOrder(db: Db, input: unknown): Promise<Order> {
  const valid = validateCreateOrder(input);
  const values = {
    customer_name: valid.customerName,
    product_name: valid.productName,
    quantity: valid.quantity,
    status: valid.status,
  };
  if (isMysqlDb(db)) {
    const row = await insertOrderMysql(db, values).catch((error) => rethrowInputError(db, error, valid));
    return orderRowToOrder(row);
  }
  const row = await db
    .insertInto('orders')
    .values(values)
    .returningAll()
    .executeTakeFirstOrThrow()
    .catch((error) => rethrowInputError(db, error, valid));
  return orderRowToOrder(row);
}

export async function updateOrder(
  db: Db,
  id: unknown,
  input: unknown,
  expectedVersion?: unknown,
): Promise<Order> {
  const orderId = validateOrderId(id);
  const valid = validateUpdateOrder(input);
  const version = validateExpectedVersion(expectedVersion);
  const set = {
    customer_name: valid.customerName,
    product_name: valid.productName,
    quantity: valid.quantity,
    status: valid.status,
  };
  if (isMysqlDb(db)) {
    const row = await updateOrderMysql(db, orderId, version, set).catch((error) =>
      rethrowInputError(db, error, valid),
    );
    if (row) return orderRowToOrder(row);
    throw await missingOrConflict(db, orderId, version);
  }
  let query = db.updateTable('orders').set(set).where('id', '=', orderId);
  if (version !== undefined) query = query.where('version', '=', version);
  const row = await query
    .returningAll()
    .executeTakeFirst()
    .catch((error) => rethrowInputError(db, error, valid));
  if (row) return orderRowToOrder(row);
  throw await missingOrConflict(db, orderId, version);
}

export async function deleteOrder(db: Db, id: unknown, expectedVersion?: unknown): Promise<Order> {
  const orderId = validateOrderId(id);
  const version = validateExpectedVersion(expectedVersion);
  if (isMysqlDb(db)) {
    const row = await deleteOrderMysql(db, orderId, version);
    if (row) return orderRowToOrder(row);
    throw await missingOrConflict(db, orderId, version);
  }
  let query = db.deleteFrom('orders').where('id', '=', orderId);
  if (version !== undefined) query = query.where('version', '=', version);
  const row = await query.returningAll().executeTakeFirst();
  if (row) return orderRowToOrder(row);
  throw await missingOrConflict(db, orderId, version);
}

export async function getOrder(db: Db, id: unknown): Promise<Order | undefined> {
  const orderId = validateOrderId(id);
  const row = await db.selectFrom('orders').selectAll().where('id', '=', orderId).executeTakeFirst();
  return row && orderRowToOrder(row);
}

export async function requireOrder(db: Db, id: unknown): Promise<Order> {
  const order = await getOrder(db, id);
  if (!order) throw notFound(String(id));
  return order;
}

export interface OrderPage {
  orders: Order[];
  hasNextPage: boolean;
}

export interface ListOrdersOptions {
  first?: number;
  /** An order id: the page starts after it (keyset pagination by id). */
  afterId?: string;
  status?: OrderStatus | string;
  /** Only this customer's orders (a customer's scope, src/orders/scope.ts). */
  customerName?: string | undefined;
}

export async function listOrders(db: Db, options: ListOrdersOptions = {}): Promise<OrderPage> {
  const first = validatePageSize(options.first ?? 50, MAX_PAGE_SIZE);
  let query = db
    .selectFrom('orders')
    .selectAll()
    .orderBy('id')
    .limit(first + 1);
  if (options.afterId !== undefined)
    query = query.where('id', '>', validateOrderId(options.afterId, 'after'));
  if (options.status !== undefined) query = query.where('status', '=', validateStatus(options.status));
  if (options.customerName !== undefined) query = query.where('customer_name', '=', options.customerName);
  const rows = await query.execute();
  return { orders: rows.slice(0, first).map(orderRowToOrder), hasNextPage: rows.length > first };
}

const notFound = (id: string) => new DomainError('NOT_FOUND', `order ${id} not found`, { id });

async function missingOrConflict(db: Db, id: string, expected: number | undefined): Promise<DomainError> {
  const current = await db.selectFrom('orders').select('version').where('id', '=', id).executeTakeFirst();
  if (!current) return notFound(id);
  return new DomainError(
    'CONFLICT',
    `order ${id} is at version ${current.version}, not the expected version ${expected}`,
    { id, expectedVersion: expected, currentVersion: current.version },
  );
}

const CONSTRAINT_FIELDS: Record<string, [string, string]> = {
  orders_customer_name_length: ['customerName', 'must be 1 to 200 characters'],
  orders_product_name_length: ['productName', 'must be 1 to 200 characters'],
  orders_quantity_range: ['quantity', 'must be from 1 to 1000000'],
  orders_status_known: ['status', 'is not a known status'],
};

// untranslatable_character, character_not_in_repertoire: text the database's encoding cannot hold.
const ENCODING_ERRORS = new Set(['22P05', '22021']);

// Validation runs first; this only catches what the database refuses on its own terms.
async function rethrowInputError(
  db: Db,
  error: unknown,
  valid: { customerName?: string; productName?: string },
): Promise<never> {
  if (isMysqlDb(db)) {
    const refused = mysqlConstraintOf(error);
    const field = refused.constraint ? CONSTRAINT_FIELDS[refused.constraint] : undefined;
    if (field) throw badInput(field[0], field[1]);
    if (refused.field)
      throw badInput(refused.field, "has characters that the database's encoding cannot store");
    throw error;
  }
  const { constraint, code } = error as { constraint?: string; code?: string };
  const field = constraint ? CONSTRAINT_FIELDS[constraint] : undefined;
  if (field) throw badInput(field[0], field[1]);
  if (code && ENCODING_ERRORS.has(code)) {
    // A database created with another encoding than UTF8 (LATIN1, say) cannot store every
    // character; the error does not say which value, so each name is tried alone.
    const unstorable = await firstUnstorable(db, valid);
    throw badInput(unstorable ?? 'input', "has characters that the database's encoding cannot store");
  }
  throw error;
}

async function firstUnstorable(
  db: Db,
  valid: { customerName?: string; productName?: string },
): Promise<string | undefined> {
  for (const field of ['customerName', 'productName'] as const) {
    const value = valid[field];
    if (value === undefined) continue;
    const refused = await sql`SELECT ${value}::text`.execute(db).then(
      () => false,
      (error: { code?: string }) => ENCODING_ERRORS.has(error.code ?? ''),
    );
    if (refused) return field;
  }
  return undefined;
}
