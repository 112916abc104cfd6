import type { ExecutionResult, GraphQLError } from 'graphql';

/**
 * One serialization per result object, for every subscriber that receives it: subscriptions that
 * share an execution (src/server/shared-execution.ts) receive the same result object, whose JSON
 * is written once (keepSerialized), then spliced into each subscriber's `next` message.
 *
 * Over graphql-ws the `next` message is the prefix of its id and this JSON (nextMessagePrefix), the
 * message graphql-ws itself would write: JSON.stringify of a result writes each GraphQLError
 * through its toJSON, as graphql-ws does.
 */
// Kept on the result object itself, so it is collected with the result: a WeakMap entry for every
// result, 100,000 of them for one bulk statement, cost about as much again as the serialization
// (1.5–2 µs per result, most of it in the collector). A symbol, which JSON.stringify skips, and not
// enumerable, so that a copy of the result (`{ ...result, errors }`, as masking makes) does not
// carry the original's serialization.
const SERIALIZED = Symbol('serialized result');
type Memo = object & { [SERIALIZED]?: string };

/** The JSON kept with `result` (keepSerialized), if any: whether its senders share it. */
export function keptSerialization(result: object): string | undefined {
  return (result as Memo)[SERIALIZED];
}

/** The JSON of `result`: the one kept with it (keepSerialized), or written now. */
export function serializedResult(result: object): string {
  return keptSerialization(result) ?? JSON.stringify(result);
}

/**
 * The JSON of `result`, written once and kept with it for whoever sends it next: a result that
 * several subscribers share, or that one sender reads twice. Only those: keeping it costs a
 * property definition per result, 0.8 µs, half as much again as the serialization of a change,
 * which a lone subscriber of 100,000 changes paid for nothing.
 */
export function keepSerialized(result: object): string {
  const memo = result as Memo;
  let json = memo[SERIALIZED];
  if (json === undefined) {
    json = JSON.stringify(result);
    // A frozen result is serialized again by whoever asks: correct, only slower.
    if (Object.isExtensible(result)) Object.defineProperty(result, SERIALIZED, { value: json });
  }
  return json;
}

/** What graphql-sse's onNext returns: the event it then builds is filled in on the way out. */
export const EMPTY_PAYLOAD = Object.freeze({});

/**
 * Where a subscription's results can go straight to its client, past the per-subscriber chain of
 * async iterators (Yoga's masking, graphql-sse's loop) that would otherwise carry each one: only
 * results without errors, for which that chain changes nothing but costs a few promises each.
 * Results with errors, and the end, still go through the chain (src/server/shared-execution.ts).
 */
export interface DirectResults {
  /**
   * Sends the `next` message of `result`. undefined: sent. A promise: sent, and the client is
   * slow; take the next result once it resolves. false: not sent (the connection cannot take it
   * now); the chain is to deliver it.
   */
  send(result: object): undefined | false | Promise<void>;
  /** Around the results of one page of the source: they may leave together once it is done. */
  hold?(): void;
  release?(): void;
}

/**
 * A transport that takes a whole subscription, not only its results without errors: the shared
 * execution (src/server/shared-execution.ts) then pushes every result and the end to it, and no
 * chain of async iterators, nor any suspended call of the transport's library, is kept per
 * subscription (graphql-transport-ws, src/server/websocket-operations.ts).
 */
export interface SubscriptionSink {
  /**
   * Called once, when the subscription has started: `events.return()` stops it. Results and the
   * end may follow at once.
   */
  adopt(events: { return(): Promise<unknown> }): void;
  /**
   * Sends `result`; one with errors is masked first, as Yoga masks results. undefined: take the
   * next result at once; a promise: the client is slow, take it once the promise resolves.
   */
  next(result: ExecutionResult): undefined | Promise<void>;
  /** The end: by the source, or with an error, sent as one last result (as useStreamErrorsAsResults does). */
  end(error?: GraphQLError): void;
  /**
   * Around the results of one page of the source (every change it had ready): the transport may
   * send them together once the page is done.
   */
  hold?(): void;
  release?(): void;
}

/** The start of every `next` message of subscription `id`; the payload and a closing brace follow. */
export const nextMessagePrefix = (id: string): string =>
  `{"id":${JSON.stringify(id)},"type":"next","payload":`;
