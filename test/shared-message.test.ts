import { GraphQLError } from 'graphql';
import { expect, test } from 'vitest';
import { serializedResult } from '../src/server/shared-message.ts';

// The JSON of a result is written once and kept with it (src/server/shared-message.ts): whatever is
// made from the result afterwards must not carry that JSON along.

test('a result is serialized as JSON.stringify writes it, once', () => {
  const result = { data: { orderChanged: { cursor: 'a\u2028"b"', quantity: 3, previous: null } } };
  const json = serializedResult(result);
  expect(json).toBe(JSON.stringify(result));
  expect(serializedResult(result)).toBe(json);
  expect(Object.keys(result)).toEqual(['data']);
  expect(JSON.stringify(result)).toBe(json);
});

test('a result made from another by spreading it (as error masking does) gets its own JSON', () => {
  const result = { data: null, errors: [new GraphQLError('secret detail', { extensions: { code: 'X' } })] };
  serializedResult(result);
  const masked = { ...result, errors: [new GraphQLError('Unexpected error.')] };
  expect(serializedResult(masked)).toBe(JSON.stringify(masked));
  expect(serializedResult(masked)).not.toContain('secret');
});

test('a frozen result is serialized too', () => {
  const result = Object.freeze({ data: { orderChanged: { cursor: 'c' } } });
  expect(serializedResult(result)).toBe(JSON.stringify(result));
  expect(serializedResult(result)).toBe(serializedResult(result));
});
