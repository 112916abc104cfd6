import { resumableOperation } from 'realtime-orders/client';
import { expect, test } from 'vitest';

// Which operations the clients resume: a subscription that declares `$after` and selects `cursor`
// on its root field. Everything else is sent untouched.

test.each([
  ['subscription ($after: String) { orderChanged(after: $after) { cursor operation } }', undefined],
  [
    `# a comment with subscription ($after: String)
     subscription Changes($after: String, $where: OrderChangeFilter) {
       orderChanged(after: $after, where: $where) { __typename cursor order { id } } }`,
    undefined,
  ],
  [
    'subscription W($after: String) { orderChanged(after: $after) { ...F } } fragment F on OrderChange { cursor }',
    undefined,
  ],
  [
    'query Q { orders { changeCursor } } subscription W($after: String) { orderChanged(after: $after) { cursor } }',
    'W',
  ],
])('resumable: %s', (query, operationName) => {
  expect(resumableOperation(query, operationName)).toEqual({ field: 'orderChanged', cursor: 'cursor' });
});

test('aliases are followed: the result keys are what the cursor is read from', () => {
  expect(
    resumableOperation(
      'subscription S($after: String = "x") { c: orderChanged(after: $after) { at: cursor } }',
    ),
  ).toEqual({ field: 'c', cursor: 'at' });
});

test.each([
  [
    'no $after',
    'subscription ($where: OrderChangeFilter) { orderChanged(where: $where) { cursor } }',
    undefined,
  ],
  ['no cursor', 'subscription ($after: String) { orderChanged(after: $after) { operation } }', undefined],
  [
    'cursor only deeper',
    'subscription ($after: String) { orderChanged(after: $after) { order { cursor: id } } }',
    undefined,
  ],
  ['a query', 'query ($after: String) { orderChanges(after: $after) { cursor } }', undefined],
  [
    'another operation named',
    'query Q($after: String) { orderChanges(after: $after) { cursor } } subscription S { orderChanged { cursor } }',
    'Q',
  ],
  [
    '"$after" only in a string',
    'subscription { orderChanged(where: { ids: ["$after:"] }) { cursor } }',
    undefined,
  ],
])('not resumable: %s', (_, query, operationName) => {
  expect(resumableOperation(query, operationName)).toBeUndefined();
});
