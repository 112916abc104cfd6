import fc from 'fast-check';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startTestService, type TestService } from '../helpers/service.ts';
import {
  expectNoInternals,
  hostileId,
  hostileString,
  hostileValue,
  insertOrder,
  isValidId,
  isValidName,
  isValidQuantity,
  isValidVersion,
  MAX_VERSION,
  orderExists,
  readState,
  STATUSES,
  unknownKey,
} from './inputs.ts';

const RUNS = 60;
const WRITABLE = ['customer_name', 'product_name', 'quantity', 'status'];
const IGNORED = ['id', 'version', 'created_at', 'updated_at', 'expected_version'];

let service: TestService;
beforeAll(async () => {
  service = await startTestService();
});
afterAll(async () => {
  await service?.stop();
});

const name = fc.oneof(
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }) },
  { weight: 3, arbitrary: hostileString },
  { weight: 1, arbitrary: hostileValue },
);
const status = fc.oneof(fc.constantFrom(...STATUSES, 'SHIPPED', 'Pending'), hostileValue);
const quantity = fc.oneof(fc.integer({ min: 1, max: 1_000_000 }), hostileValue);
const ignored = fc.oneof(
  fc.constant([] as [string, unknown][]),
  fc.array(fc.tuple(fc.constantFrom(...IGNORED.filter((k) => k !== 'expected_version')), hostileValue), {
    maxLength: 2,
  }),
);
const unknown = fc.oneof(
  { weight: 4, arbitrary: fc.constant([] as [string, unknown][]) },
  { weight: 1, arbitrary: fc.array(fc.tuple(unknownKey, hostileValue), { minLength: 1, maxLength: 2 }) },
);
const objectBody = (required: boolean) =>
  fc
    .tuple(
      fc.record(
        { customer_name: name, product_name: name, quantity, status },
        { requiredKeys: required ? ['customer_name', 'product_name'] : [] },
      ),
      ignored,
      unknown,
    )
    .map(([known, more, other]) =>
      JSON.stringify(Object.fromEntries([...Object.entries(known), ...more, ...other])),
    );

/** A body as bytes: mostly JSON objects, also other JSON, text that is no JSON, and bytes that are no UTF-8. */
const body = (required: boolean) =>
  fc.oneof(
    { weight: 6, arbitrary: objectBody(required).map((text) => Buffer.from(text)) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((v) => Buffer.from(JSON.stringify(v) ?? '')) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }).map((s) => Buffer.from(s)) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), // {"\xff":1}
        Buffer.from('{"customer_name":"\xc3\x28","product_name":"p"}', 'latin1'),
        Buffer.from('{"customer_name":"a","product_name":"b","quantity":1e400}'),
        Buffer.from('{"customer_name":"a","product_name":"b","quantity":-0}'),
        Buffer.from('{"customer_name":"a","product_name":"b","quantity":1.0}'),
        Buffer.from('{"customer_name":"a","product_name":"b","customer_name":"\\u0000"}'),
      ),
    },
  );

const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  undefined,
);

/** The JSON object the body is, or undefined when it is none (the server answers 400 `body`). */
function asObject(bytes: Buffer): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    return value && typeof value === 'object' && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function bodyProblems(input: Record<string, unknown>, create: boolean): string[] {
  const problems = Object.keys(input).filter((key) => !WRITABLE.includes(key) && !IGNORED.includes(key));
  for (const field of ['customer_name', 'product_name']) {
    if ((create || field in input) && !isValidName(input[field])) problems.push(field);
  }
  if ('quantity' in input && !isValidQuantity(input.quantity)) problems.push('quantity');
  const value = input.status;
  if ('status' in input && !(typeof value === 'string' && STATUSES.includes(value.toLowerCase())))
    problems.push('status');
  if (!create && !WRITABLE.some((key) => key in input)) problems.push('input');
  return problems;
}

/** A path segment for an id: the order's own, a hostile value, or bytes that are no UTF-8. */
const segment = fc.oneof(
  { weight: 3, arbitrary: fc.constant('existing') },
  { weight: 1, arbitrary: fc.constantFrom('99999999', '9223372036854775807') }, // no such order
  {
    weight: 3,
    arbitrary: hostileId.map((id) => {
      try {
        const encoded = encodeURIComponent(String(id));
        // URLs resolve `.` and `..`, and an empty segment is the list: none of them names an id.
        return ['', '.', '..'].includes(encoded) ? '%20' : encoded;
      } catch {
        return '%ED%A0%80'; // a lone surrogate, as UTF-8 would carry it
      }
    }),
  },
  { weight: 1, arbitrary: fc.constantFrom('%ff', '%00', '1%00', '%C0%80', '12abc', '99999999', '1%2F2') },
);

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

const segmentId = (raw: string): unknown => {
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
};

interface Answer {
  status: number;
  body: any;
}

