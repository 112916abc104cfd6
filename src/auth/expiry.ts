import { createGraphQLError } from 'graphql-yoga';
import type { Access } from './access.ts';

// setTimeout fires at once for delays past 2^31-1 ms (24.8 days).
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The last event of a stream whose token has expired; `resolveExpiry` turns it into the error. */
export const TOKEN_EXPIRED = Symbol('token expired');

/**
 * A subscription over HTTP (SSE) ends when its token expires, as a WebSocket is closed with 4403
 * then (src/auth/websocket.ts): no stream outlives the token it was opened with. The end is one
 * last result with UNAUTHENTICATED, then completion, a well-formed end on every transport.
 */
export function untilExpiry<T>(
  stream: AsyncIterableIterator<T>,
  access: Access,
): AsyncIterableIterator<T | typeof TOKEN_EXPIRED> {
  const deadline = access.streamsEndAt;
  if (deadline === undefined || !Number.isFinite(deadline)) return stream;
  let timer: NodeJS.Timeout | undefined;
  let ended = false;
  const expired = new Promise<'expired'>((resolve) => {
    const arm = () => {
      const left = deadline - Date.now();
      if (left <= 0) resolve('expired');
      else timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
    };
    arm();
  });
  const end = async (): Promise<IteratorResult<T | typeof TOKEN_EXPIRED>> => {
    ended = true;
    clearTimeout(timer);
    await stream.return?.();
    return { done: true, value: undefined };
  };
  return {
    async next() {
      if (ended) return { done: true, value: undefined };
      const next = stream.next();
      const first = await Promise.race([next, expired]);
      if (first !== 'expired') return first;
      next.catch(() => {});
      await end();
      return { done: false, value: TOKEN_EXPIRED };
    },
    return: end,
    async throw(error?: unknown) {
      await end();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/** For a subscription's `resolve`: the expiry event is the UNAUTHENTICATED error. */
export function resolveExpiry<T>(event: T | typeof TOKEN_EXPIRED): T {
  if (event === TOKEN_EXPIRED) {
    throw createGraphQLError('the token has expired', { extensions: { code: 'UNAUTHENTICATED' } });
  }
  return event;
}
