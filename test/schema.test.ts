import { readFileSync } from 'node:fs';
import { GraphQLScalarType } from 'graphql';
import { expect, test } from 'vitest';
import { schema } from '../src/schema/index.ts';
import { printedSchema, printedSchemaPath } from '../src/schema/print.ts';

test('schema/schema.graphql is the printed schema (run npm run schema:print)', () => {
  expect(readFileSync(printedSchemaPath, 'utf8')).toBe(printedSchema());
});

test('the schema has every type and field of the contract', () => {
  const printed = printedSchema();
  for (const line of [
    'orderChanged(after: String, where: OrderChangeFilter): OrderChange!',
    'orderChanges(after: String, first: Int = 100, where: OrderChangeFilter): [OrderChange!]!',
    'orders(after: String, first: Int = 50, status: OrderStatus): OrderConnection!',
    'order(id: ID!): Order',
    'createOrder(input: CreateOrderInput!): Order!',
    'changeCursor: String!',
    'previous: OrderState',
    'quantity: Int = 1',
    'status: OrderStatus = PENDING',
  ]) {
    expect(printed).toContain(line);
  }
});

test('DateTime writes each instant as toISOString does, the same one repeated or not', () => {
  const dateTime = schema.getType('DateTime');
  if (!(dateTime instanceof GraphQLScalarType)) throw new Error('DateTime is not a scalar');
  const instants = ['2026-11-22T08:30:00.000Z', '2026-11-22T08:30:00.000Z', '2026-11-22T08:30:00.001Z'];
  for (const text of [...instants, instants[0], '2026-11-22T09:30:00+01:00'] as string[]) {
    expect(dateTime.serialize(new Date(text))).toBe(new Date(text).toISOString());
    expect(dateTime.serialize(text)).toBe(new Date(text).toISOString());
  }
  // The same Date object changed in place is written as it is now, not as it was.
  const moving = new Date(instants[0] as string);
  expect(dateTime.serialize(moving)).toBe(instants[0]);
  moving.setTime(moving.getTime() + 1);
  expect(dateTime.serialize(moving)).toBe(instants[2]);
  expect(() => dateTime.serialize(new Date(Number.NaN))).toThrow(RangeError);
  expect(() => dateTime.serialize(new Date(Number.NaN))).toThrow(RangeError);
});
