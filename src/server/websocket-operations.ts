import {
  type ExecutionArgs,
  type ExecutionResult,
  GraphQLError,
  getOperationAST,
  type OperationDefinitionNode,
} from 'graphql';
import { areGraphQLErrors, CloseCode, MessageType, type SubscribePayload, validateMessage } from 'graphql-ws';
import { createGraphQLError } from 'graphql-yoga';
import { WebSocket } from 'ws';
import { nextMessagePrefix, type SubscriptionSink, serializedResult } from './shared-message.ts';
import type { capWebSocketSubscriptions } from './subscription-cap.ts';
import type { YogaServer } from './yoga.ts';

/** graphql-ws's context of one connection (its `ctx`), as far as operations read it. */
export interface Connection {
  connectionInitReceived: boolean;
  acknowledged: boolean;
  /** The running operations by id: null while one starts, else what `complete` and a close end. */
  subscriptions: Record<string, unknown>;
  connectionParams?: Readonly<Record<string, unknown>>;
  extra: { socket: WebSocket; request: unknown };
}

/** What a socket must offer the operations on it (src/server/websocket.ts BatchingWebSocket). */
export interface OperationSocket extends WebSocket {
  /** graphql-ws's context, once the connection is acknowledged. */
  connection: Connection | undefined;
  /** The operations served on this socket. */
  operations: WebSocketOperations | undefined;
  /** Sends a `next` message of the subscription whose messages start with `prefix`; see BatchingWebSocket. */
  sendResult(prefix: string, result: object): undefined | false | Promise<void>;
}

type MaskResult = (result: ExecutionResult) => ExecutionResult;

/**
 * The `subscribe` messages of graphql-transport-ws, served here rather than by graphql-ws, which
 * keeps the rest of the protocol: connection_init and its acknowledgement (onConnect), ping and
 * pong, `complete`, and every close code (an unacknowledged `subscribe` 4401, a malformed one
 * 4400, a duplicate id 4409: such messages are left to it).
 *
 * graphql-ws serves a subscription with an async call that stays suspended for as long as the
 * subscription lasts, pulling results through Yoga's per-subscription chain of async iterators;
 * per idle subscriber that was several KB of library state (test/bench/notes.md, "5,000 idle
 * subscribers"). Here every operation still goes through Yoga's envelop (parse, validate, context,
 * the operation limits, authorization scope, masking), and a subscription of the shared execution
 * (src/server/shared-execution.ts) is then pushed to a SocketSubscription, the one object kept per
 * subscriber besides its reader: it is the connection's `ctx.subscriptions` entry, whose return()
 * graphql-ws calls on `complete` and on close. Anything else (queries, mutations, subscriptions
 * Yoga's own executor serves) is answered as graphql-ws answers it: results as `next`, then
 * `complete`; refusals as `error`.
 */
export class WebSocketOperations {
  /** Once shutting down, new operations are refused with SERVICE_UNAVAILABLE. */
  closing = false;
  /** Queries and mutations being executed, per socket: a shutdown answers them first. */
  readonly executing = new WeakMap<WebSocket, Set<Promise<unknown>>>();
  readonly maskResult: MaskResult;

  constructor(
    private readonly yoga: YogaServer,
    private readonly capSubscriptions: ReturnType<typeof capWebSocketSubscriptions>,
  ) {
    this.maskResult = resultMasking(yoga);
  }

  /**
   * Takes message `text` if it is a well-formed `subscribe` of an acknowledged connection with a
   * new id, and serves it; false leaves the message to graphql-ws.
   */
  take(socket: OperationSocket, text: string): boolean {
    const connection = socket.connection;
    if (!connection?.acknowledged) return false;
    let message: ReturnType<typeof validateMessage>;
    try {
      message = validateMessage(JSON.parse(text));
    } catch {
      return false;
    }
    if (message.type !== MessageType.Subscribe || message.id in connection.subscriptions) return false;
    const { id, payload } = message;
    connection.subscriptions[id] = null;
    this.serve(socket, connection, id, payload).catch((error: unknown) => internalError(socket, error));
    return true;
  }

