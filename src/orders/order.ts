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

/** A row as read by Kysely, or as captured by the change-log trigger (`to_jsonb`, dates as text). */
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
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
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
