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
  orderExists,
  overTheWire,
  readState,
  STATUSES,
  type State,
  unknownKey,
} from './inputs.ts';

// Each run is a few round trips to the server and the database; twice in CI, on a busy machine.
const RUNS = 40;
const ENUM = STATUSES.map((s) => s.toUpperCase());
const FIELDS = ['customerName', 'productName', 'quantity', 'status'];
const GRAPHQL_NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;
const MAX_INT = 2 ** 31 - 1;

let service: TestService;
beforeAll(async () => {
  service = await startTestService();
});
afterAll(async () => {
  await service?.stop();
});

type Mode = 'variables' | 'literals';

// Valid values often enough that both outcomes are exercised in every run of the suite.
const name = fc.oneof(
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }) },
  { weight: 3, arbitrary: hostileString },
  { weight: 1, arbitrary: hostileValue },
);
const quantity = fc.oneof(fc.integer({ min: 1, max: 1_000_000 }), hostileValue);
const status = fc.oneof(fc.constantFrom(...ENUM), fc.constantFrom(...STATUSES), hostileValue);
const extras = fc.oneof(
  { weight: 4, arbitrary: fc.constant([] as [string, unknown][]) },
  { weight: 1, arbitrary: fc.array(fc.tuple(unknownKey, hostileValue), { minLength: 1, maxLength: 2 }) },
);
const orderInput = (required: boolean) =>
  fc
    .tuple(
      fc.record(
        { customerName: name, productName: name, quantity, status },
        { requiredKeys: required ? ['customerName', 'productName'] : [] },
      ),
      extras,
    )
    .map(([known, unknown]) => Object.fromEntries([...Object.entries(known), ...unknown]));

/** The input fields that the CONTRACT says are wrong, and what a valid input would store. */
function inputProblems(input: Record<string, unknown>, create: boolean): string[] {
  const problems = Object.keys(input).filter((key) => !FIELDS.includes(key));
  for (const field of ['customerName', 'productName']) {
    if ((create || field in input) && !isValidName(input[field])) problems.push(field);
  }
  if ('quantity' in input && !isValidQuantity(input.quantity)) problems.push('quantity');
  if ('status' in input && !ENUM.includes(input.status as string)) problems.push('status');
  if (!create && Object.keys(input).length === 0) problems.push('input');
  return problems;
}

/** A GraphQL literal for a JSON value; object keys that are no GraphQL name are left out. */
function literal(value: unknown, enumValue = false): string {
  if (typeof value === 'string') return enumValue && ENUM.includes(value) ? value : JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => literal(v)).join(', ')}]`;
  if (value && typeof value === 'object') {
    const fields = Object.entries(value).filter(([key]) => GRAPHQL_NAME.test(key));
    return `{ ${fields.map(([key, v]) => `${key}: ${literal(v, key === 'status')}`).join(', ')} }`;
  }
  return String(value);
}

/** What the literal can carry: the same value without the keys `literal` leaves out. */
function literalView(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(literalView);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => GRAPHQL_NAME.test(key))
        .map(([key, v]) => [key, literalView(v)]),
    );
  }
  return value;
}

const hasLoneSurrogate = (value: unknown) => /\\ud[89a-f][0-9a-f]{2}/i.test(JSON.stringify(value));

interface Call {
  mode: Mode;
  root: string;
  /** Argument name -> value (undefined: left out). */
  args: Record<string, unknown>;
  types: Record<string, string>;
}

async function send({ mode, root, args, types }: Call) {
  const present = Object.entries(args).filter(([, v]) => v !== undefined);
  const selection = '{ id customerName productName quantity status version }';
  const query =
    mode === 'variables'
      ? `mutation${present.length ? `(${present.map(([k]) => `$${k}: ${types[k]}`).join(', ')})` : ''} { ${root}${present.length ? `(${present.map(([k]) => `${k}: $${k}`).join(', ')})` : ''} ${selection} }`
      : `mutation { ${root}${present.length ? `(${present.map(([k, v]) => `${k}: ${literal(v)}`).join(', ')})` : ''} ${selection} }`;
  const response = await fetch(`${service.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({
      query,
      variables: mode === 'variables' ? Object.fromEntries(present) : undefined,
    }),
  });
  const text = await response.text();
  expect(response.status).toBeLessThan(500);
  expectNoInternals(text);
  return JSON.parse(text) as { data?: Record<string, any> | null; errors?: any[] };
}

/** A refusal: no data, every error with a code, the first one expected, naming a wrong field. */
function expectRefused(
  result: { data?: Record<string, any> | null; errors?: any[] },
  codes: string[],
  fields: string[],
) {
  expect(result.errors?.length).toBeGreaterThan(0);
  expect(result.data ?? null).toBeNull();
  for (const error of result.errors ?? []) expect(error.extensions?.code).toEqual(expect.any(String));
  const [first] = result.errors ?? [];
  expect(codes).toContain(first.extensions.code);
  if (first.extensions.code === 'BAD_USER_INPUT') expect(fields).toContain(first.extensions.field);
}