  private async serve(
    socket: OperationSocket,
    connection: Connection,
    id: string,
    params: SubscribePayload,
  ): Promise<void> {
    let subscriber: SocketSubscription | undefined;
    try {
      if (this.closing) {
        const error = createGraphQLError('the server is shutting down; retry on another connection', {
          extensions: { code: 'SERVICE_UNAVAILABLE' },
        });
        return sendErrors(socket, connection, id, [error]);
      }
      // graphql-ws's context, field by field: a spread of it gave every subscription's context
      // object a hidden class of its own (about 400 bytes each, kept as long as it lasts).
      const { schema, execute, subscribe, contextFactory, parse, validate } = this.yoga.getEnveloped({
        connectionInitReceived: connection.connectionInitReceived,
        acknowledged: connection.acknowledged,
        subscriptions: connection.subscriptions,
        extra: connection.extra,
        connectionParams: connection.connectionParams,
        req: connection.extra.request,
        socket,
        params,
      });
      let document: ReturnType<typeof parse>;
      try {
        document = parse(params.query);
      } catch (error) {
        return sendErrors(socket, connection, id, [error]);
      }
      const contextValue = await contextFactory();
      const invalid = validate(schema, document);
      if (invalid.length) return sendErrors(socket, connection, id, invalid);
      const capped = this.capSubscriptions(connection, id, document, params.operationName);
      if (capped) return sendErrors(socket, connection, id, capped);
      const operation: OperationDefinitionNode | null | undefined = getOperationAST(
        document,
        params.operationName,
      );
      if (!operation) {
        return sendErrors(socket, connection, id, [new GraphQLError('Unable to identify operation')]);
      }
      const args: ExecutionArgs = {
        schema,
        operationName: params.operationName,
        document,
        variableValues: params.variables,
        contextValue,
      };
      if (operation.operation !== 'subscription') {
        return await deliver(socket, connection, id, await this.track(socket, execute(args)));
      }
      if (!(id in connection.subscriptions)) return;
      subscriber = new SocketSubscription(socket, id);
      connection.subscriptions[id] = subscriber;
      const result = await subscribe({ ...args, rootValue: { subscriber } });
      if (subscriber.adopted) return;
      return await deliver(socket, connection, id, result);
    } finally {
      if (!subscriber?.adopted) {
        const entry = connection.subscriptions[id];
        if (entry === null || entry === subscriber) delete connection.subscriptions[id];
      }
    }
  }

  private track(socket: WebSocket, execution: unknown): Promise<unknown> {
    const result = Promise.resolve(execution);
    const pending = this.executing.get(socket) ?? new Set();
    this.executing.set(socket, pending);
    const settled: Promise<unknown> = result.then(
      () => pending.delete(settled),
      () => pending.delete(settled),
    );
    pending.add(settled);
    return result;
  }
}

/**
 * One subscription pushed by the shared execution to its socket: its `next` messages, masked as
 * Yoga masks results, and its end. A class: one per idle subscriber, with nothing else of it kept.
 * It is its id's entry in graphql-ws's `ctx.subscriptions` (an async iterable with return(), for
 * graphql-ws's check), so that a `complete` or the socket's close stops it, a duplicate id is
 * refused with 4409, and the subscription cap sees it open.
 */
class SocketSubscription implements SubscriptionSink {
  adopted = false;
  private events: { return(): Promise<unknown> } | undefined;
  private stopped = false;

  constructor(
    private readonly socket: OperationSocket,
    private readonly id: string,
  ) {}

  adopt(events: { return(): Promise<unknown> }): void {
    this.adopted = true;
    if (this.stopped || !this.current()) void events.return();
    else this.events = events;
  }

  next(result: ExecutionResult): undefined | Promise<void> {
    if (!this.current()) return undefined;
    const mask = this.socket.operations?.maskResult;
    const masked = result.errors === undefined || !mask ? result : mask(result);
    return this.socket.sendResult(nextMessagePrefix(this.id), masked) || undefined;
  }

