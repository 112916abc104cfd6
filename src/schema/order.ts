import { badInput } from '../errors.ts';
import { ORDER_STATUSES, type Order, type OrderState, type OrderStatus } from '../orders/order.ts';
import { createScopedOrder, deleteScopedOrder, getScopedOrder, updateScopedOrder } from '../orders/scope.ts';
import { builder } from './builder.ts';
import { readScope, writeScope } from './scope.ts';

export const OrderStatusEnum = builder.enumType('OrderStatus', {
  values: Object.fromEntries(ORDER_STATUSES.map((s) => [s.toUpperCase(), { value: s }])) as Record<
    Uppercase<OrderStatus>,
    { value: OrderStatus }
  >,
});

export const OrderRef = builder.objectRef<Order>('Order').implement({
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The database id as a decimal string, e.g. "42".' }),
    customerName: t.exposeString('customerName'),
    productName: t.exposeString('productName'),
    quantity: t.exposeInt('quantity'),
    status: t.expose('status', { type: OrderStatusEnum }),
    version: t.exposeInt('version', { description: '1 on insert, +1 on every update.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

export const OrderStateRef = builder.objectRef<OrderState>('OrderState').implement({
  description:
    'The values of an order at one moment. Without an id, so that normalized client caches keep it apart from the current Order.',
  fields: (t) => ({
    customerName: t.exposeString('customerName'),
    productName: t.exposeString('productName'),
    quantity: t.exposeInt('quantity'),
    status: t.expose('status', { type: OrderStatusEnum }),
    version: t.exposeInt('version'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

const CreateOrderInput = builder.inputType('CreateOrderInput', {
  fields: (t) => ({
    customerName: t.string({ required: true }),
    productName: t.string({ required: true }),
    quantity: t.int({ defaultValue: 1 }),
    status: t.field({ type: OrderStatusEnum, defaultValue: 'pending' }),
  }),
});

const UpdateOrderInput = builder.inputType('UpdateOrderInput', {
  fields: (t) => ({
    customerName: t.string(),
    productName: t.string(),
    quantity: t.int(),
    status: t.field({ type: OrderStatusEnum }),
  }),
});

builder.queryField('order', (t) =>
  t.field({
    type: OrderRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, context) => getScopedOrder(context.db, readScope(context), String(id)),
  }),
);

builder.mutationField('createOrder', (t) =>
  t.field({
    type: OrderRef,
    args: { input: t.arg({ type: CreateOrderInput, required: true }) },
    resolve: (_root, { input }, context) => createScopedOrder(context.db, writeScope(context), input),
  }),
);

builder.mutationField('updateOrder', (t) =>
  t.field({
    type: OrderRef,
    args: {
      id: t.arg.id({ required: true }),
      input: t.arg({ type: UpdateOrderInput, required: true }),
      expectedVersion: t.arg.int({
        description: 'Fail with CONFLICT unless the stored version is this one.',
      }),
    },
    resolve: (_root, { id, input, expectedVersion }, context) =>
      updateScopedOrder(context.db, writeScope(context), String(id), input, expectedVersion),
  }),
);

builder.mutationField('deleteOrder', (t) =>
  t.field({
    type: OrderRef,
    description: 'Deletes an order and returns it as it was.',
    args: {
      id: t.arg.id({ required: true }),
      expectedVersion: t.arg.int({
        description: 'Fail with CONFLICT unless the stored version is this one.',
      }),
    },
    resolve: (_root, { id, expectedVersion }, context) =>
      deleteScopedOrder(context.db, writeScope(context), String(id), expectedVersion),
  }),
);

/** Relay-style edge cursors for `orders`: the order id, opaque to clients. */
export const encodeOrderCursor = (id: string) => Buffer.from(`order:${id}`).toString('base64url');

export function decodeOrderCursor(cursor: string): string {
  const match = /^order:([1-9][0-9]{0,18})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match?.[1]) throw badInput('after', 'is not a cursor from orders');
  return match[1];
}
