import { type ExecutionArgs, execute, parse } from 'graphql';
import { beforeAll, describe, expect, test } from 'vitest';
import { TOKEN_EXPIRED } from '../src/auth/expiry.ts';
import type { OrderChange } from '../src/changes/change.ts';
import { schema } from '../src/schema/index.ts';
import {
  COMPILED_QUERIES_KEPT,
  compiledQueryOf,
  executeSelection,
  loadCompiler,
} from '../src/server/compiled-execution.ts';

beforeAll(() => loadCompiler());

// Every subscription event's selection runs through the compiled query (src/server/compiled-execution.ts)
// instead of graphql's `execute`: for everything a client can send, the JSON must be the same bytes.

const order = {
  id: '42',
  customerName: 'Ada "the first" \u00e9\u2028',
  productName: 'tea\n\tpot',
  quantity: 3,
  status: 'shipped',
  version: 2,
  createdAt: new Date('2026-11-22T08:30:00.000Z'),
  updatedAt: new Date('2026-11-22T08:31:02.123Z'),
} as const;

const changes: Record<string, unknown> = {
  insert: {
    cursor: 'AAAB-1',
    operation: 'INSERT',
    order: { ...order, version: 1, status: 'pending' },
    previous: null,
    changedFields: [],
    committedAt: new Date('2026-11-22T08:30:00.001Z'),
    changedBy: null,
  } satisfies OrderChange,
  update: {
    cursor: 'AAAB-2',
    operation: 'UPDATE',
    order,
    previous: { ...order, status: 'pending', version: 1, updatedAt: order.createdAt },
    changedFields: ['status', 'version', 'updatedAt'],
    committedAt: new Date('2026-11-22T08:31:02.200Z'),
    changedBy: 'psql as postgres',
  } satisfies OrderChange,
  delete: {
    cursor: 'AAAB-3',
    operation: 'DELETE',
    order,
    previous: order,
    changedFields: [],
    committedAt: '2026-11-22T08:32:00+02:00',
    changedBy: 'app as orders',
  },
  // Values the schema rejects: non-null fields null, an int that is not one, an unknown enum value.
  orderNull: {
    cursor: 'x',
    operation: 'UPDATE',
    order: null,
    previous: null,
    changedFields: [],
    committedAt: new Date(0),
  },
  cursorNull: {
    cursor: null,
    operation: 'INSERT',
    order,
    previous: null,
    changedFields: [],
    committedAt: new Date(0),
  },
  badInt: {
    cursor: 'x',
    operation: 'INSERT',
    order: { ...order, quantity: 2.5 },
    previous: null,
    changedFields: [],
    committedAt: new Date(0),
  },
  badEnum: {
    cursor: 'x',
    operation: 'UPSERT',
    order,
    previous: { ...order, status: 'lost' },
    changedFields: [],
    committedAt: new Date(0),
  },
  badDate: {
    cursor: 'x',
    operation: 'INSERT',
    order: { ...order, updatedAt: 'not a date' },
    previous: null,
    changedFields: [],
    committedAt: new Date(0),
  },
  nullInList: {
    cursor: 'x',
    operation: 'INSERT',
    order,
    previous: null,
    changedFields: ['a', null],
    committedAt: new Date(0),
  },
  // The last event of a stream whose token expired: the resolver throws UNAUTHENTICATED.
  expired: TOKEN_EXPIRED,
};

const ALL = `cursor operation changedFields changedBy committedAt
  order { id customerName productName quantity status version createdAt updatedAt }
  previous { customerName productName quantity status version createdAt updatedAt }`;

