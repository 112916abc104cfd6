import { type Client, type ClientOptions, CloseCode, createClient as createWsClient } from 'graphql-ws';
import { resumableOperation } from './operation.ts';
import { backoff, isRetryLater, iterateWith, type Sink, subscribeResuming } from './resume.ts';

/** A ping every 10 s (unless `keepAlive` is given); no pong within 5 s means a dead network. */
const PING_INTERVAL_MS = 10_000;
const PONG_TIMEOUT_MS = 5_000;

// Closes that graphql-ws reports without retrying, but that a server restart or a proxy can cause.
const RESTART_CLOSE_CODES = new Set<number>([1011, CloseCode.InternalServerError]);

const isCloseEvent = (value: unknown): value is { code: number; reason: string } =>
  typeof value === 'object' && value !== null && 'code' in value && 'reason' in value;

/**
 * Retries everything a restart or a network can cause: closes (1001, 1006, 1012, 4499…),
 * refused connections (an error event, which graphql-ws does not retry by default). A refusal of
 * this client's credentials (4403, e.g. an expired token) is retried only when `connectionParams`
 * is a function, which can hand the next connection a fresh token; with fixed parameters the
 * same refusal would come back forever, so it goes to the application.
 */
const retryUnlessForbidden =
  (canRenew: boolean) =>
  (error: unknown): boolean =>
    canRenew || !(isCloseEvent(error) && error.code === CloseCode.Forbidden);

/**
 * A graphql-ws client whose subscriptions resume where the application left off: for every
 * subscription that declares `$after` and selects `cursor` on its root field, a re-subscription
 * (after a reconnect, a server restart, or a close graphql-ws would not retry) sends `after` =
 * the last cursor delivered to the sink; a refusal (`CURSOR_EXPIRED`) reaches the sink's `error`
 * and ends the subscription (`SERVICE_UNAVAILABLE` is retried). Other operations go through untouched. Options are
 * graphql-ws's; the ones given win over the defaults here (retry forever, with backoff).
 */
export function createClient(options: ClientOptions): Client {
  const retryAttempts = options.retryAttempts ?? Number.POSITIVE_INFINITY;
  const shouldRetry =
    options.shouldRetry ?? retryUnlessForbidden(typeof options.connectionParams === 'function');
  const retryWait = options.retryWait ?? backoff;
  // Apollo Client's GraphQLWsLink reads the global WebSocket when it reports an error; in Node 20
  // there is none, the read throws inside graphql-ws, and the error never reaches the application.
  const global = globalThis as { WebSocket?: unknown };
  if (global.WebSocket === undefined && options.webSocketImpl) global.WebSocket = options.webSocketImpl;

  const client = createWsClient({
    keepAlive: PING_INTERVAL_MS,
    ...options,
    retryAttempts,
    shouldRetry,
    retryWait,
  });
  if (options.keepAlive === undefined) watchPongs(client);

  function subscribe<T>(payload: Parameters<Client['subscribe']>[0], sink: Sink<T>): () => void {
    const operation = resumableOperation(payload.query, payload.operationName);
    if (!operation) return client.subscribe(payload, sink as never);
    return subscribeResuming<T>(payload, sink, {
      operation,
      subscribe: (request, inner) => client.subscribe(request as typeof payload, inner as never),
      retryable: (error, attempt) =>
        attempt < retryAttempts &&
        (isRetryLater(error) ||
          (isCloseEvent(error) && RESTART_CLOSE_CODES.has(error.code) && shouldRetry(error))),
      wait: retryWait,
    });
  }

  return {
    on: client.on,
    // graphql-ws's dispose() waits for a connection attempt in progress and rethrows how it ended
    // (a close such as 1000 'All Subscriptions Gone' when the last subscription went while the
    // client waited to reconnect). Disposing, the application has no use for it: nothing is left
    // open either way (test/clients/dispose.test.ts).
    dispose: async () => {
      try {
        await client.dispose();
      } catch {}
    },
    terminate: () => client.terminate(),
    subscribe: subscribe as Client['subscribe'],
    iterate: ((payload: Parameters<Client['subscribe']>[0]) =>
      iterateWith((sink) => subscribe(payload, sink))) as Client['iterate'],
  };
}

/** A server that stopped answering (a dead network, a frozen host) shows as a missing pong. */
function watchPongs(client: Client): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  client.on('ping', (received) => {
    if (received) return;
    clearTimeout(timer);
    timer = setTimeout(() => client.terminate(), PONG_TIMEOUT_MS);
  });
  client.on('pong', (received) => {
    if (received) clearTimeout(timer);
  });
  client.on('closed', () => clearTimeout(timer));
}