async function send(
  method: string,
  path: string,
  options: { body?: Buffer; type?: string; ifMatch?: string },
) {
  const headers: Record<string, string> = {};
  if (options.type) headers['content-type'] = options.type;
  if (options.ifMatch !== undefined) headers['if-match'] = options.ifMatch;
  const response = await fetch(`${service.url}${path}`, {
    method,
    headers,
    body: options.body && new Uint8Array(options.body),
  });
  const text = await response.text();
  expect(response.status, text).toBeLessThan(500);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  expectNoInternals(text);
  return { status: response.status, body: JSON.parse(text) } as Answer;
}

function expectRefused(answer: Answer, status: number, fields: string[]) {
  expect(answer.status).toBe(status);
  expect(answer.body.error).toEqual(expect.any(String));
  expect(answer.body.message).toEqual(expect.any(String));
  if (status === 400) expect(fields).toContain(answer.body.field);
}

const existingOrder = () => insertOrder(service.database.db);

const exists = (id: unknown) => orderExists(service.database.db, id);

test('POST /api/orders: hostile bodies get 400 naming the field and write nothing; valid ones 201', async () => {
  const seen = new Set<number>();
  await fc.assert(
    fc.asyncProperty(body(false), contentType, async (bytes, type) => {
      const input = asObject(bytes);
      const problems = input ? bodyProblems(input, true) : ['body'];
      const before = await readState(service.database.db);
      const answer = await send('POST', '/api/orders', { body: bytes, type });
      const after = await readState(service.database.db);
      seen.add(answer.status);
      if (problems.length || !input) {
        expectRefused(answer, 400, problems);
        expect(after).toEqual(before);
        return;
      }
      expect(answer.status).toBe(201);
      expect(answer.body).toMatchObject({
        customer_name: (input.customer_name as string).trim(),
        product_name: (input.product_name as string).trim(),
        quantity: input.quantity ?? 1,
        status: ((input.status as string | undefined) ?? 'pending').toLowerCase(),
        version: 1,
      });
      expect(after.orders).toBe(before.orders + 1);
    }),
    {
      numRuns: RUNS * 2,
      examples: [
        [Buffer.from('{"customer_name":"Ann","product_name":"Pen"}'), 'application/json'],
        [Buffer.from('{"customer_name":"a\\u0000b","product_name":"Pen"}'), 'application/json'],
      ],
    },
  );
  expect([...seen].sort()).toEqual([201, 400]);
});

/** An If-Match header: none, the order's version, another one, or something that is no version. */
const ifMatch = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom('current', 'stale'),
  fc.constantFrom(
    '*',
    '"abc"',
    '0',
    '-1',
    '1.5',
    '0x10',
    '1e3',
    `"${MAX_VERSION + 1}"`,
    '99999999999999999999',
    'W/"1"',
  ),
);

function ifMatchVersion(header: string | undefined): { version?: number; problem?: string } {
  if (header === undefined || header.trim() === '*') return {};
  if (!/^(W\/)?"?[0-9]+"?$/.test(header.trim())) return { problem: 'If-Match' };
  const version = Number(header.trim().replace(/^W\//, '').replaceAll('"', ''));
  return isValidVersion(version) ? { version } : { problem: 'expected_version' };
}

test('PUT and DELETE /api/orders/:id: hostile ids, bodies and versions are refused and change nothing', async () => {
  const seen = new Set<string>();
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('PUT', 'DELETE'),
      segment,
      body(false),
      contentType,
      ifMatch,
      fc.oneof(fc.constant(undefined), fc.constantFrom('current', 'stale'), hostileValue),
      async (method, rawSegment, rawBody, type, header, versionChoice) => {
        const target = await existingOrder();
        const pick = (choice: unknown) =>
          choice === 'current' ? target.version : choice === 'stale' ? target.version + 1 : choice;
        const path = rawSegment === 'existing' ? target.id : rawSegment;
        const id = rawSegment === 'existing' ? target.id : segmentId(rawSegment);
        const headerValue = header === 'current' || header === 'stale' ? `"${pick(header)}"` : header;
        let bytes = rawBody;
        const parsed = asObject(rawBody);
        if (parsed && versionChoice !== undefined) {
          parsed.expected_version = pick(versionChoice);
          bytes = Buffer.from(JSON.stringify(parsed));
        }
        const input = parsed && asObject(bytes);
        const problems: string[] = [];
        let expected: unknown;
        if (method === 'PUT') {
          if (!input) problems.push('body');
          else {
            problems.push(...bodyProblems(input, false));
            expected = input.expected_version;
          }
        }
        if (expected === undefined || expected === null) {
          const fromHeader = ifMatchVersion(headerValue);
          if (fromHeader.problem) problems.push(fromHeader.problem);
          expected = fromHeader.version;
        } else if (!isValidVersion(expected)) problems.push('expected_version');
        if (!isValidId(id)) problems.push('id');
        const found = await exists(id);

        const before = await readState(service.database.db);
        const answer = await send(method, `/api/orders/${path}`, {
          body: method === 'PUT' ? bytes : undefined,
          type,
          ifMatch: headerValue,
        });
        const after = await readState(service.database.db);
        const mine = String(id) === target.id;
        const conflict = mine && expected !== undefined && expected !== target.version;
        if (problems.length || !found || conflict) {
          const status = problems.length ? 400 : !found ? 404 : 409;
          seen.add(`${method} ${status}`);
          expectRefused(answer, status, problems);
          expect(after).toEqual(before);
          return;
        }
        if (!mine) return; // another order that happens to have this id
        seen.add(`${method} ${answer.status}`);
        expect(answer.status).toBe(200);
        expect(answer.body).toMatchObject({
          id: Number(target.id),
          version: method === 'PUT' ? target.version + 1 : target.version,
        });
        expect(await exists(target.id)).toBe(method === 'PUT');
        expect(BigInt(after.lastChange)).toBeGreaterThan(BigInt(before.lastChange));
      },
    ),
    {
      numRuns: RUNS * 2,
      // Every outcome at least once, whatever the seed.
      examples: [
        ['PUT', 'existing', json({ status: 'shipped' }), 'application/json', undefined, 'current'],
        ['PUT', 'existing', json({ quantity: 0 }), 'application/json', undefined, undefined],
        ['PUT', '99999999', json({ quantity: 2 }), 'application/json', undefined, undefined],
        ['PUT', 'existing', json({ quantity: 2 }), 'application/json', undefined, 'stale'],
        ['DELETE', 'existing', json({}), undefined, 'current', undefined],
        ['DELETE', '%ff', json({}), undefined, undefined, undefined],
        ['DELETE', '99999999', json({}), undefined, undefined, undefined],
        ['DELETE', 'existing', json({}), undefined, 'stale', undefined],
      ],
    },
  );
  for (const outcome of [
    'PUT 200',
    'PUT 400',
    'PUT 404',
    'PUT 409',
    'DELETE 200',
    'DELETE 400',
    'DELETE 404',
  ])
    expect(seen).toContain(outcome);
});

