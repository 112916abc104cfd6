import type { Db } from '../db/connect.ts';
import { DomainError } from '../errors.ts';
import type { Order } from '../orders/order.ts';
import {
  createOrder,
  deleteOrder,
  listOrders,
  MAX_PAGE_SIZE,
  requireOrder,
  updateOrder,
} from '../orders/repository.ts';
import { validateOrderId, validatePageSize, validateStatus } from '../orders/validation.ts';
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
export function createRestHandler(db: Db) {
  return async (request: Request, url: URL): Promise<Response | undefined> => {
    const match = /^\/api\/orders(?:\/([^/]+))?\/?$/.exec(url.pathname);
    if (!match) return undefined;
    const id = match[1] === undefined ? undefined : decodeURIComponent(match[1]);
    try {
      if (id === undefined) {
        if (request.method === 'GET') return await list(db, url);
        if (request.method === 'POST') {
          const order = await createOrder(db, await readInput(request));
          return json(orderToJson(order), 201, { location: `/api/orders/${order.id}` });
        }
        return methodNotAllowed('GET, POST');
      }
      if (request.method === 'GET') return json(orderToJson(await requireOrder(db, id)));
      if (request.method === 'PUT' || request.method === 'PATCH') {
        const body = await readBody(request);
        const expected = body.expected_version ?? ifMatchVersion(request);
        return json(orderToJson(await updateOrder(db, id, toInput(body), expected)));
      }
      if (request.method === 'DELETE')
        return json(orderToJson(await deleteOrder(db, id, ifMatchVersion(request))));
      return methodNotAllowed('GET, PUT, PATCH, DELETE');
    } catch (error) {
      const known = toDomainError(error);
      if (known) return domainErrorResponse(known);
      throw error;
    }
  };
}

async function list(db: Db, url: URL): Promise<Response> {
  // Checked here, not only in listOrders, so that errors name the query parameters REST clients send.
  const limit = url.searchParams.get('limit');
  const after = url.searchParams.get('after_id');
  const status = url.searchParams.get('status');
  const page = await listOrders(db, {
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
  const length = Number(request.headers.get('content-length') ?? 0);
  if (length > MAX_BODY_BYTES)
    throw new DomainError('BAD_USER_INPUT', `body: must be at most ${MAX_BODY_BYTES} bytes`);
  const text = await request.text();
  if (text.length > MAX_BODY_BYTES)
    throw new DomainError('BAD_USER_INPUT', `body: must be at most ${MAX_BODY_BYTES} bytes`);
  let body: unknown;
  try {
    body = JSON.parse(text);
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
    const field = WRITABLE[key];
    if (!field) throw new DomainError('BAD_USER_INPUT', `${key}: is not a known field`, { field: key });
    input[field] = field === 'status' && typeof value === 'string' ? value.toLowerCase() : value;
  }
  return input;
}

function ifMatchVersion(request: Request): number | undefined {
  const header = request.headers.get('if-match');
  if (!header) return undefined;
  const version = Number(header.replace(/^W\//, '').replaceAll('"', ''));
  if (!Number.isInteger(version))
    throw new DomainError('BAD_USER_INPUT', 'If-Match: must be an order version');
  return version;
}

const snake = (field: string) => field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function domainErrorResponse(error: DomainError): Response {
  const field = typeof error.details.field === 'string' ? error.details.field : undefined;
  const message = field ? error.message.replace(field, snake(field)) : error.message;
  return json(
    { error: error.code, message, ...(field ? { field: snake(field) } : {}) },
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
