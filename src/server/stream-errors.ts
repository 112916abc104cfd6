import { GraphQLError } from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';

/**
 * A subscription whose event stream throws ends with that error as its last result instead.
 *
 * Thrown, the error escaped in two ways. Over SSE, graphql-sse's fetch handler lets the stream's
 * `pull` reject, and the ReadableStream of @whatwg-node/node-fetch drops that promise: an
 * unhandled rejection, which ended the process (a client resuming with `after` in the start-up
 * window made the feed throw). Over graphql-ws, the socket was closed with 4500, ending every
 * other subscription on it. As a result, the error is masked like any other (Yoga masks results
 * after this plugin wraps them), and the client sees it and the end of the subscription.
 */
export function useStreamErrorsAsResults(): Plugin {
  return {
    // One hooks object for every subscription: envelop keeps it for as long as the subscription lasts.
    onSubscribe: () => ENDING_WITH_ERROR_HOOKS,
  };
}

const ENDING_WITH_ERROR_HOOKS: OnSubscribeHooks = {
  onSubscribeResult({ result, setResult }) {
    if (isAsyncIterable(result)) setResult(endingWithError(result) as never);
  },
};

type OnSubscribeHooks = Extract<
  ReturnType<NonNullable<Plugin['onSubscribe']>>,
  { onSubscribeResult?: unknown }
>;

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof (value as AsyncIterable<unknown>)?.[Symbol.asyncIterator] === 'function';
}

/** The error that ends a subscription, as its last result's one error. */
export function asStreamError(error: unknown): GraphQLError {
  return error instanceof GraphQLError
    ? error
    : createGraphQLError((error as Error)?.message ?? String(error), { originalError: error as Error });
}

function endingWithError<T>(source: AsyncIterable<T>): AsyncIterableIterator<T | { errors: GraphQLError[] }> {
  return new EndingWithError(source[Symbol.asyncIterator]());
}

// A class, not an object literal: every open subscription holds one, and a literal's methods are
// closures of their own, per subscription.
class EndingWithError<T> implements AsyncIterableIterator<T | { errors: GraphQLError[] }> {
  private failed = false;

  constructor(private readonly iterator: AsyncIterator<T>) {}

  // Not an async function: an idle subscriber holds this call's promise for as long as nothing
  // happens, and a suspended async call weighs twice as much.
  next(): Promise<IteratorResult<T | { errors: GraphQLError[] }>> {
    if (this.failed) return Promise.resolve({ done: true, value: undefined });
    let next: Promise<IteratorResult<T>>;
    try {
      next = this.iterator.next();
    } catch (error) {
      return Promise.resolve(this.ended(error));
    }
    return next.then(undefined, (error: unknown) => this.ended(error));
  }

  private ended(error: unknown): IteratorResult<{ errors: GraphQLError[] }> {
    this.failed = true;
    return { done: false, value: { errors: [asStreamError(error)] } };
  }

  async return(): Promise<IteratorResult<T>> {
    this.failed = true;
    await this.iterator.return?.();
    return { done: true, value: undefined };
  }

  async throw(error?: unknown): Promise<IteratorResult<T>> {
    this.failed = true;
    await this.iterator.return?.();
    throw error;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
