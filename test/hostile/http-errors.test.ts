import { afterAll, beforeAll, expect, test } from 'vitest';
import { startTestService, type TestService } from '../helpers/service.ts';
import { expectNoInternals, readState } from './inputs.ts';

let service: TestService;
beforeAll(async () => {
  service = await startTestService();
});
afterAll(async () => {
  await service?.stop();
});

const CREATE =
  '{"query":"mutation { createOrder(input: { customerName: \\"Ann\\", productName: \\"Pen\\" }) { id } }"}';

// Requests that are wrong as HTTP or as GraphQL-over-HTTP/SSE, before any input value is read.
test.each<[string, string, string | undefined, string, string]>([
  ['/graphql', 'POST', 'application/json', '{bad', 'BAD_REQUEST'],
  ['/graphql', 'POST', 'application/json', '', 'BAD_REQUEST'],
  ['/graphql', 'POST', 'application/json', '[1, 2]', 'BAD_REQUEST'],
  ['/graphql', 'POST', 'application/json', 'null', 'BAD_REQUEST'],
  ['/graphql', 'POST', 'application/json', '{"query": 5}', 'BAD_REQUEST'],
  [
    '/graphql',
    'POST',
    'application/json',
    '{"query": "{ orders { changeCursor } }", "variables": "x"}',
    'BAD_REQUEST',
  ],
  ['/graphql', 'POST', 'text/plain', CREATE, 'UNSUPPORTED_MEDIA_TYPE'],
  ['/graphql', 'POST', undefined, CREATE, 'UNSUPPORTED_MEDIA_TYPE'],
  ['/graphql', 'PUT', 'application/json', CREATE, 'BAD_REQUEST'],
  ['/graphql/stream', 'POST', 'application/json', CREATE, 'NOT_FOUND'],
  ['/graphql/stream', 'POST', 'application/json', '{bad', 'NOT_FOUND'],
  ['/graphql/stream', 'PUT', 'application/json', '', 'NOT_ACCEPTABLE'],
])(
  '%s %s (%s) %j: a 4xx whose errors all carry a code, and nothing written',
  async (path, method, type, body, code) => {
    const before = await readState(service.database.db);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (type) headers['content-type'] = type;
    const response = await fetch(`${service.url}${path}`, { method, headers, body });
    const text = await response.text();
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expectNoInternals(text);
    const errors = JSON.parse(text).errors;
    expect(errors.length).toBeGreaterThan(0);
    for (const error of errors) expect(error.extensions?.code).toEqual(expect.any(String));
    expect(errors[0].extensions.code).toBe(code);
    expect(await readState(service.database.db)).toEqual(before);
  },
);
