import type { IncomingMessage, Server } from 'node:http';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocket, WebSocketServer } from 'ws';
import type { WebSocketAuth } from '../auth/websocket.ts';
import { MAX_BODY_BYTES } from './body-limit.ts';
import { serializedResult } from './shared-message.ts';
import { capWebSocketSubscriptions, DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION } from './subscription-cap.ts';
import { type Connection, type OperationSocket, WebSocketOperations } from './websocket-operations.ts';
import type { YogaServer } from './yoga.ts';

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
 * - each message is its own write system call. The socket is corked until the end of the tick,
 *   so the messages of a burst leave together.
 */
class BatchingWebSocket extends WebSocket implements OperationSocket {
  private corked = false;
  connection: Connection | undefined;
  operations: WebSocketOperations | undefined;

  override send(data: unknown, options?: unknown, callback?: (error?: Error) => void): void {
    const done = typeof options === 'function' ? (options as (error?: Error) => void) : callback;
    const opts = (typeof options === 'function' ? {} : (options ?? {})) as object;
    this.corkUntilNextTick();
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
    this.corkUntilNextTick();
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
  // A message is read as its text, which is all graphql-ws reads of it (String(data)); `subscribe`
  // messages are served by this socket's operations (src/server/websocket-operations.ts).
  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'message') {
      const text = String(args[0]);
      if (this.operations?.take(this, text)) return true;
      return super.emit(event, text, ...args.slice(1));
    }
    const code = (args[0] as { code?: unknown } | undefined)?.code;
    if (event === 'error' && typeof code === 'string' && code.startsWith('WS_ERR_')) return false;
    return super.emit(event, ...args);
  }

  private corkUntilNextTick(): void {
    const socket = (this as unknown as { _socket?: import('node:net').Socket })._socket;
    if (this.corked || !socket || socket.destroyed) return;
    this.corked = true;
    socket.cork();
    setImmediate(() => {
      this.corked = false;
      socket.uncork();
    });
  }
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
  const operations = new WebSocketOperations(yoga, capWebSocketSubscriptions(maxSubscriptionsPerConnection));
  wss.on('connection', (socket: BatchingWebSocket) => {
    socket.operations = operations;
  });
  // graphql-ws keeps the connection (connection_init, ping, complete, close codes); `subscribe`
  // messages of an acknowledged connection are served by `operations`.
  const disposable = useServer(
    {
      onConnect: async (ctx) => {
        const socket = ctx.extra.socket as BatchingWebSocket;
        const permitted = auth ? await auth.onConnect(ctx.connectionParams, socket) : true;
        if (permitted) socket.connection = ctx as Connection;
        return permitted;
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
      operations.closing = true;
      const deadline = Date.now() + graceMs;
      const closeOne = async (client: WebSocket) => {
        const pending = operations.executing.get(client);
        if (pending?.size) await Promise.race([Promise.all(pending), sleep(deadline - Date.now())]);
        // A result is sent a few microtasks after execute resolves.
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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
