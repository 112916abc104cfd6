import { z } from 'zod';
import { badInput } from '../errors.ts';
import { ORDER_STATUSES, type OrderStatus } from './order.ts';

/** The longest name, in characters (Unicode code points, as PostgreSQL's char_length counts them). */
export const MAX_NAME_CHARACTERS = 200;

// Strings that PostgreSQL would refuse (NUL: text cannot hold it) or silently change (an unpaired
// UTF-16 surrogate, which JSON allows as "\ud800", is sent as U+FFFD) are refused by name instead.
// Length counts code points, so 200 emoji fit, as the table's CHECK (char_length) counts them too.
const name = z
  .string()
  .trim()
  .refine((v) => !v.includes('\u0000'), 'must not contain the NUL character (U+0000)')
  .refine((v) => !UNPAIRED_SURROGATE.test(v), 'must be valid Unicode (it has an unpaired surrogate)')
  .refine((v) => v.length > 0, 'must not be empty')
  .refine((v) => codePoints(v) <= MAX_NAME_CHARACTERS, `must be at most ${MAX_NAME_CHARACTERS} characters`);
// With the u flag, a surrogate pair is one code point (not Cs); only a lone half matches.
const UNPAIRED_SURROGATE = /\p{Cs}/u;

function codePoints(value: string): number {
  let count = 0;
  for (const _ of value) count++;
  return count;
}

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
/** `version` is a PostgreSQL integer: anything larger could never match, and would not even compare. */
const MAX_VERSION = 2_147_483_647;

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
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1 || version > MAX_VERSION) {
    throw badInput('expectedVersion', `must be an integer from 1 to ${MAX_VERSION}`);
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
