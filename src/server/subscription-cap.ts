import { type DocumentNode, GraphQLError, getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** Default for MAX_SUBSCRIPTIONS_PER_CONNECTION. */
export const DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION = 100;

/**
 * One connection must not be able to hold an unbounded share of the feed: past `max` open
 * subscriptions, the next one is refused with TOO_MANY_SUBSCRIPTIONS, and the connection and its
 * other subscriptions go on. Queries and mutations are not counted. A subscription that ends
 * (completed by either side, or failed) frees its slot.
 */
export function tooManySubscriptions(max: number): GraphQLError {
  return new GraphQLError(
    `Too many subscriptions: at most ${max} per connection; complete one before starting another.`,
    { extensions: { code: 'TOO_MANY_SUBSCRIPTIONS', limit: max } },
  );
}

const isSubscription = (document: DocumentNode, operationName?: string | null) =>
  getOperationAST(document, operationName)?.operation === 'subscription';

/** The entry of a subscription admitted by the cap, until its subscriber takes its place. */
export const STARTING_SUBSCRIPTION = Symbol('starting subscription');

/**
 * For graphql-transport-ws: call once the operation is valid, with the connection's running
 * operations by id (src/server/graphql-transport-ws.ts), in which a query or mutation is null and
 * a subscription anything else, until it ends: the slots count themselves free. An admitted
 * subscription's entry becomes STARTING_SUBSCRIPTION, so that it counts while it starts.
 */
export function capWebSocketSubscriptions(max: number) {
  return (
    operations: Map<string, unknown>,
    id: string,
    document: DocumentNode,
    operationName?: string | null,
  ): GraphQLError[] | undefined => {
    if (!isSubscription(document, operationName)) return undefined;
    let open = 0;
    for (const operation of operations.values()) if (operation !== null) open++;
    if (open >= max) return [tooManySubscriptions(max)];
    if (operations.has(id)) operations.set(id, STARTING_SUBSCRIPTION);
    return undefined;
  };
}

/**
 * For SSE: in single connection mode, many operations share one event stream, named by the token
 * each of their requests carries. Distinct connection mode has one operation per connection: no
 * cap. graphql-sse's own hooks do not see the results Yoga produces, so this is an envelop plugin;
 * the subscription exists by then, and a refused one is ended at once.
 */
export function useSSESubscriptionCap(max: number): Plugin<{ request?: Request }> {
  const open = new Map<string, number>();
  return {
    onSubscribe({ args }) {
      // Over WebSocket there is no fetch Request in the context: that cap is the one above.
      const request = args.contextValue.request;
      if (typeof request?.headers?.get !== 'function') return undefined;
      const token = request.headers.get('x-graphql-event-stream-token') ?? tokenParameter(request.url);
      if (!token) return undefined;
      return {
        onSubscribeResult({ result, setResult }) {
          if (!isAsyncIterator(result)) return;
          const count = open.get(token) ?? 0;
          if (count >= max) {
            void result.return?.();
            // `data: null`: graphql-sse takes a result for one only when it has a `data` key.
            return setResult({ data: null, errors: [tooManySubscriptions(max)] });
          }
          open.set(token, count + 1);
          setResult(
            releasingOnEnd(result, () => {
              const left = (open.get(token) ?? 1) - 1;
              if (left > 0) open.set(token, left);
              else open.delete(token);
            }),
          );
        },
      };
    },
  };
}

function tokenParameter(url: string): string | null {
  return new URL(url, 'http://localhost').searchParams.get('token');
}

function isAsyncIterator(value: unknown): value is AsyncIterableIterator<unknown> {
  return typeof (value as AsyncIterable<unknown> | null)?.[Symbol.asyncIterator] === 'function';
}

/** The same iterator, calling `release` once when it ends, however it ends. */
function releasingOnEnd<T>(source: AsyncIterableIterator<T>, release: () => void): AsyncGenerator<T> {
  let released = false;
  const done = <R>(result: R): R => {
    if (!released && (result as IteratorResult<T> | undefined)?.done !== false) {
      released = true;
      release();
    }
    return result;
  };
  const fail = (error: unknown): never => {
    done(undefined);
    throw error;
  };
  const iterator: AsyncGenerator<T> = {
    next: (...args) => source.next(...args).then(done, fail),
    return: async (value) =>
      done(source.return ? await source.return(value).catch(fail) : { done: true, value }),
    throw: async (error) => (source.throw ? source.throw(error).then(done, fail) : fail(error)),
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}
