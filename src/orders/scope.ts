import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import { isMysqlDb } from '../db/dialect.ts';
import { DomainError } from '../errors.ts';
import { asMysqlActor } from './mysql-writes.ts';
import type { Order } from './order.ts';
import {
  createOrder,
  deleteOrder,
  getOrder,
  type ListOrdersOptions,
  listOrders,
  type OrderPage,
  updateOrder,
} from './repository.ts';
import { validateOrderId } from './validation.ts';

type Db = Kysely<Database>;

/**
 * Whose orders a caller may see and write, and the name its writes are recorded under. The empty
 * scope is everything, recorded as the service's own session (authentication off).
 */
export interface OrderScope {
  /** Only orders with this customerName exist for the caller; others are NOT_FOUND, never revealed. */
  customer?: string | undefined;
  /** Recorded as `changedBy` of this caller's writes, e.g. `api:alice`. */
  actor?: string | undefined;
}

export const forbidden = (message: string) => new DomainError('FORBIDDEN', message);
const notFound = (id: string) => new DomainError('NOT_FOUND', `order ${id} not found`, { id });

export async function getScopedOrder(db: Db, scope: OrderScope, id: unknown): Promise<Order | undefined> {
  const order = await getOrder(db, id);
  return order && visible(scope, order) ? order : undefined;
}

export async function requireScopedOrder(db: Db, scope: OrderScope, id: unknown): Promise<Order> {
  const order = await getScopedOrder(db, scope, id);
  if (!order) throw notFound(String(id));
  return order;
}

export function listScopedOrders(db: Db, scope: OrderScope, options: ListOrdersOptions): Promise<OrderPage> {
  return listOrders(db, { ...options, customerName: scope.customer });
}

export function createScopedOrder(db: Db, scope: OrderScope, input: unknown): Promise<Order> {
  let own = input;
  if (scope.customer !== undefined && input && typeof input === 'object') {
    const { customerName } = input as { customerName?: unknown };
    if (customerName !== undefined && customerName !== null && customerName !== scope.customer) {
      throw forbidden(`customerName: a customer creates orders only for itself (${scope.customer})`);
    }
    own = { ...input, customerName: scope.customer };
  }
  return asActor(db, scope, (trx) => createOrder(trx, own));
}

export function updateScopedOrder(
  db: Db,
  scope: OrderScope,
  id: unknown,
  input: unknown,
  expectedVersion?: unknown,
): Promise<Order> {
  if (scope.customer !== undefined && input && typeof input === 'object') {
    const { customerName } = input as { customerName?: unknown };
    if (customerName !== undefined && customerName !== null && customerName !== scope.customer) {
      throw forbidden('customerName: a customer cannot change the customer of an order');
    }
  }
  return asActor(db, scope, async (trx) => {
    await lockOwn(trx, scope, id);
    return updateOrder(trx, id, input, expectedVersion);
  });
}

export function deleteScopedOrder(db: Db, scope: OrderScope, id: unknown, expectedVersion?: unknown) {
  return asActor(db, scope, async (trx) => {
    await lockOwn(trx, scope, id);
    return deleteOrder(trx, id, expectedVersion);
  });
}

function visible(scope: OrderScope, order: Order): boolean {
  return scope.customer === undefined || order.customerName === scope.customer;
}

// The row stays locked until the write, so it cannot become someone else's in between.
async function lockOwn(trx: Db, scope: OrderScope, id: unknown): Promise<void> {
  if (scope.customer === undefined) return;
  const orderId = validateOrderId(id);
  const row = await trx
    .selectFrom('orders')
    .select('customer_name')
    .where('id', '=', orderId)
    .forUpdate()
    .executeTakeFirst();
  if (row?.customer_name !== scope.customer) throw notFound(orderId);
}

/**
 * Runs a write in a transaction that names its actor: the change log's `actor` default reads the
 * setting `realtime_orders.actor` (migrations/2026-11-27T12-00_api-actor.ts), local to the
 * transaction, so the pooled session's other transactions keep today's application name and user.
 * MySQL/MariaDB: a user variable read by the triggers, set for the transaction (asMysqlActor).
 * Without an actor or a customer, the write runs as before, in one statement.
 */
function asActor<T>(db: Db, scope: OrderScope, write: (trx: Db) => Promise<T>): Promise<T> {
  if (scope.actor === undefined && scope.customer === undefined) return write(db);
  return db.transaction().execute(async (trx: Transaction<Database>) => {
    if (scope.actor === undefined) return write(trx);
    if (isMysqlDb(trx)) return asMysqlActor(trx, scope.actor, () => write(trx));
    await sql`SELECT set_config('realtime_orders.actor', ${scope.actor}, true)`.execute(trx);
    return write(trx);
  });
}
