import type { ColumnType, Generated } from 'kysely';

export type OrderStatusValue = 'pending' | 'processing' | 'shipped' | 'delivered' | 'cancelled';

export interface OrdersTable {
  id: ColumnType<string, string | undefined, never>;
  customer_name: string;
  product_name: string;
  quantity: Generated<number>;
  status: ColumnType<OrderStatusValue, OrderStatusValue | undefined, OrderStatusValue>;
  version: ColumnType<number, never, never>;
  created_at: ColumnType<Date, never, never>;
  updated_at: ColumnType<Date, never, never>;
}

export interface OrderChangesTable {
  seq: ColumnType<string, never, never>;
  txid: ColumnType<string, never, never>;
  op: 'INSERT' | 'UPDATE' | 'DELETE';
  order_id: string;
  old_row: unknown | null;
  new_row: unknown | null;
  actor: ColumnType<string | null, never, never>;
}

export interface ChangeTicksTable {
  tick_id: string;
  snapshot: string;
  created_at: ColumnType<Date, never, never>;
}

export interface Database {
  orders: OrdersTable;
  order_changes: OrderChangesTable;
  change_ticks: ChangeTicksTable;
}
