import { CloseCode, GRAPHQL_TRANSPORT_WS_PROTOCOL, MessageType, validateMessage } from 'graphql-ws';
import type { WebSocket } from 'ws';
import type { WebSocketOperations } from './websocket-operations.ts';

/** How long a connection may go without connection_init (graphql-ws's default). */
const CONNECTION_INIT_WAIT_MS = 3_000;

/** graphql-ws's onConnect: false refuses the connection (4403). */
export type OnConnect = (
  connectionParams: Record<string, unknown> | undefined,
  socket: WebSocket,
) => boolean | Promise<boolean>;

/** One connection's state in the protocol: what graphql-ws kept as its `ctx`. */
export interface Connection {
  readonly socket: ProtocolSocket;
  connectionInitReceived: boolean;
  acknowledged: boolean;
  connectionParams: Readonly<Record<string, unknown>> | undefined;
  /** The running operations by id: null while one starts, else what `complete` and a close end. */
  subscriptions: Map<string, unknown>;
  /** Until connection_init: closes the socket with 4408 (Connection initialisation timeout). */
  initWait: NodeJS.Timeout | undefined;
}

/** What the protocol needs of a socket (src/server/websocket.ts ProtocolWebSocket). */
export interface ProtocolSocket extends WebSocket {
  connection: Connection | undefined;
  /** Sends a `next` message of the subscription whose messages start with `prefix`; see src/server/batching-websocket.ts. */
  sendResult(prefix: string, result: object): undefined | false | Promise<void>;
  /** Around a page of results: they leave in one write at the release. */
  holdWrites(): void;
  releaseWrites(): void;
}

/**
 * The graphql-transport-ws protocol (graphql-ws's PROTOCOL.md), served for each socket without
 * a closure, timer or suspended call of its own while the connection is idle: graphql-ws's server
 * kept about ten closures, two timers and its context per connection, and one suspended handler
 * per subscription. The same messages and close codes as graphql-ws's server:
 * - connection_init within 3 s (else 4408), once (else 4429); `onConnect` false: 4403; then
 *   connection_ack.
 * - ping: pong (with the ping's payload); pong: nothing.
 * - subscribe: before the acknowledgement 4401; an id already running 4409; else served by
 *   `operations` (src/server/websocket-operations.ts).
 * - complete: ends that operation, if it still runs.
 * - anything that is not a valid message: 4400. A failure while handling one: 4500.
 * - another subprotocol than graphql-transport-ws: 4406.
 */
export class GraphQLTransportWs {
  constructor(
    private readonly operations: WebSocketOperations,
    private readonly onConnect: OnConnect | undefined,
  ) {}

  opened(socket: ProtocolSocket): void {
    if (socket.protocol !== GRAPHQL_TRANSPORT_WS_PROTOCOL) {
      socket.close(CloseCode.SubprotocolNotAcceptable, 'Subprotocol not acceptable');
      return;
    }
    const connection: Connection = {
      socket,
      connectionInitReceived: false,
      acknowledged: false,
      connectionParams: undefined,
      subscriptions: new Map(),
      initWait: undefined,
    };
    connection.initWait = setTimeout(() => initTimeout(connection), CONNECTION_INIT_WAIT_MS);
    socket.connection = connection;
  }

  message(socket: ProtocolSocket, text: string): void {
    const connection = socket.connection;
    if (!connection) return;
    let message: ReturnType<typeof validateMessage>;
    try {
      message = validateMessage(JSON.parse(text));
    } catch {
      socket.close(CloseCode.BadRequest, 'Invalid message received');
      return;
    }
    switch (message.type) {
      case MessageType.ConnectionInit:
        this.init(connection, message.payload).catch((error: unknown) => internalError(socket, error));
        return;
      case MessageType.Ping:
        send(socket, message.payload ? { type: MessageType.Pong, payload: message.payload } : PONG);
        return;
      case MessageType.Pong:
        return;
      case MessageType.Subscribe: {
        if (!connection.acknowledged) {
          socket.close(CloseCode.Unauthorized, 'Unauthorized');
          return;
        }
        const { id, payload } = message;
        if (connection.subscriptions.has(id)) {
          socket.close(CloseCode.SubscriberAlreadyExists, `Subscriber for ${id} already exists`);
          return;
        }
        connection.subscriptions.set(id, null);
        this.operations
          .serve(connection, id, payload)
          .catch((error: unknown) => internalError(socket, error));
        return;
      }
      case MessageType.Complete: {
        const operation = connection.subscriptions.get(message.id);
        connection.subscriptions.delete(message.id);
        end(operation);
        return;
      }
      default:
        // A message of the server's (connection_ack, next, error) from a client.
        internalError(socket, new Error(`Unexpected message of type ${message.type} received`));
    }
  }

  /** The socket has closed: every operation on it ends. */
  closed(socket: ProtocolSocket): void {
    const connection = socket.connection;
    if (!connection) return;
    clearTimeout(connection.initWait);
    connection.initWait = undefined;
    const operations = connection.subscriptions;
    connection.subscriptions = new Map();
    for (const operation of operations.values()) end(operation);
  }

  private async init(connection: Connection, payload: unknown): Promise<void> {
    const { socket } = connection;
    if (connection.connectionInitReceived) {
      socket.close(CloseCode.TooManyInitialisationRequests, 'Too many initialisation requests');
      return;
    }
    connection.connectionInitReceived = true;
    clearTimeout(connection.initWait);
    connection.initWait = undefined;
    if (isObject(payload)) connection.connectionParams = payload;
    const permitted = this.onConnect ? await this.onConnect(connection.connectionParams, socket) : true;
    if (!permitted) {
      socket.close(CloseCode.Forbidden, 'Forbidden');
      return;
    }
    connection.acknowledged = true;
    send(socket, ACK);
  }
}

const ACK = { type: MessageType.ConnectionAck };
const PONG = { type: MessageType.Pong };

function initTimeout(connection: Connection): void {
  connection.initWait = undefined;
  if (!connection.connectionInitReceived) {
    connection.socket.close(CloseCode.ConnectionInitialisationTimeout, 'Connection initialisation timeout');
  }
}

/** Ends an operation taken off its connection: a running subscription's return() stops it. */
function end(operation: unknown): void {
  const running = operation as { return?: () => Promise<unknown> } | null | undefined;
  if (typeof running?.return === 'function') running.return().catch(() => {});
}

export function send(socket: WebSocket, message: object): void {
  if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
}

/** As graphql-ws's server answers a failure while handling a message: logged, and 4500. */
export function internalError(socket: WebSocket, error: unknown): void {
  console.error('Internal error occurred during message handling. Please check your implementation.', error);
  const reason = error instanceof Error ? error.message : String(error);
  socket.close(
    CloseCode.InternalServerError,
    process.env.NODE_ENV === 'production' || reason.length >= 124 ? 'Internal server error' : reason,
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
