import { type DocumentNode, GraphQLError, getOperationAST } from 'graphql';

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

/**
 * For graphql-ws: call in onSubscribe once the operation is valid. graphql-ws keeps the ids of a
 * connection's running operations in `ctx.subscriptions` until they end, so the slots count
 * themselves free: an id that is gone from there no longer holds one.
 */
export function capWebSocketSubscriptions(max: number) {
  const held = new WeakMap<object, Set<string>>();
  return (
    ctx: { subscriptions: Record<string, unknown> },
    id: string,
    document: DocumentNode,
    operationName?: string | null,
  ): GraphQLError[] | undefined => {
    if (!isSubscription(document, operationName)) return undefined;
    const ids = held.get(ctx) ?? new Set<string>();
    held.set(ctx, ids);
    for (const open of ids) if (!(open in ctx.subscriptions)) ids.delete(open);
    if (ids.size >= max) return [tooManySubscriptions(max)];
    ids.add(id);
    return undefined;
  };
}

interface SSERequest {
  url: string;
  headers: { get(name: string): string | null };
}

/**
 * For graphql-sse's `onOperation`: in single connection mode, many operations share one event
 * stream, named by its token. Distinct connection mode has one operation per connection: no cap.
 * The subscription has been created by then; a refused one is ended at once.
 */
export function capSSESubscriptions(max: number) {
  const open = new Map<string, number>();
  return (_ctx: unknown, req: SSERequest, _args: unknown, result: unknown) => {
    const token = req.headers.get('x-graphql-event-stream-token') ?? tokenParameter(req.url);
    if (!token || !isAsyncIterator(result)) return undefined;
    const count = open.get(token) ?? 0;
    if (count >= max) {
      void result.return?.();
      return { errors: [tooManySubscriptions(max)] };
    }
    open.set(token, count + 1);
    return releasingOnEnd(result, () => {
      const left = (open.get(token) ?? 1) - 1;
      if (left > 0) open.set(token, left);
      else open.delete(token);
    });
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
