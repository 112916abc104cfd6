import { afterAll, beforeAll, expect, test } from 'vitest';
import { startTestService, type TestService } from './helpers/service.ts';

let service: TestService;
beforeAll(async () => {
  service = await startTestService();
});
afterAll(async () => {
  await service?.stop();
});

test.each([
  ['quantity', '"two"'],
  ['quantity', '1.5'],
  ['status', 'LOST'],
  ['status', '"pending"'],
  ['customerName', 'null'],
  ['colour', '"red"'],
])('a wrong literal input value (%s: %s) is BAD_USER_INPUT naming the field', async (field, value) => {
  const fields = { customerName: '"Ann"', productName: '"Pen"', [field]: value };
  const input = Object.entries(fields)
    .map(([name, literal]) => `${name}: ${literal}`)
    .join(', ');
  const { data, errors } = await service.graphql(`mutation { createOrder(input: { ${input} }) { id } }`);
  expect(data).toBeUndefined();
  expect(errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
});

test('a required input field left out of the literal is BAD_USER_INPUT naming it', async () => {
  const { errors } = await service.graphql('mutation { createOrder(input: { customerName: "Ann" }) { id } }');
  expect(errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'productName' });
  const missingArgument = await service.graphql('{ order { id } }');
  expect(missingArgument.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
});

test('a malformed operation stays a validation failure', async () => {
  const { errors } = await service.graphql('{ orders { nosuchfield } }');
  expect(errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
});
