import type { OrderStatusValue } from '../db/database.ts';

export type OrderStatus = OrderStatusValue;
export const ORDER_STATUSES: readonly OrderStatus[] = [
  'pending',
  'processing',
  'shipped',
  'delivered',
  'cancelled',
];

/** The values of an order at one moment. */
export interface OrderState {
  customerName: string;
  productName: string;
  quantity: number;
  status: OrderStatus;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface Order extends OrderState {
  /** The database id as a decimal string. */
  id: string;
}

/** A row as read by Kysely, or as captured by the change-log trigger (`row_to_json`, dates as text). */
export interface OrderRow {
  id: string | number;
  customer_name: string;
  product_name: string;
  quantity: number;
  status: OrderStatus;
  version: number;
  created_at: Date | string;
  updated_at: Date | string;
}

export function orderRowToOrder(row: OrderRow): Order {
  return {
    id: String(row.id),
    customerName: row.customer_name,
    productName: row.product_name,
    quantity: row.quantity,
    status: row.status,
    version: row.version,
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
  };
}

// Rows captured by one statement share their timestamps (now() is per transaction), and parsing
// the text is most of the cost of turning a captured row into an order: the last few are kept.
// A few, not one: an UPDATE's change holds three (created_at, the old and the new updated_at), in
// turn, and a 20,000-row UPDATE's delivery spent ~5 % of its CPU parsing them again.
const recentTimes = new Map<string, number>();
const RECENT_TIMES = 8;

function toDate(value: Date | string): Date {
  if (typeof value !== 'string') return new Date(value);
  let time = recentTimes.get(value);
  if (time === undefined) {
    time = new Date(value).getTime();
    if (recentTimes.size >= RECENT_TIMES) recentTimes.clear();
    recentTimes.set(value, time);
  }
  return new Date(time);
}

export const ORDER_STATE_FIELDS = [
  'customerName',
  'productName',
  'quantity',
  'status',
  'version',
  'createdAt',
  'updatedAt',
] as const satisfies readonly (keyof OrderState)[];
