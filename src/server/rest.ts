import { type Access, OPEN_ACCESS } from '../auth/access.ts';
import { orderScope, writeScope } from '../auth/scope.ts';
import type { Db } from '../db/connect.ts';
import { DomainError } from '../errors.ts';
import type { Order } from '../orders/order.ts';
import { MAX_PAGE_SIZE } from '../orders/repository.ts';
import {
  createScopedOrder,
  deleteScopedOrder,
  listScopedOrders,
  type OrderScope,
  requireScopedOrder,
  updateScopedOrder,
} from '../orders/scope.ts';
import { validateOrderId, validatePageSize, validateStatus } from '../orders/validation.ts';
import { payloadTooLarge } from './body-limit.ts';
import { HTTP_STATUS, toDomainError } from './errors.ts';

const MAX_BODY_BYTES = 64 * 1024;
const DEFAULT_LIMIT = 50;
const WRITABLE: Record<string, string> = {
  customer_name: 'customerName',
  product_name: 'productName',
  quantity: 'quantity',
  status: 'status',
};
// Clients that PUT back what they GET may send these; they are the server's to set.
const READ_ONLY = new Set(['id', 'version', 'created_at', 'updated_at']);

/**
 * REST in the classic shapes (snake_case JSON, lowercase status), over the same domain functions
 * as GraphQL. Returns undefined for paths it does not own.
 */
export function createRestHandler(
  db: Db,
  accessOf: (request: Request) => Promise<Access> = async () => OPEN_ACCESS,
) {
  return async (request: Request, url: URL): Promise<Response | undefined> => {
    const match = /^\/api\/orders(?:\/([^/]+))?\/?$/.exec(url.pathname);
    if (!match) return undefined;
    try {
      const id = match[1] === undefined ? undefined : decodeId(match[1]);
      const access = await accessOf(request);
      // A reader's write is refused before its body is read (403).
      const scope = request.method === 'GET' ? orderScope(access) : writeScope(access);
      if (id === undefined) {
        if (request.method === 'GET') return await list(db, scope, url);
        if (request.method === 'POST') {
          const order = await createScopedOrder(db, scope, await readInput(request));
          return json(orderToJson(order), 201, { location: `/api/orders/${order.id}` });
        }
        return methodNotAllowed('GET, POST');
      }
      if (request.method === 'GET') return json(orderToJson(await requireScopedOrder(db, scope, id)));
      if (request.method === 'PUT' || request.method === 'PATCH') {
        const body = await readBody(request);
        const expected = body.expected_version ?? ifMatchVersion(request);
        return json(orderToJson(await updateScopedOrder(db, scope, id, toInput(body), expected)));
      }
      if (request.method === 'DELETE')
        return json(orderToJson(await deleteScopedOrder(db, scope, id, ifMatchVersion(request))));
      return methodNotAllowed('GET, PUT, PATCH, DELETE');
    } catch (error) {
      if (error instanceof PayloadTooLarge) return payloadTooLarge(MAX_BODY_BYTES);
      const known = toDomainError(error);
      if (known) return domainErrorResponse(known);
      throw error;
    }
  };
}

async function list(db: Db, scope: OrderScope, url: URL): Promise<Response> {
  // Checked here, not only in listOrders, so that errors name the query parameters REST clients send.
  const limit = url.searchParams.get('limit');
  const after = url.searchParams.get('after_id');
  const status = url.searchParams.get('status');
  const page = await listScopedOrders(db, scope, {
    first: limit === null ? DEFAULT_LIMIT : validatePageSize(pageSize(limit), MAX_PAGE_SIZE, 'limit'),
    afterId: after === null ? undefined : validateOrderId(after, 'after_id'),
    status: status === null ? undefined : validateStatus(status.toLowerCase()),
  });
  const headers: Record<string, string> = {};
  const last = page.orders.at(-1);
  if (page.hasNextPage && last) {
    const next = new URL(url);
    next.searchParams.set('after_id', last.id);
    headers.link = `<${next.pathname}${next.search}>; rel="next"`;
  }
  return json(page.orders.map(orderToJson), 200, headers);
}