  end(error?: GraphQLError): void {
    if (!this.current()) return;
    if (error) this.next({ errors: [error] });
    delete this.socket.connection?.subscriptions[this.id];
    send(this.socket, { id: this.id, type: MessageType.Complete });
  }

  /** graphql-ws's `complete` of this id, or the socket's close. */
  return(): Promise<IteratorResult<never, undefined>> {
    this.stopped = true;
    const events = this.events;
    this.events = undefined;
    return Promise.resolve(events?.return()).then(() => ({ done: true, value: undefined }));
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Whether graphql-ws still holds this subscription: not completed by the client, not closed. */
  private current(): boolean {
    return !this.stopped && this.socket.connection?.subscriptions[this.id] === this;
  }
}

/** As graphql-ws delivers an operation's result: each result as `next` (a stream's, until it ends), then `complete`. */
async function deliver(
  socket: WebSocket,
  connection: Connection,
  id: string,
  result: unknown,
): Promise<void> {
  if (isAsyncIterable(result)) {
    const iterator = result[Symbol.asyncIterator]();
    if (!(id in connection.subscriptions)) {
      await iterator.return?.();
      return;
    }
    // graphql-ws's `complete` and close end it through its return().
    connection.subscriptions[id] = iterator;
    try {
      for (;;) {
        const { done, value } = await iterator.next();
        if (done) break;
        if (id in connection.subscriptions) sendNext(socket, id, value as ExecutionResult);
      }
    } catch (error) {
      const original = error instanceof Error ? error : new Error(String(error));
      sendErrors(socket, connection, id, [new GraphQLError(original.message, { originalError: original })]);
      delete connection.subscriptions[id];
    }
  } else if (id in connection.subscriptions) {
    sendNext(socket, id, result as ExecutionResult);
  }
  if (id in connection.subscriptions) send(socket, { id, type: MessageType.Complete });
}

function sendNext(socket: WebSocket, id: string, result: ExecutionResult): void {
  if (socket.readyState === WebSocket.OPEN)
    socket.send(`${nextMessagePrefix(id)}${serializedResult(result)}}`);
}

/** An `error` message, while the operation is still wanted; errors that are not GraphQL's are an internal error (4500), as with graphql-ws. */
function sendErrors(socket: WebSocket, connection: Connection, id: string, errors: readonly unknown[]): void {
  if (!areGraphQLErrors(errors)) {
    throw new Error('Invalid return value from onSubscribe hook, expected an array of GraphQLError objects');
  }
  if (!(id in connection.subscriptions)) return;
  send(socket, { id, type: MessageType.Error, payload: errors.map((error) => error.toJSON()) });
}

function send(socket: WebSocket, message: object): void {
  if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}

/** As graphql-ws's useServer answers a failure while handling a message. */
function internalError(socket: WebSocket, error: unknown): void {
  console.error('Internal error occurred during message handling. Please check your implementation.', error);
  const reason = error instanceof Error ? error.message : String(error);
  socket.close(
    CloseCode.InternalServerError,
    process.env.NODE_ENV === 'production' || reason.length >= 124 ? 'Internal server error' : reason,
  );
}

/**
 * Yoga's masking of a result, as its masked-errors plugin applies it to the results it sees (the
 * pushed ones pass no plugin): each error through Yoga's own maskError, which logs what it masks.
 */
function resultMasking(yoga: YogaServer): MaskResult {
  const options = (
    yoga as unknown as {
      maskedErrorsOpts: {
        maskError: (error: unknown, message: string) => GraphQLError;
        errorMessage: string;
      } | null;
    }
  ).maskedErrorsOpts;
  if (!options) return (result) => result;
  return (result) =>
    result.errors == null
      ? result
      : { ...result, errors: result.errors.map((error) => options.maskError(error, options.errorMessage)) };
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof (value as AsyncIterable<unknown> | null)?.[Symbol.asyncIterator] === 'function';
}