test('GET /api/orders/:id and GET /api/orders?…: hostile ids and parameters are 400 naming them, never more', async () => {
  const target = await existingOrder();
  const parameter = fc.option(
    fc.oneof(hostileString, fc.constantFrom('1', '50', '500', '501', '0', 'pending', 'SHIPPED')),
    {
      nil: undefined,
    },
  );
  await fc.assert(
    fc.asyncProperty(segment, parameter, parameter, parameter, async (rawSegment, limit, status, after) => {
      const before = await readState(service.database.db);
      const path = rawSegment === 'existing' ? target.id : rawSegment;
      const id = rawSegment === 'existing' ? target.id : segmentId(rawSegment);
      const one = await send('GET', `/api/orders/${path}`, {});
      if (!isValidId(id)) expectRefused(one, 400, ['id']);
      else if (!(await exists(id))) expectRefused(one, 404, []);
      else expect(one.body.id).toBe(Number(id));

      const query = new URLSearchParams();
      if (limit !== undefined) query.set('limit', limit);
      if (status !== undefined) query.set('status', status);
      if (after !== undefined) query.set('after_id', after);
      // What the server reads: URLSearchParams turns what is no Unicode into U+FFFD.
      const sent = new URLSearchParams(query.toString());
      const problems: string[] = [];
      const l = sent.get('limit');
      if (l !== null && !(/^[0-9]+$/.test(l) && Number(l) >= 1 && Number(l) <= 500)) problems.push('limit');
      const s = sent.get('status');
      if (s !== null && !STATUSES.includes(s.toLowerCase())) problems.push('status');
      const a = sent.get('after_id');
      if (a !== null && !isValidId(a)) problems.push('after_id');
      const list = await send('GET', `/api/orders?${query}`, {});
      if (problems.length) expectRefused(list, 400, problems);
      else {
        expect(list.status).toBe(200);
        expect(Array.isArray(list.body)).toBe(true);
      }
      expect(await readState(service.database.db)).toEqual(before);
    }),
    { numRuns: RUNS },
  );
});

test.each([
  ['{"customer_name":"a\\u0000b","product_name":"Pen"}', 'customer_name'],
  ['{"customer_name":"Ann","product_name":"\\ud800"}', 'product_name'],
  ['{"customer_name":"Ann","product_name":"Pen","constructor":1}', 'constructor'],
  ['{"customer_name":"Ann","product_name":"Pen","__proto__":{"x":1}}', '__proto__'],
])('POST %s: 400 naming %s, nothing stored', async (text, field) => {
  const before = await readState(service.database.db);
  const answer = await send('POST', '/api/orders', { body: Buffer.from(text), type: 'application/json' });
  expect(answer).toMatchObject({ status: 400, body: { error: 'BAD_USER_INPUT', field } });
  expect(await readState(service.database.db)).toEqual(before);
});

test('an id that is no UTF-8 in the path is a 400 naming id', async () => {
  const answer = await send('GET', '/api/orders/%ff', {});
  expect(answer).toMatchObject({ status: 400, body: { error: 'BAD_USER_INPUT', field: 'id' } });
});