function expectUnchanged(before: State, after: State) {
  expect(after).toEqual(before);
}

const existingOrder = () => insertOrder(service.database.db);

const exists = (id: unknown) => orderExists(service.database.db, id);

const modes = fc.constantFrom<Mode>('variables', 'literals');

test('createOrder: hostile input is BAD_USER_INPUT naming the field and writes nothing; valid input is stored', async () => {
  let accepted = 0;
  let refused = 0;
  await fc.assert(
    fc.asyncProperty(modes, orderInput(false), async (mode, raw) => {
      const wire = overTheWire(raw);
      const input = (mode === 'literals' ? literalView(wire) : wire) as Record<string, unknown>;
      const problems = inputProblems(input, true);
      const before = await readState(service.database.db);
      const result = await send({
        mode,
        root: 'createOrder',
        args: { input },
        types: { input: 'CreateOrderInput!' },
      });
      const after = await readState(service.database.db);
      if (problems.length) {
        refused++;
        const parse = mode === 'literals' && hasLoneSurrogate(input) ? ['GRAPHQL_PARSE_FAILED'] : [];
        expectRefused(result, ['BAD_USER_INPUT', ...parse], [...problems, 'input']);
        return expectUnchanged(before, after);
      }
      accepted++;
      expect(result.errors).toBeUndefined();
      expect(result.data?.createOrder).toMatchObject({
        customerName: (input.customerName as string).trim(),
        productName: (input.productName as string).trim(),
        quantity: input.quantity ?? 1,
        status: input.status ?? 'PENDING',
        version: 1,
      });
      expect(after.orders).toBe(before.orders + 1);
      expect(BigInt(after.lastChange)).toBeGreaterThan(BigInt(before.lastChange));
    }),
    {
      numRuns: RUNS * 2,
      examples: [
        ['variables', { customerName: 'Ann', productName: 'Pen' }],
        ['literals', { customerName: 'a\u0000b', productName: 'Pen' }],
      ],
    },
  );
  expect(accepted).toBeGreaterThan(0);
  expect(refused).toBeGreaterThan(0);
});

test('updateOrder: hostile ids, input and expectedVersion are refused with a code and change nothing', async () => {
  const outcomes = new Set<string>();
  await fc.assert(
    fc.asyncProperty(
      modes,
      fc.oneof(fc.constant('existing'), fc.constant('existing as a number'), hostileId),
      orderInput(false),
      fc.oneof(
        fc.constant(undefined),
        fc.constant('current'),
        fc.constant('stale'),
        hostileValue,
        fc.constantFrom(MAX_INT, MAX_INT + 1),
      ),
      async (mode, idChoice, raw, versionChoice) => {
        const target = await existingOrder();
        const id =
          idChoice === 'existing'
            ? target.id
            : idChoice === 'existing as a number'
              ? Number(target.id)
              : overTheWire(idChoice);
        const expectedVersion =
          versionChoice === 'current'
            ? target.version
            : versionChoice === 'stale'
              ? target.version + 1
              : overTheWire(versionChoice);
        const wire = overTheWire(raw);
        const input = (mode === 'literals' ? literalView(wire) : wire) as Record<string, unknown>;
        const problems = inputProblems(input, false);
        if (!isValidId(id)) problems.push('id');
        if (expectedVersion !== undefined && expectedVersion !== null && !isValidVersion(expectedVersion))
          problems.push('expectedVersion');
        const found = await exists(id);
        const before = await readState(service.database.db);
        const result = await send({
          mode,
          root: 'updateOrder',
          args: { id, input, expectedVersion },
          types: { id: 'ID!', input: 'UpdateOrderInput!', expectedVersion: 'Int' },
        });
        const after = await readState(service.database.db);
        const conflict = typeof expectedVersion === 'number' && expectedVersion !== target.version;
        if (problems.length || !found || (conflict && String(id) === target.id)) {
          const expected = problems.length ? 'BAD_USER_INPUT' : !found ? 'NOT_FOUND' : 'CONFLICT';
          outcomes.add(expected);
          const parse =
            mode === 'literals' && hasLoneSurrogate([id, input, expectedVersion])
              ? ['GRAPHQL_PARSE_FAILED']
              : [];
          expectRefused(result, [expected, ...parse], [...problems, 'input']);
          return expectUnchanged(before, after);
        }
        if (String(id) !== target.id) return; // another valid id that happens to exist: not this test's case
        outcomes.add('ok');
        expect(result.errors).toBeUndefined();
        const updated = result.data?.updateOrder;
        expect(updated).toMatchObject({ id: target.id, version: target.version + 1 });
        if (typeof input.customerName === 'string')
          expect(updated.customerName).toBe(input.customerName.trim());
        if (typeof input.quantity === 'number') expect(updated.quantity).toBe(input.quantity);
        if (typeof input.status === 'string') expect(updated.status).toBe(input.status);
        expect(BigInt(after.lastChange)).toBeGreaterThan(BigInt(before.lastChange));
      },
    ),
    {
      numRuns: RUNS * 2,
      // Every outcome at least once, whatever the seed.
      examples: [
        ['variables', 'existing', { status: 'SHIPPED' }, 'current'],
        ['literals', 'existing', { quantity: 0 }, undefined],
        ['variables', '9223372036854775807', { quantity: 2 }, undefined],
        ['literals', 'existing', { quantity: 2 }, 'stale'],
      ],
    },
  );
  expect([...outcomes].sort()).toEqual(['BAD_USER_INPUT', 'CONFLICT', 'NOT_FOUND', 'ok']);
});

