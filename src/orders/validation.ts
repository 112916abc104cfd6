import { z } from 'zod';
import { badInput } from '../errors.ts';
import { ORDER_STATUSES, type OrderStatus } from './order.ts';

const name = z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters');
const quantity = z
  .number()
  .int('must be a whole number')
  .min(1, 'must be at least 1')
  .max(1_000_000, 'must be at most 1000000');
const status = z.enum(ORDER_STATUSES as [OrderStatus, ...OrderStatus[]], {
  error: () => `must be one of ${ORDER_STATUSES.join(', ')}`,
});

const createSchema = z.strictObject({
  customerName: name,
  productName: name,
  quantity: quantity.default(1),
  status: status.default('pending'),
});

const updateSchema = z
  .strictObject({
    customerName: name.optional(),
    productName: name.optional(),
    quantity: quantity.optional(),
    status: status.optional(),
  })
  .refine((v) => Object.values(v).some((x) => x !== undefined), {
    message: 'must change at least one field',
  });

export type CreateOrderInput = z.input<typeof createSchema>;
export type UpdateOrderInput = z.input<typeof updateSchema>;
export type ValidCreateOrderInput = z.output<typeof createSchema>;
export type ValidUpdateOrderInput = z.output<typeof updateSchema>;

function parse<T extends z.ZodType>(schema: T, input: unknown, root: string): z.output<T> {
  const result = schema.safeParse(dropUndefined(input));
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.length ? issue.path.join('.') : root;
  if (issue?.code === 'unrecognized_keys') return fail(issue.keys.join(', '), 'is not a known field');
  if (issue?.code === 'invalid_type' && issue.input === null) return fail(field, 'must not be null');
  if (issue?.code === 'invalid_type' && issue.input === undefined) return fail(field, 'is required');
  return fail(field, issue?.message ?? 'is invalid');
}

function fail(field: string, message: string): never {
  throw badInput(field, message);
}

function dropUndefined(input: unknown): unknown {
  if (!input || typeof input !== 'object') return input;
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
}

export const validateCreateOrder = (input: unknown) => parse(createSchema, input, 'input');
export const validateUpdateOrder = (input: unknown) => parse(updateSchema, input, 'input');

const MAX_ID = 9223372036854775807n;

/** Order ids are positive int8 values written in decimal. */
export function validateOrderId(id: unknown, field = 'id'): string {
  if (typeof id === 'number' && Number.isSafeInteger(id) && id > 0) return String(id);
  if (typeof id !== 'string' || !/^[1-9][0-9]{0,18}$/.test(id) || BigInt(id) > MAX_ID) {
    throw badInput(field, 'must be a positive decimal order id');
  }
  return id;
}

export function validateExpectedVersion(version: unknown): number | undefined {
  if (version === undefined || version === null) return undefined;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw badInput('expectedVersion', 'must be a positive integer');
  }
  return version;
}

export function validatePageSize(first: unknown, max: number, field = 'first'): number {
  if (typeof first !== 'number' || !Number.isInteger(first) || first < 1 || first > max) {
    throw badInput(field, `must be an integer from 1 to ${max}`);
  }
  return first;
}

export function validateStatus(value: unknown, field = 'status'): OrderStatus {
  const result = status.safeParse(value);
  if (!result.success) throw badInput(field, `must be one of ${ORDER_STATUSES.join(', ')}`);
  return result.data;
}
