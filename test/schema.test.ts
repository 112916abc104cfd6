import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
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
