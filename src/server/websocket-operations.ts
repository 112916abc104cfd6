import {
  type ExecutionArgs,
  type ExecutionResult,
  GraphQLError,
  getOperationAST,
  type OperationDefinitionNode,
} from 'graphql';
import { areGraphQLErrors, MessageType, type SubscribePayload } from 'graphql-ws';
import { createGraphQLError } from 'graphql-yoga';
import type { WebSocket } from 'ws';
import { type Connection, type ProtocolSocket, send } from './graphql-transport-ws.ts';
import { nextMessagePrefix, type SubscriptionSink } from './shared-message.ts';
import { type capWebSocketSubscriptions, STARTING_SUBSCRIPTION } from './subscription-cap.ts';
import type { YogaServer } from './yoga.ts';

type MaskResult = (result: ExecutionResult) => ExecutionResult;

/**
 * The operations of graphql-transport-ws connections (src/server/graphql-transport-ws.ts).
 *
 * graphql-ws's server served a subscription with an async call that stayed suspended for as long
 * as the subscription lasted, pulling results through Yoga's per-subscription chain of async
 * iterators; per idle subscriber that was several KB of library state (test/bench/notes.md,
 * "5,000 idle subscribers"). Here every operation still goes through Yoga's envelop (parse,
 * validate, context, the operation limits, authorization scope, masking), and a subscription of
 * the shared execution (src/server/shared-execution.ts) is then pushed to a SocketSubscription,
 * the one object kept per subscriber besides its reader: it is the operation's entry in
 * `connection.subscriptions`, whose return() a `complete` or the socket's close calls. Anything
 * else (queries, mutations, subscriptions Yoga's own executor serves) is answered as graphql-ws
 * answered it: results as `next`, then `complete`; refusals as `error`.
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

  /** Serves operation `id` of `connection`, whose entry in `connection.subscriptions` is already null. */
  async serve(connection: Connection, id: string, params: SubscribePayload): Promise<void> {
    const { socket } = connection;
    let subscriber: SocketSubscription | undefined;
    try {
      if (this.closing) {
        const error = createGraphQLError('the server is shutting down; retry on another connection', {
          extensions: { code: 'SERVICE_UNAVAILABLE' },
        });
        return sendErrors(socket, connection, id, [error]);
      }
      // What graphql-ws's recipe for Yoga passed, but the operation (`params`): the connection as
      // `extra` (src/auth/security.ts reads the socket there), the connection_init payload, the
      // socket. Nothing reads `params` of the context, and a subscription keeps its context for
      // as long as it lasts: with it, the whole message (the query text) would be kept too.
      const { schema, execute, subscribe, contextFactory, parse, validate } = this.yoga.getEnveloped({
        extra: connection,
        connectionParams: connection.connectionParams,
        socket,
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
      const capped = this.capSubscriptions(connection.subscriptions, id, document, params.operationName);
      if (capped) return sendErrors(socket, connection, id, capped);
      const operation: OperationDefinitionNode | null | undefined = getOperationAST(
        document,
        params.operationName,
      );
      if (!operation) {
        return sendErrors(socket, connection, id, [new GraphQLError('Unable to identify operation')]);
      }
      const subscription = operation.operation === 'subscription';
      if (subscription) {
        if (!connection.subscriptions.has(id)) return;
        subscriber = new SocketSubscription(socket, id, this.maskResult);
        connection.subscriptions.set(id, subscriber);
      }
      // One object literal, not a spread of another: a subscription keeps its arguments for as long
      // as it lasts, and the spread gave each one a hidden class of its own (about 250 bytes).
      const args: ExecutionArgs = {
        schema,
        operationName: params.operationName,
        document,
        variableValues: params.variables,
        contextValue,
        rootValue: subscriber && { subscriber },
      };
      if (!subscriber) return await deliver(socket, connection, id, await this.track(socket, execute(args)));
      const result = await subscribe(args);
      if (subscriber.adopted) return;
      return await deliver(socket, connection, id, result);
    } finally {
      if (!subscriber?.adopted) {
        const entry = connection.subscriptions.get(id);
        if (entry === null || entry === STARTING_SUBSCRIPTION || entry === subscriber) {
          connection.subscriptions.delete(id);
        }
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
 * It is its id's entry in `connection.subscriptions`, so that a `complete` or the socket's close
 * stops it (return()), a duplicate id is refused with 4409, and the subscription cap sees it open.
 */
class SocketSubscription implements SubscriptionSink {
  adopted = false;
  private events: { return(): Promise<unknown> } | undefined;
  private stopped = false;
  /** Made at the first message, not at the start: an idle subscriber holds no copy of it. */
  private prefix: string | undefined;

  constructor(
    private readonly socket: ProtocolSocket,
    private readonly id: string,
    private readonly mask: MaskResult,
  ) {}

  adopt(events: { return(): Promise<unknown> }): void {
    this.adopted = true;
    if (this.stopped || !this.current()) void events.return();
    else this.events = events;
  }

  next(result: ExecutionResult): undefined | Promise<void> {
    if (!this.current()) return undefined;
    const masked = result.errors === undefined ? result : this.mask(result);
    this.prefix ??= nextMessagePrefix(this.id);
    return this.socket.sendResult(this.prefix, masked) || undefined;
  }

  hold(): void {
    this.socket.holdWrites();
  }

  release(): void {
    this.socket.releaseWrites();
  }

  end(error?: GraphQLError): void {
    if (!this.current()) return;
    if (error) this.next({ errors: [error] });
    this.socket.connection?.subscriptions.delete(this.id);
    send(this.socket, { id: this.id, type: MessageType.Complete });
  }

  /** The client's `complete` of this id, or the socket's close. */
  return(): Promise<IteratorResult<never, undefined>> {
    this.stopped = true;
    const events = this.events;
    this.events = undefined;
    return Promise.resolve(events?.return()).then(() => ({ done: true, value: undefined }));
  }

  /** Whether the connection still holds this subscription: not completed by the client, not closed. */
  private current(): boolean {
    return !this.stopped && this.socket.connection?.subscriptions.get(this.id) === this;
  }
}

/** As graphql-ws delivers an operation's result: each result as `next` (a stream's, until it ends), then `complete`. */
async function deliver(
  socket: ProtocolSocket,
  connection: Connection,
  id: string,
  result: unknown,
): Promise<void> {
  const prefix = nextMessagePrefix(id);
  if (isAsyncIterable(result)) {
    const iterator = result[Symbol.asyncIterator]();
    if (!connection.subscriptions.has(id)) {
      await iterator.return?.();
      return;
    }
    // A `complete` and the socket's close end it through its return().
    connection.subscriptions.set(id, iterator);
    try {
      for (;;) {
        const { done, value } = await iterator.next();
        if (done) break;
        if (connection.subscriptions.has(id)) void socket.sendResult(prefix, value as ExecutionResult);
      }
    } catch (error) {
      const original = error instanceof Error ? error : new Error(String(error));
      sendErrors(socket, connection, id, [new GraphQLError(original.message, { originalError: original })]);
      connection.subscriptions.delete(id);
    }
  } else if (connection.subscriptions.has(id)) {
    void socket.sendResult(prefix, result as ExecutionResult);
  }
  if (connection.subscriptions.has(id)) send(socket, { id, type: MessageType.Complete });
}

/** An `error` message, while the operation is still wanted; errors that are not GraphQL's are an internal error (4500), as with graphql-ws. */
function sendErrors(socket: WebSocket, connection: Connection, id: string, errors: readonly unknown[]): void {
  if (!areGraphQLErrors(errors)) {
    throw new Error('Invalid return value from onSubscribe hook, expected an array of GraphQLError objects');
  }
  if (!connection.subscriptions.has(id)) return;
  send(socket, { id, type: MessageType.Error, payload: errors.map((error) => error.toJSON()) });
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
