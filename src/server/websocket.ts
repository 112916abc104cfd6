import type { Server } from 'node:http';
import { CloseCode, handleProtocols } from 'graphql-ws';
import { WebSocket, WebSocketServer } from 'ws';
import type { WebSocketAuth } from '../auth/websocket.ts';
import { BatchingWebSocket } from './batching-websocket.ts';
import { MAX_BODY_BYTES } from './body-limit.ts';
import { type Connection, GraphQLTransportWs, type ProtocolSocket } from './graphql-transport-ws.ts';
import { capWebSocketSubscriptions, DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION } from './subscription-cap.ts';
import { WebSocketOperations } from './websocket-operations.ts';
import type { YogaServer } from './yoga.ts';

/** RFC 6455 "going away": the server is shutting down. graphql-ws's CloseCode has no name for it. */
export const GOING_AWAY = 1001;

/** How often each socket is pinged; one that has not answered the last ping by then is cut off. */
const KEEP_ALIVE_MS = 12_000;

/**
 * A socket of the graphql-transport-ws protocol (src/server/graphql-transport-ws.ts). Its events
 * are handed to the protocol here rather than through listeners: a connection holds no closure of
 * its own.
 */
class ProtocolWebSocket extends BatchingWebSocket implements ProtocolSocket {
  connection: Connection | undefined;
  protocolServer: GraphQLTransportWs | undefined;
  /** Pinged by the keep-alive sweep, and no pong yet. */
  awaitingPong = false;

  // A client's protocol mistake (a message over maxPayload, invalid UTF-8: ws's WS_ERR_* codes) is
  // answered by ws itself, closing with its code (1009, 1007). Any other error of the socket is
  // logged and closes it with 4500, as graphql-ws's server did.
  override emit(event: string | symbol, ...args: unknown[]): boolean {
    const protocol = this.protocolServer;
    switch (event) {
      case 'message':
        protocol?.message(this, String(args[0]));
        return true;
      case 'pong':
        this.awaitingPong = false;
        break;
      case 'close':
        protocol?.closed(this);
        break;
      case 'error': {
        const code = (args[0] as { code?: unknown } | undefined)?.code;
        if (typeof code === 'string' && code.startsWith('WS_ERR_')) return false;
        if (this.listenerCount('error') > 0) break;
        console.error(
          'Internal error emitted on a WebSocket socket. Please check your implementation.',
          args[0],
        );
        this.close(CloseCode.InternalServerError, 'Internal server error');
        return true;
      }
    }
    return super.emit(event, ...args);
  }
}

/**
 * graphql-transport-ws (graphql-ws's protocol) on the same port and path as HTTP GraphQL. Every
 * operation goes through Yoga's envelop, so masking, limits and auth apply over WebSocket exactly
 * as over HTTP.
 */
export function attachGraphQLWebSocket(
  server: Server,
  yoga: YogaServer,
  {
    auth,
    maxSubscriptionsPerConnection = DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION,
  }: { auth?: WebSocketAuth | undefined; maxSubscriptionsPerConnection?: number | undefined } = {},
) {
  const wss = new WebSocketServer({
    server,
    path: yoga.graphqlEndpoint,
    WebSocket: ProtocolWebSocket,
    verifyClient: auth?.verifyClient,
    handleProtocols,
    // A message over the HTTP body limit closes its socket with 1009 (CloseCode "message too big").
    maxPayload: MAX_BODY_BYTES,
  });
  const operations = new WebSocketOperations(yoga, capWebSocketSubscriptions(maxSubscriptionsPerConnection));
  const protocol = new GraphQLTransportWs(operations, auth?.onConnect);
  wss.on('connection', (socket: ProtocolWebSocket) => {
    socket.protocolServer = protocol;
    protocol.opened(socket);
  });
  // As graphql-ws's server: an error of the server (after listening) is logged, and ends every connection.
  wss.on('error', (error) => {
    console.error('Internal error emitted on the WebSocket server. Please check your implementation.', error);
    for (const client of wss.clients) client.close(CloseCode.InternalServerError, 'Internal server error');
  });
  // One sweep for every socket, not a timer per socket: a socket that did not answer the previous
  // ping with a pong is cut off.
  const keepAlive = setInterval(() => {
    for (const client of wss.clients as Set<ProtocolWebSocket>) {
      if (client.readyState !== WebSocket.OPEN) continue;
      if (client.awaitingPong) {
        client.terminate();
        continue;
      }
      client.awaitingPong = true;
      client.ping();
    }
  }, KEEP_ALIVE_MS);
  keepAlive.unref();
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
      clearInterval(keepAlive);
      for (const client of wss.clients) client.close(GOING_AWAY, 'Going away');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