const documents: { text: string; variables?: Record<string, unknown>; operationName?: string }[] = [
  { text: `subscription { orderChanged { ${ALL} } }` },
  { text: 'subscription { orderChanged { cursor } }' },
  { text: 'subscription { orderChanged { __typename order { __typename id } previous { __typename } } }' },
  { text: 'subscription { c: orderChanged { a: cursor b: cursor op: operation o: order { i: id id } } }' },
  { text: 'subscription { orderChanged { order { updatedAt id } cursor order { status createdAt } } }' },
  {
    text: `subscription Changes($where: OrderChangeFilter, $after: String) {
      orderChanged(where: $where, after: $after) { ${ALL} } }`,
    variables: { where: { ids: ['42', 7], statuses: ['SHIPPED'], operations: ['UPDATE'] }, after: 'AAAA' },
  },
  {
    text: 'subscription { orderChanged(where: { ids: [1, "2"], statuses: [PENDING] }, after: "x") { cursor order { id } } }',
  },
  {
    text: `fragment O on Order { id status ...Q } fragment Q on Order { quantity }
      fragment C on OrderChange { cursor order { ...O createdAt } }
      subscription { orderChanged { ...C ... on OrderChange { operation } ... { changedBy } previous { ...S } } }
      fragment S on OrderState { status version }`,
  },
  {
    text: `subscription S($full: Boolean!, $bare: Boolean = false) {
      orderChanged { cursor order @include(if: $full) { id customerName } previous @skip(if: $bare) { status }
        changedFields @skip(if: $full) } }`,
    variables: { full: true },
  },
  {
    text: `subscription S($full: Boolean!, $bare: Boolean = false) {
      orderChanged { cursor order @include(if: $full) { id customerName } previous @skip(if: $bare) { status }
        changedFields @skip(if: $full) } }`,
    variables: { full: false, bare: true },
  },
  {
    text: `query Q { orderChanges { cursor } } subscription A { orderChanged { cursor } }
      subscription B { orderChanged { operation order { version } } }`,
    operationName: 'B',
  },
  { text: 'subscription { orderChanged { changedFields changedFields } __typename }' },
];

function graphqlJson(args: ExecutionArgs, payload: unknown): Promise<string> {
  return Promise.resolve(execute({ ...args, rootValue: payload })).then((r) => JSON.stringify(r));
}

describe('the compiled execution of a subscription event', () => {
  for (const [d, { text, variables, operationName }] of documents.entries()) {
    test(`document ${d} gives graphql's JSON for every event`, async () => {
      const args: ExecutionArgs = {
        schema,
        document: parse(text),
        variableValues: variables,
        operationName,
        contextValue: {},
      };
      for (const [name, payload] of Object.entries(changes)) {
        const expected = await graphqlJson(args, payload);
        const actual = JSON.stringify(await executeSelection(args, payload));
        expect(actual, `${name}: ${expected}`).toBe(expected);
      }
    });
  }

  test('documents are compiled, and the compiled query alone gives the same JSON for valid events', async () => {
    for (const { text, variables, operationName } of documents) {
      const args: ExecutionArgs = {
        schema,
        document: parse(text),
        variableValues: variables,
        operationName,
        contextValue: {},
      };
      const compiled = compiledQueryOf(schema, args.document, operationName);
      expect(compiled, text).not.toBeNull();
      for (const name of ['insert', 'update', 'delete']) {
        const raw = await compiled?.query(changes[name], {}, variables);
        expect(raw?.errors, `${name} ${text}`).toBeUndefined();
        expect(JSON.stringify(raw)).toBe(await graphqlJson(args, changes[name]));
      }
    }
  });

  test('the compiled query of a document text is made once, for every document parsed from it', () => {
    const text = 'subscription { orderChanged { cursor } }';
    const document = parse(text);
    const compiled = compiledQueryOf(schema, document, undefined);
    expect(compiledQueryOf(schema, document, null)).toBe(compiled);
    expect(compiledQueryOf(schema, parse(text), undefined)).toBe(compiled);
    expect(compiledQueryOf(schema, parse(text), 'Other')).not.toBe(compiled);
  });

  test('compiled queries kept by text are bounded: the least recently used is dropped', () => {
    const text = 'subscription Oldest { orderChanged { operation } }';
    const oldest = compiledQueryOf(schema, parse(text), undefined);
    for (let i = 0; i < COMPILED_QUERIES_KEPT; i++) {
      compiledQueryOf(schema, parse(`subscription Q${i} { orderChanged { cursor } }`), undefined);
    }
    const again = compiledQueryOf(schema, parse(text), undefined);
    expect(again).not.toBeNull();
    expect(again).not.toBe(oldest);
  });

  test('errors are graphql’s own: messages, locations, paths and the data beside them', async () => {
    const args: ExecutionArgs = {
      schema,
      document: parse(`subscription { orderChanged { ${ALL} } }`),
      contextValue: {},
    };
    const result = await executeSelection(args, changes.badEnum);
    expect(result.errors?.map((e) => e.message)).toEqual([
      'Enum "ChangeOperation" cannot represent value: "UPSERT"',
    ]);
    const expired = await executeSelection(args, TOKEN_EXPIRED);
    expect(expired.errors?.[0]?.extensions).toEqual({ code: 'UNAUTHENTICATED' });
    expect(expired.data).toBeNull();
  });
});
