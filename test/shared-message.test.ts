import { GraphQLError } from 'graphql';
import { expect, test } from 'vitest';
import { keepSerialized, serializedResult } from '../src/server/shared-message.ts';

// The JSON of a shared result is written once and kept with it (src/server/shared-message.ts):
// whatever is made from the result afterwards must not carry that JSON along, and a result nobody
// shares is not given one.

test('a kept result is serialized as JSON.stringify writes it, once', () => {
  const result = { data: { orderChanged: { cursor: 'a\u2028"b"', quantity: 3, previous: null } } };
  const json = keepSerialized(result);
  expect(json).toBe(JSON.stringify(result));
  // Changed afterwards (results never are): the kept JSON is what every sender sends.
  result.data.orderChanged.quantity = 4;
  expect(serializedResult(result)).toBe(json);
  expect(keepSerialized(result)).toBe(json);
  expect(Object.keys(result)).toEqual(['data']);
  expect(JSON.stringify(result)).not.toBe(json);
});

test('a result that was not kept is serialized by each call, and keeps nothing', () => {
  const result = { data: { orderChanged: { cursor: 'c', quantity: 3 } } };
  expect(serializedResult(result)).toBe(JSON.stringify(result));
  result.data.orderChanged.quantity = 4;
  expect(serializedResult(result)).toBe(JSON.stringify(result));
  expect(Reflect.ownKeys(result)).toEqual(['data']);
});

test('a result made from another by spreading it (as error masking does) gets its own JSON', () => {
  const result = { data: null, errors: [new GraphQLError('secret detail', { extensions: { code: 'X' } })] };
  keepSerialized(result);
  const masked = { ...result, errors: [new GraphQLError('Unexpected error.')] };
  expect(serializedResult(masked)).toBe(JSON.stringify(masked));
  expect(serializedResult(masked)).not.toContain('secret');
  expect(keepSerialized(masked)).not.toContain('secret');
});

test('a frozen result is serialized too', () => {
  const result = Object.freeze({ data: { orderChanged: { cursor: 'c' } } });
  expect(keepSerialized(result)).toBe(JSON.stringify(result));
  expect(serializedResult(result)).toBe(keepSerialized(result));
});
