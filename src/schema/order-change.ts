import { resolveExpiry, untilExpiry } from '../auth/expiry.ts';
import {
  CHANGE_OPERATIONS,
  type ChangeFilter,
  type ChangeOperation,
  type OrderChange,
} from '../changes/change.ts';
import { validateOrderId, validatePageSize } from '../orders/validation.ts';
import { builder, type Context } from './builder.ts';
import { OrderRef, OrderStateRef, OrderStatusEnum } from './order.ts';

const ChangeOperationEnum = builder.enumType('ChangeOperation', {
  values: CHANGE_OPERATIONS as ChangeOperation[],
});

const OrderChangeRef = builder.objectRef<OrderChange>('OrderChange').implement({
  description: 'One committed change to one order.',
  fields: (t) => ({
    cursor: t.exposeString('cursor', {
      description: 'Opaque, but byte-wise increasing in delivery order; pass it as `after` to resume.',
    }),
    operation: t.expose('operation', { type: ChangeOperationEnum }),
    order: t.expose('order', {
      type: OrderRef,
      description: 'The row after the change; for DELETE, the row as it was deleted.',
    }),
    previous: t.expose('previous', {
      type: OrderStateRef,
      nullable: true,
      description: 'The values before the change; null for INSERT.',
    }),
    changedFields: t.exposeStringList('changedFields'),
    changedBy: t.exposeString('changedBy', {
      nullable: true,
      description:
        'Who made the change, as PostgreSQL saw the writing session: its application_name and user, e.g. "psql as postgres".',
    }),
    committedAt: t.expose('committedAt', {
      type: 'DateTime',
      description: 'When the change became visible to the feed: at or just after its commit.',
    }),
  }),
});

const OrderChangeFilter = builder.inputType('OrderChangeFilter', {
  description: 'Fields are ANDed, values within a field ORed. An UPDATE matches a status before or after.',
  fields: (t) => ({
    ids: t.idList(),
    statuses: t.field({ type: [OrderStatusEnum] }),
    operations: t.field({ type: [ChangeOperationEnum] }),
  }),
});

type FilterArg = {
  ids?: (string | number)[] | null;
  statuses?: ChangeFilter['statuses'];
  operations?: ChangeFilter['operations'];
};

// A customer's scope joins the filter, so that the feed applies it in memory, per change, with no
// database read (test/auth/isolation.test.ts).
function toFilter(where: FilterArg | null | undefined, { access }: Context): ChangeFilter | undefined {
  const customerName = access.customer;
  if (!where) return customerName === undefined ? undefined : { customerName };
  // Copies of graphql's lists, of their exact size: graphql builds an input list by push, with
  // room for 16 values, and a subscription keeps its filter for as long as it lasts.
  return {
    ids: where.ids?.map((id) => validateOrderId(String(id), 'where.ids')) ?? null,
    statuses: where.statuses ? [...where.statuses] : null,
    operations: where.operations ? [...where.operations] : null,
    customerName: customerName ?? null,
  };
}

builder.queryField('orderChanges', (t) =>
  t.field({
    type: [OrderChangeRef],
    description: 'Change history, oldest first: everything after `after`, or from the oldest change kept.',
    args: {
      after: t.arg.string(),
      first: t.arg.int({ defaultValue: 100 }),
      where: t.arg({ type: OrderChangeFilter }),
    },
    resolve: (_root, args, context) =>
      context.changes.history({
        after: args.after,
        first: validatePageSize(args.first ?? 100, 1000),
        filter: toFilter(args.where, context),
      }),
  }),
);

builder.subscriptionField('orderChanged', (t) =>
  t.field({
    type: OrderChangeRef,
    description:
      'Every committed change from now on, or after `after`: no gaps, no duplicates, in commit order per order, each transaction together.',
    args: {
      where: t.arg({ type: OrderChangeFilter }),
      after: t.arg.string(),
    },
    subscribe: async (_root, args, context) =>
      untilExpiry(
        await context.changes.subscribe({ after: args.after, filter: toFilter(args.where, context) }),
        context.access,
      ),
    resolve: resolveExpiry,
  }),
);
