import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import WebSocket from 'ws';
import type { SecurityConfig } from '../../src/auth/config.ts';
import { startTestService, type TestService } from '../helpers/service.ts';
import { SECRET } from './tokens.ts';

export const ON: SecurityConfig = { auth: { secret: SECRET }, corsOrigins: undefined, graphiql: true };

export function startAuthService(security: Partial<SecurityConfig> = {}): Promise<TestService> {
  return startTestService({ security: { ...ON, ...security } });
}

export interface Call {
  method?: string;
  token?: string | undefined;
  body?: unknown;
  headers?: Record<string, string>;
}

/** One HTTP request with fetch; the body parsed when it is JSON. */
export async function call(
  service: TestService,
  path: string,
  { method = 'GET', token, body, headers }: Call = {},
) {
  const response = await fetch(`${service.url}${path}`, {
    method,
    headers: {
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, json, text };
}

/** GraphQL over HTTP POST. */
export function gql(service: TestService, token: string | undefined, query: string, variables?: object) {
  return call(service, '/graphql', { method: 'POST', token, body: { query, variables } });
}

export type WsShape = 'authorization' | 'headers';

/** A graphql-ws client whose connection_init carries the token in one of the two accepted shapes. */
export function wsClient(service: TestService, token: string | undefined, shape: WsShape = 'authorization') {
  const closes: number[] = [];
  const client: WsClient = createWsClient({
    url: service.wsUrl,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: () =>
      token === undefined
        ? {}
        : shape === 'authorization'
          ? { authorization: `Bearer ${token}` }
          : { headers: { Authorization: `Bearer ${token}` } },
    on: { closed: (event) => closes.push((event as { code: number }).code) },
  });
  return { client, closes };
}

export function sseClient(service: TestService, token: string | undefined, singleConnection: boolean) {
  return createSseClient({
    url: `${service.url}/graphql/stream`,
    singleConnection,
    retryAttempts: 0,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
}

type Result = { data?: any; errors?: readonly any[] };

/** The next `count` results of a streaming client's operation (fewer if it completes); the
 * operation stays open, so a subscription can be read further. */
export async function collect(results: AsyncIterable<Result>, count = 1): Promise<Result[]> {
  const iterator = results[Symbol.asyncIterator]();
  const out: Result[] = [];
  while (out.length < count) {
    const { done, value } = await iterator.next();
    if (done) break;
    out.push(value);
  }
  return out;
}

/** The error a streaming operation ends with (a refused connection, a close event). */
export async function failure(results: AsyncIterable<Result>): Promise<unknown> {
  try {
    for await (const _ of results) {
      // drain
    }
  } catch (error) {
    return error;
  }
  return undefined;
}