test('deleteOrder: hostile ids and versions are refused with a code and delete nothing', async () => {
  const outcomes = new Set<string>();
  await fc.assert(
    fc.asyncProperty(
      modes,
      fc.oneof(fc.constant('existing'), hostileId),
      fc.oneof(fc.constant(undefined), fc.constant('current'), fc.constant('stale'), hostileValue),
      async (mode, idChoice, versionChoice) => {
        const target = await existingOrder();
        const id = idChoice === 'existing' ? target.id : overTheWire(idChoice);
        const expectedVersion =
          versionChoice === 'current'
            ? target.version
            : versionChoice === 'stale'
              ? target.version + 1
              : overTheWire(versionChoice);
        const problems: string[] = [];
        if (!isValidId(id)) problems.push('id');
        if (expectedVersion !== undefined && expectedVersion !== null && !isValidVersion(expectedVersion))
          problems.push('expectedVersion');
        const found = await exists(id);
        const before = await readState(service.database.db);
        const result = await send({
          mode,
          root: 'deleteOrder',
          args: { id, expectedVersion },
          types: { id: 'ID!', expectedVersion: 'Int' },
        });
        const after = await readState(service.database.db);
        const conflict = typeof expectedVersion === 'number' && expectedVersion !== target.version;
        if (problems.length || !found || (conflict && String(id) === target.id)) {
          const expected = problems.length ? 'BAD_USER_INPUT' : !found ? 'NOT_FOUND' : 'CONFLICT';
          outcomes.add(expected);
          const parse =
            mode === 'literals' && hasLoneSurrogate([id, expectedVersion]) ? ['GRAPHQL_PARSE_FAILED'] : [];
          expectRefused(result, [expected, ...parse], problems);
          return expectUnchanged(before, after);
        }
        if (String(id) !== target.id) return;
        outcomes.add('ok');
        expect(result.errors).toBeUndefined();
        expect(result.data?.deleteOrder).toMatchObject({ id: target.id, version: target.version });
        expect(after.orders).toBe(before.orders - 1);
        expect(await exists(target.id)).toBe(false);
      },
    ),
    {
      numRuns: RUNS * 2,
      examples: [
        ['variables', 'existing', 'current'],
        ['variables', '0', undefined],
        ['literals', '9223372036854775807', undefined],
        ['variables', 'existing', 'stale'],
      ],
    },
  );
  expect([...outcomes].sort()).toEqual(['BAD_USER_INPUT', 'CONFLICT', 'NOT_FOUND', 'ok']);
});

test.each<[string, string, unknown]>([
  ['customerName', 'a\u0000b', 'variables'],
  ['productName', '\u0000', 'variables'],
  ['customerName', '\ud800', 'variables'],
  ['productName', 'x\udc00y', 'variables'],
  ['customerName', 'a\u0000b', 'literals'],
])('%s %j in %s: BAD_USER_INPUT naming the field, nothing stored', async (field, value, mode) => {
  const input = { customerName: 'Ann', productName: 'Pen', [field]: value };
  const before = await readState(service.database.db);
  const result = await send({
    mode: mode as Mode,
    root: 'createOrder',
    args: { input },
    types: { input: 'CreateOrderInput!' },
  });
  expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
  expect(await readState(service.database.db)).toEqual(before);
});

test('a name counts characters, not UTF-16 units: 200 emoji fit, 201 do not', async () => {
  const create = (customerName: string) =>
    send({
      mode: 'variables',
      root: 'createOrder',
      args: { input: { customerName, productName: 'Pen' } },
      types: { input: 'CreateOrderInput!' },
    });
  expect((await create('😀'.repeat(200))).data?.createOrder.customerName).toBe('😀'.repeat(200));
  expect((await create('😀'.repeat(201))).errors?.[0]?.extensions).toMatchObject({
    code: 'BAD_USER_INPUT',
    field: 'customerName',
  });
});
