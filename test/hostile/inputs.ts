import fc from 'fast-check';
import { sql } from 'kysely';
import { expect } from 'vitest';
import type { Db } from '../../src/db/connect.ts';
import { isMysqlDb } from '../../src/db/mysql.ts';
import { createOrder } from '../../src/orders/repository.ts';
import { waitFor } from '../helpers/wait.ts';

/**
 * Hostile input for the property tests, and an independent model of what the service must
 * accept. The model is written from the CONTRACT's limits, not from the server's code, so that a
 * server that accepts too much or too little fails the property.
 */

export const STATUSES = ['pending', 'processing', 'shipped', 'delivered', 'cancelled'];
export const MAX_VERSION = 2 ** 31 - 1;

/** Lone surrogates (JSON allows "\ud800"), NUL, right-to-left and invisible characters, emoji. */
const nastyUnit = fc.constantFrom(
  '\u0000',
  '\ud800',
  '\udfff',
  '\ud83d', // the first half of an emoji alone
  '😀',
  '👩‍👩‍👧',
  '\u202e',
  'שלום',
  'مرحبا',
  '\u200b',
  '\ufeff',
  ' ',
  '\t',
  '\n',
  'a',
  'Z',
  "'",
  '"',
  '\\',
  '%',
);

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ unit: nastyUnit, maxLength: 12 }),
  fc.string({ unit: fc.constantFrom('x', '😀', ' '), minLength: 195, maxLength: 205 }),
  fc.constantFrom(
    '',
    '   ',
    'a\u0000b',
    '\ud800',
    'ok\udc00',
    'x'.repeat(200),
    'x'.repeat(201),
    '😀'.repeat(200),
    '😀'.repeat(201),
    ` ${'y'.repeat(200)} `,
    '\u202eevil',
    "Robert'); DROP TABLE orders;--",
    '__proto__',
    'Laptop',
  ),
);

export const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.integer({ min: -5, max: 1_000_005 }),
  fc.constantFrom(
    0,
    -0,
    1,
    1_000_000,
    1_000_001,
    2 ** 31 - 1,
    2 ** 31,
    2 ** 53 + 2,
    1e21,
    -1,
    1e308,
    0.5,
    1.5,
  ),
  fc.double({ noNaN: true }),
);

/** Any value a JSON field might carry. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: hostileString },
  { weight: 3, arbitrary: hostileNumber },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);

/** Keys that are no field of an order, some of them Object's own. */
export const unknownKey = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'toString', 'colour', 'customerName ', 'Quantity'),
  fc.string({ unit: nastyUnit, minLength: 1, maxLength: 6 }),
);

/** What the server receives: `JSON.stringify` drops undefined, turns -0 into 0 and NaN into null. */
export const overTheWire = <T>(value: T): T =>
  value === undefined ? value : JSON.parse(JSON.stringify(value));

const codePoints = (value: string) => [...value].length;

/** CONTRACT: 1 to 200 characters after trimming; text PostgreSQL can store unchanged. */
export function isValidName(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const trimmed = value.trim();
  return (
    trimmed.length > 0 &&
    codePoints(trimmed) <= 200 &&
    !trimmed.includes('\u0000') &&
    !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(trimmed)
  );
}

export const isValidQuantity = (value: unknown) =>
  typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 1_000_000;

export const isValidVersion = (value: unknown) =>
  typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_VERSION;

/** A positive int8 in decimal; GraphQL's ID also takes an integer, as its decimal text. */
export const isValidId = (value: unknown): boolean =>
  (typeof value === 'string' && /^[1-9][0-9]{0,18}$/.test(value) && BigInt(value) <= 2n ** 63n - 1n) ||
  (typeof value === 'number' && Number.isInteger(value) && isValidId(String(value)));

export const hostileId: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom('0', '-1', '007', '1e3', '0x10', ' 1', '9223372036854775807', '9223372036854775808', '1.0'),
  fc.constantFrom(0, -1, 1.5, 2 ** 53 + 2, 1e21, 2 ** 63), // 2 ** 63: what JSON makes of 9223372036854775807
  hostileValue,
);