// `%ff` is not UTF-8 and decodeURIComponent throws: an id that is not an id, not a server fault.
function decodeId(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new DomainError('BAD_USER_INPUT', 'id: must be a positive decimal order id', { field: 'id' });
  }
}

function pageSize(value: string): number {
  // Number('') is 0 and Number(' 7 ') is 7; only plain digits are a page size.
  return /^[0-9]+$/.test(value) ? Number(value) : Number.NaN;
}

export function orderToJson(order: Order) {
  const id = Number(order.id);
  return {
    id: Number.isSafeInteger(id) ? id : order.id,
    customer_name: order.customerName,
    product_name: order.productName,
    quantity: order.quantity,
    status: order.status,
    version: order.version,
    created_at: order.createdAt.toISOString(),
    updated_at: order.updatedAt.toISOString(),
  };
}

async function readInput(request: Request) {
  return toInput(await readBody(request));
}

async function readBody(request: Request): Promise<Record<string, unknown>> {
  // The server refuses bodies over 1 MiB before anything reads them (body-limit.ts); an order is
  // far smaller, so REST draws its line lower, with the same answer.
  const length = Number(request.headers.get('content-length') ?? 0);
  if (length > MAX_BODY_BYTES) throw new PayloadTooLarge();
  const bytes = new Uint8Array(await request.arrayBuffer());
  if (bytes.byteLength > MAX_BODY_BYTES) throw new PayloadTooLarge();
  let body: unknown;
  try {
    // JSON is UTF-8 (RFC 8259); invalid bytes are refused rather than stored as U+FFFD.
    body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new DomainError('BAD_USER_INPUT', 'body: must be a JSON object', { field: 'body' });
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new DomainError('BAD_USER_INPUT', 'body: must be a JSON object', { field: 'body' });
  }
  return body as Record<string, unknown>;
}

function toInput(body: Record<string, unknown>): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    if (READ_ONLY.has(key) || key === 'expected_version') continue;
    // hasOwn: a key such as "constructor" or "__proto__" is unknown, not Object's.
    const field = Object.hasOwn(WRITABLE, key) ? WRITABLE[key] : undefined;
    if (!field) throw new DomainError('BAD_USER_INPUT', `${key}: is not a known field`, { field: key });
    input[field] = field === 'status' && typeof value === 'string' ? value.toLowerCase() : value;
  }
  return input;
}

function ifMatchVersion(request: Request): number | undefined {
  const header = request.headers.get('if-match');
  // `*` is HTTP's "whatever the current version is": no check.
  if (!header || header.trim() === '*') return undefined;
  const version = Number(header.replace(/^W\//, '').replaceAll('"', ''));
  if (!/^\s*(W\/)?"?[0-9]+"?\s*$/.test(header) || !Number.isInteger(version))
    throw new DomainError('BAD_USER_INPUT', 'If-Match: must be an order version', { field: 'If-Match' });
  return version;
}

// The domain's field names, as REST spells them. Anything else (a key the client sent, a header
// such as If-Match, `id`, `body`) is named as it is.
const REST_FIELDS: Record<string, string> = {
  ...Object.fromEntries(Object.entries(WRITABLE).map(([rest, domain]) => [domain, rest])),
  expectedVersion: 'expected_version',
};
const restField = (field: string) =>
  (Object.hasOwn(REST_FIELDS, field) ? REST_FIELDS[field] : field) as string;

class PayloadTooLarge extends Error {}

function domainErrorResponse(error: DomainError): Response {
  const field = typeof error.details.field === 'string' ? error.details.field : undefined;
  const message = field === undefined ? error.message : error.message.replace(field, restField(field));
  return json(
    { error: error.code, message, ...(field === undefined ? {} : { field: restField(field) }) },
    HTTP_STATUS[error.code],
  );
}

function methodNotAllowed(allow: string): Response {
  return json({ error: 'METHOD_NOT_ALLOWED', message: `use ${allow}` }, 405, { allow });
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  });
}
