import { readWithChangeCursor } from '../changes/snapshot.ts';
import type { Order } from '../orders/order.ts';
import { listScopedOrders } from '../orders/scope.ts';
import { builder } from './builder.ts';
import { decodeOrderCursor, encodeOrderCursor, OrderRef, OrderStatusEnum } from './order.ts';
import { readScope } from './scope.ts';

interface OrderConnection {
  orders: Order[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  changeCursor: string;
}

const OrderEdge = builder.objectRef<Order>('OrderEdge').implement({
  fields: (t) => ({
    cursor: t.string({ resolve: (order) => encodeOrderCursor(order.id) }),
    node: t.field({ type: OrderRef, resolve: (order) => order }),
  }),
});

const PageInfo = builder.objectRef<OrderConnection>('PageInfo').implement({
  fields: (t) => ({
    hasNextPage: t.exposeBoolean('hasNextPage'),
    hasPreviousPage: t.exposeBoolean('hasPreviousPage'),
    startCursor: t.string({
      nullable: true,
      resolve: ({ orders }) => (orders[0] ? encodeOrderCursor(orders[0].id) : null),
    }),
    endCursor: t.string({
      nullable: true,
      resolve: ({ orders }) => {
        const last = orders.at(-1);
        return last ? encodeOrderCursor(last.id) : null;
      },
    }),
  }),
});

const OrderConnectionRef = builder.objectRef<OrderConnection>('OrderConnection').implement({
  fields: (t) => ({
    edges: t.field({ type: [OrderEdge], resolve: (c) => c.orders }),
    nodes: t.field({ type: [OrderRef], resolve: (c) => c.orders }),
    pageInfo: t.field({ type: PageInfo, resolve: (c) => c }),
    changeCursor: t.exposeString('changeCursor', {
      description:
        'The change-feed position of the very snapshot this page was read from: subscribe to orderChanged with after: changeCursor to receive exactly the changes this page does not reflect.',
    }),
  }),
});

builder.queryField('orders', (t) =>
  t.field({
    type: OrderConnectionRef,
    description: 'Orders by ascending id, a page at a time.',
    args: {
      first: t.arg.int({ defaultValue: 50 }),
      after: t.arg.string(),
      status: t.arg({ type: OrderStatusEnum }),
    },
    resolve: async (_root, args, context) => {
      const { db } = context;
      const afterId = args.after ? decodeOrderCursor(args.after) : undefined;
      const { result, changeCursor } = await readWithChangeCursor(db, (trx) =>
        listScopedOrders(trx, readScope(context), {
          first: args.first ?? 50,
          afterId,
          status: args.status ?? undefined,
        }),
      );
      return { ...result, hasPreviousPage: afterId !== undefined, changeCursor };
    },
  }),
);
