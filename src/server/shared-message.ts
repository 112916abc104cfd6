/**
 * One serialization per result object, for every subscriber that receives it: subscriptions that
 * share an execution (src/server/shared-execution.ts) receive the same result object, and its
 * JSON is written once, then spliced into each subscriber's `next` message.
 *
 * graphql-ws builds every `next` message itself: `JSON.stringify({ id, type: 'next', payload })`
 * of the value its `onNext` hook returns. The hook returns an empty payload and leaves the real
 * one, already serialized, with the socket (`SharedNextMessages.expect`); the socket's `send`
 * recognises the exact message it expects (same id, empty payload) and sends it with the payload
 * in its place (`SharedNextMessages.fill`). The message is the one graphql-ws would have written:
 * JSON.stringify of a result writes each GraphQLError through its toJSON, as graphql-ws does.
 */
// Kept on the result object itself, so it is collected with the result: a WeakMap entry for every
// result, 100,000 of them for one bulk statement, cost about as much again as the serialization
// (1.5–2 µs per result, most of it in the collector). A symbol, which JSON.stringify skips, and not
// enumerable, so that a copy of the result (`{ ...result, errors }`, as masking makes) does not
// carry the original's serialization.
const SERIALIZED = Symbol('serialized result');
type Memo = object & { [SERIALIZED]?: string };

export function serializedResult(result: object): string {
  const memo = result as Memo;
  let json = memo[SERIALIZED];
  if (json === undefined) {
    json = JSON.stringify(result);
    // A frozen result is serialized again by whoever asks: correct, only slower.
    if (Object.isExtensible(result)) Object.defineProperty(result, SERIALIZED, { value: json });
  }
  return json;
}

/** What graphql-ws's onNext returns: the message it then builds is filled in on the way out. */
export const EMPTY_PAYLOAD = Object.freeze({});
const EMPTY_SUFFIX = '{}}';

/** Per socket: `next` messages announced by onNext, waiting for graphql-ws to send them. */
export class SharedNextMessages {
  // Made by the first announcement: most sockets never send a `next` through graphql-ws (results
  // without errors go out directly), and every idle one would hold an empty Map.
  private waiting: Map<string, string> | undefined;

  /** Announces the `next` message of subscription `id` with this result; returns onNext's payload. */
  expect(id: string, result: object): object {
    this.waiting ??= new Map();
    this.waiting.set(`${nextMessagePrefix(id)}${EMPTY_SUFFIX}`, serializedResult(result));
    return EMPTY_PAYLOAD;
  }

  /** The message to send instead of `data`: the announced one with its payload, else `data` itself. */
  fill(data: unknown): unknown {
    if (!this.waiting?.size || typeof data !== 'string') return data;
    const payload = this.waiting.get(data);
    if (payload === undefined) return data;
    this.waiting.delete(data);
    return `${data.slice(0, -EMPTY_SUFFIX.length)}${payload}}`;
  }
}

/**
 * Where a subscription's results can go straight to its client, past the per-subscriber chain of
 * async iterators (Yoga's masking, graphql-ws's loop) that would otherwise carry each one: only
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
}

/** The start of every `next` message of subscription `id`; the payload and a closing brace follow. */
export const nextMessagePrefix = (id: string): string =>
  `{"id":${JSON.stringify(id)},"type":"next","payload":`;
