import type { IncomingMessage, Server } from 'node:http';
import type { ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { createGraphQLError } from 'graphql-yoga';
import { WebSocket, WebSocketServer } from 'ws';
import type { WebSocketAuth } from '../auth/websocket.ts';
import { MAX_BODY_BYTES } from './body-limit.ts';
import {
  type DirectResults,
  nextMessagePrefix,
  SharedNextMessages,
  serializedResult,
} from './shared-message.ts';
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

/** Bytes a socket may have waiting before its sends are acknowledged only once written. */
const HIGH_WATER_BYTES = 1 << 20;

/**
 * Two costs of graphql-ws over ws, per message, that a burst of changes multiplies:
 * - it waits for each message's write callback before taking the next event, one event-loop
 *   turn per message. While little is buffered the send is acknowledged at once; once a slow
 *   client lets the buffer grow, acknowledgements wait for the write again, so backpressure
 *   still reaches the feed.
 * - each message is its own write system call. A socket's first message of an event-loop turn is
 *   written at once; if more follow in the same turn, the socket is corked until the turn ends, so
 *   the rest of a burst leaves together. (Corking from the first message held back every socket
 *   of a fan-out until all of them had been served: with 1,000 subscribers of one change, the
 *   first client waited for the thousandth's execution.)
 */
class BatchingWebSocket extends WebSocket {
  private writtenThisTurn = false;
  private corked = false;
  /** `next` messages whose payload was serialized once for every subscriber of the same result. */
  readonly nextMessages = new SharedNextMessages();

  override send(message: unknown, options?: unknown, callback?: (error?: Error) => void): void {
    const data = this.nextMessages.fill(message);
    const done = typeof options === 'function' ? (options as (error?: Error) => void) : callback;
    const opts = (typeof options === 'function' ? {} : (options ?? {})) as object;
    this.batchWithinTurn();
    if (!done || this.bufferedAmount >= HIGH_WATER_BYTES) {
      super.send(data as Buffer, opts, done);
      return;
    }
    super.send(data as Buffer, opts);
    done();
  }

  /**
   * Sends a `next` message of the subscription whose messages start with `prefix`, with `result`'s
   * payload serialized once for every subscriber of that result. As `send` acknowledges: a promise
   * of the write when this socket already holds more than the high-water mark.
   */
  sendResult(prefix: string, result: object): undefined | false | Promise<void> {
    if (this.readyState !== WebSocket.OPEN) return false;
    const data = `${prefix}${serializedResult(result)}}`;
    this.batchWithinTurn();
    if (this.bufferedAmount < HIGH_WATER_BYTES) {
      super.send(data);
      return undefined;
    }
    return new Promise((resolve) => super.send(data, () => resolve()));
  }

  // A client's protocol mistake (a message over maxPayload, invalid UTF-8: ws's WS_ERR_* codes) is
  // answered by ws itself, closing with its code (1009, 1007); graphql-ws would also log it as an
  // internal error with a stack, once per message a client chooses to send.
  //
  // A message is handed on as its text, which is all graphql-ws reads of it (String(data)): its
  // handler of a `subscribe` stays suspended for as long as the subscription lasts, and would keep
  // ws's Buffer of the message besides the text (about 400 bytes per idle subscription).
  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'message') return super.emit(event, String(args[0]), ...args.slice(1));
    const code = (args[0] as { code?: unknown } | undefined)?.code;
    if (event === 'error' && typeof code === 'string' && code.startsWith('WS_ERR_')) return false;
    return super.emit(event, ...args);
  }

  private batchWithinTurn(): void {
    if (!this.writtenThisTurn) {
      this.writtenThisTurn = true;
      endOfTurn(this);
      return;
    }
    const socket = (this as unknown as { _socket?: import('node:net').Socket })._socket;
    if (this.corked || !socket || socket.destroyed) return;
    this.corked = true;
    socket.cork();
  }

  /** Called once the event-loop turn in which this socket was written to has ended. */
  turnEnded(): void {
    this.writtenThisTurn = false;
    if (!this.corked) return;
    this.corked = false;
    (this as unknown as { _socket: import('node:net').Socket })._socket.uncork();
  }
}

// One setImmediate for every socket written to in a turn, not one per socket.
let writtenThisTurn: BatchingWebSocket[] = [];

function endOfTurn(socket: BatchingWebSocket): void {
  if (writtenThisTurn.length === 0) setImmediate(endTurn);
  writtenThisTurn.push(socket);
}

function endTurn(): void {
  const sockets = writtenThisTurn;
  writtenThisTurn = [];
  for (const socket of sockets) socket.turnEnded();
}

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