export interface State {
  orders: number;
  lastChange: string;
  digest: string;
}

/** Everything a rejected request must leave as it was: the orders and the change log. */
export async function readState(db: Db): Promise<State> {
  if (isMysqlDb(db)) {
    await captureCaughtUp(db);
    const { rows } = await sql<State>`
      SELECT (SELECT count(*) FROM orders) AS orders,
             (SELECT CAST(coalesce(max(seq), 0) AS CHAR) FROM order_changes) AS lastChange,
             (SELECT md5(coalesce(group_concat(concat_ws(',', id, customer_name, product_name, quantity, status,
               version, created_at, updated_at) ORDER BY id SEPARATOR '|'), '')) FROM orders) AS digest`.execute(
      db,
    );
    const row = rows[0] as State;
    return { ...row, orders: Number(row.orders) };
  }
  const { rows } = await sql<State>`
    SELECT (SELECT count(*)::int FROM orders) AS orders,
           (SELECT coalesce(max(seq), 0)::text FROM order_changes) AS "lastChange",
           (SELECT md5(coalesce(string_agg(o::text, '|' ORDER BY id), '')) FROM orders o) AS digest`.execute(
    db,
  );
  return rows[0] as State;
}

/**
 * On MySQL the change log is written by the binary-log capture, after the commit: the state is
 * read once every order's current version and every deletion is in the log, so that a valid
 * write made just before is not taken for a rejected request's doing.
 */
async function captureCaughtUp(db: Db): Promise<void> {
  await waitFor(
    async () => {
      // One pass over the log per check, grouped by order (order_changes has no index on
      // order_id: a correlated lookup per order made each check quadratic, seconds per call).
      const { rows } = await sql<{ behind: number | string }>`
        SELECT (SELECT count(*) FROM orders o LEFT JOIN (
                  SELECT order_id, MAX(CAST(JSON_VALUE(new_row, '$.version') AS UNSIGNED)) AS version
                  FROM order_changes WHERE op <> 'DELETE' GROUP BY order_id) c ON c.order_id = o.id
                WHERE c.version IS NULL OR c.version <> o.version)
             + (SELECT count(*) FROM (
                  SELECT order_id, MAX(op = 'DELETE') AS deleted FROM order_changes GROUP BY order_id) c
                WHERE NOT c.deleted AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = c.order_id))
             AS behind`.execute(db);
      return Number(rows[0]?.behind) === 0;
    },
    { timeoutMs: 15_000, message: 'the binary-log capture to record every committed write' },
  );
}

// Checked on the raw JSON text of a response, where a stack's newlines are written `\n`.
const STACK = /\\n\s+at |node_modules|\.ts:\d+|\.js:\d+|"stack"\s*:/;
const SQL_TEXT =
  /violates|syntax error at|duplicate key|invalid byte sequence|invalid input syntax|out of range for type|SQLSTATE|relation "|column "|null character not permitted|unsupported Unicode escape/i;

/** Nothing that reached a client may reveal a stack or the database's own words. */
export function expectNoInternals(text: string): void {
  expect(text).not.toMatch(STACK);
  expect(text).not.toMatch(SQL_TEXT);
  expect(text).not.toContain('Unexpected error.');
}

/** A fresh order to update or delete, written through the pool (a connection per call is slow). */
export async function insertOrder(db: Db): Promise<{ id: string; version: number }> {
  if (isMysqlDb(db)) {
    const created = await createOrder(db, { customerName: 'Target', productName: 'Thing', quantity: 3 });
    return { id: created.id, version: created.version };
  }
  const { rows } = await sql<{ id: string; version: number }>`
    INSERT INTO orders (customer_name, product_name, quantity) VALUES ('Target', 'Thing', 3)
    RETURNING id::text, version`.execute(db);
  return rows[0] as { id: string; version: number };
}

export async function orderExists(db: Db, id: unknown): Promise<boolean> {
  if (!isValidId(id)) return false;
  const { rows } = await sql`SELECT 1 FROM orders WHERE id = ${String(id)}`.execute(db);
  return rows.length > 0;
}
