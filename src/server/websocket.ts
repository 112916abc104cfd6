import type { IncomingMessage, Server } from 'node:http';
import type { ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { createGraphQLError } from 'graphql-yoga';
import { WebSocket, WebSocketServer } from 'ws';
import type { WebSocketAuth } from '../auth/websocket.ts';
import { BatchingWebSocket } from './batching-websocket.ts';
import { MAX_BODY_BYTES } from './body-limit.ts';
import { type DirectResults, nextMessagePrefix } from './shared-message.ts';
import { capWebSocketSubscriptions, DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION } from './subscription-cap.ts';
import type { YogaServer } from './yoga.ts';

interface EnvelopedRoot {
  execute: (args: ExecutionArgs) => unknown;
  subscribe: (args: ExecutionArgs) => unknown;
  socket: WebSocket;
  /** For a subscription: its results without errors go straight to the socket. */
  direct?: DirectResults;
}

/** RFC 6455 "going away": the server is shutting down. graphql-ws's CloseCode has no name for it. */
export const GOING_AWAY = 1001;

/**
 * graphql-ws keeps each connection's upgrade request (`ctx.extra.request`) for as long as the
 * connection lasts, and nothing reads more of it than its headers once the upgrade is done (the
 * origin is checked before, the token comes in connection_init). The IncomingMessage, with its
 * stream state and listeners, weighs about 1.3 KB per connection, as much as a third of ws's own
 * socket: connections are handed on with a view of the request instead.
 */
class LeanRequestServer extends WebSocketServer {
  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'connection') {
      const request = args[1] as IncomingMessage;
      const view = {
        headers: request.headers,
        method: request.method,
        url: request.url,
        socket: request.socket,
      };
      return super.emit(event, args[0], view, ...args.slice(2));
    }
    return super.emit(event, ...args);
  }
}

/**
 * graphql-ws on the same port and path as HTTP GraphQL. Every operation goes through Yoga's
 * envelop, so masking, limits and later auth apply over WebSocket exactly as over HTTP.
 */
export function attachGraphQLWebSocket(
  server: Server,
  yoga: YogaServer,
  {
    auth,
    maxSubscriptionsPerConnection = DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION,
  }: { auth?: WebSocketAuth | undefined; maxSubscriptionsPerConnection?: number | undefined } = {},
) {
  const wss = new LeanRequestServer({
    server,
    path: yoga.graphqlEndpoint,
    WebSocket: BatchingWebSocket,
    verifyClient: auth?.verifyClient,
    // A message over the HTTP body limit closes its socket with 1009 (CloseCode "message too big").
    maxPayload: MAX_BODY_BYTES,
  });
  const capSubscriptions = capWebSocketSubscriptions(maxSubscriptionsPerConnection);
  // Queries and mutations being executed, per socket: a shutdown answers them before it closes
  // their socket.
  const executing = new WeakMap<WebSocket, Set<Promise<unknown>>>();
  let closing = false;
  const disposable = useServer(
    {
      onConnect: auth && ((ctx) => auth.onConnect(ctx.connectionParams, ctx.extra.socket)),
      // graphql-ws calls execute for queries and mutations only (subscribe for subscriptions).
      execute: (args) => {
        const root = args.rootValue as EnvelopedRoot;
        const result = Promise.resolve(root.execute(args));
        const pending = executing.get(root.socket) ?? new Set();
        executing.set(root.socket, pending);
        const settled: Promise<unknown> = result.then(
          () => pending.delete(settled),
          () => pending.delete(settled),
        );
        pending.add(settled);
        return result as never;
      },
      subscribe: (args) => (args.rootValue as EnvelopedRoot).subscribe(args) as never,
      // The payload is serialized once per result, however many subscribers receive it.
      onNext: (ctx, id, _payload, _args, result) =>
        (ctx.extra.socket as BatchingWebSocket).nextMessages.expect(id, result) as never,
      onSubscribe: async (ctx, id, params) => {
        if (closing) {
          return [
            createGraphQLError('the server is shutting down; retry on another connection', {
              extensions: { code: 'SERVICE_UNAVAILABLE' },
            }),
          ];
        }
        // graphql-ws's context, field by field: a spread of it gave every subscription's context
        // object a hidden class of its own (about 400 bytes each, kept as long as it lasts).
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          connectionInitReceived: ctx.connectionInitReceived,
          acknowledged: ctx.acknowledged,
          subscriptions: ctx.subscriptions,
          extra: ctx.extra,
          connectionParams: ctx.connectionParams,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params,
        });
        let document: ReturnType<typeof parse>;
        try {
          document = parse(params.query);
        } catch (error) {
          return [error as never];
        }
        const args = {
          schema,
          operationName: params.operationName,
          document,
          variableValues: params.variables,
          contextValue: await contextFactory(),
          rootValue: {
            execute,
            subscribe,
            socket: ctx.extra.socket,
            direct: directResults(ctx, id),
          } satisfies EnvelopedRoot,
        };
        const errors = validate(args.schema, args.document);
        if (errors.length) return errors;
        return capSubscriptions(ctx, id, document, params.operationName) ?? args;
      },
    },
    wss,
  );
  return {
    wss,
    /**
     * Lets queries and mutations in flight finish (up to `graceMs`), then closes every socket with
     * 1001 so that clients reconnect at once, to another instance or to this one once it is back.
     */
    async close(graceMs = 4_000) {
      closing = true;
      const deadline = Date.now() + graceMs;
      const closeOne = async (client: WebSocket) => {
        const pending = executing.get(client);
        if (pending?.size) await Promise.race([Promise.all(pending), sleep(deadline - Date.now())]);
        // graphql-ws sends a result a few microtasks after execute resolves.
        await new Promise((resolve) => setImmediate(resolve));
        if (client.readyState === WebSocket.CLOSED) return;
        const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
        client.close(GOING_AWAY, 'server shutting down');
        // The closing handshake needs the client; one that does not answer is cut off.
        await Promise.race([closed, sleep(1_000)]);
        client.terminate();
      };
      await Promise.all([...wss.clients].map(closeOne));
      await disposable.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/**
 * Results of subscription `id` sent by the shared execution itself (src/server/shared-execution.ts)
 * as graphql-ws would send them, while graphql-ws still holds the subscription (not completed by
 * the client, not closed).
 */
function directResults(
  ctx: { subscriptions: Record<string, unknown>; extra: { socket: WebSocket } },
  id: string,
): DirectResults {
  return new SocketResults(ctx, id);
}

// A class, not an object literal with a closure: every open subscription holds one.
class SocketResults implements DirectResults {
  private readonly prefix: string;

  constructor(
    private readonly ctx: { subscriptions: Record<string, unknown>; extra: { socket: WebSocket } },
    private readonly id: string,
  ) {
    this.prefix = nextMessagePrefix(id);
  }

  send(result: object): undefined | false | Promise<void> {
    if (!(this.id in this.ctx.subscriptions)) return false;
    return (this.ctx.extra.socket as BatchingWebSocket).sendResult(this.prefix, result);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
