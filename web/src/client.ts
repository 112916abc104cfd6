import { createClient as createWsClient } from 'graphql-ws';
import { Client, fetchExchange, type SubscriptionForwarder, subscriptionExchange } from 'urql';

export type ConnectionPhase = 'connecting' | 'live' | 'reconnecting';

export interface ConnectionState {
  phase: ConnectionPhase;
  /** When the phase began (ms since epoch). */
  since: number;
  /** Failed attempts since the connection was last live. */
  attempts: number;
}

/** What graphql-ws reports, as a store for `useSyncExternalStore`. */
export function createConnectionStore() {
  let state: ConnectionState = { phase: 'connecting', since: Date.now(), attempts: 0 };
  const listeners = new Set<() => void>();
  const set = (phase: ConnectionPhase, attempts = state.attempts) => {
    if (phase === state.phase && attempts === state.attempts) return;
    state = { phase, since: phase === state.phase ? state.since : Date.now(), attempts };
    for (const listener of listeners) listener();
  };
  return {
    get: () => state,
    subscribe(listener: () => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    set,
  };
}
export type ConnectionStore = ReturnType<typeof createConnectionStore>;

/**
 * A subscription forwarder whose re-subscriptions resume where the last one stopped.
 *
 * graphql-ws re-sends the very same payload object when it re-subscribes after a reconnect (it
 * serializes it again each time). Moving `variables.after` to the cursor of every change delivered
 * therefore makes the re-subscription ask for exactly what was missed while disconnected: nothing
 * replayed twice, nothing lost (the server's `after` contract), and no stale cursor that might have
 * aged out of the retention window.
 */
export function resumableForwarder(ws: ReturnType<typeof createWsClient>): SubscriptionForwarder {
  return (request) => {
    const variables = { ...(request.variables as Record<string, unknown> | undefined) };
    const payload = { ...request, query: request.query ?? '', variables };
    return {
      subscribe(sink) {
        const unsubscribe = ws.subscribe(payload, {
          next(result) {
            const data = result.data as Record<string, { cursor?: unknown } | null> | null | undefined;
            const cursor = data && Object.values(data)[0]?.cursor;
            if ('after' in variables && typeof cursor === 'string') variables.after = cursor;
            sink.next(result as never);
          },
          error: (error) => sink.error(error),
          complete: () => sink.complete(),
        });
        return { unsubscribe };
      },
    };
  };
}

export interface DashboardAuth {
  /** Sent as `Authorization: Bearer` over HTTP and in graphql-ws's connection_init. */
  token: string | null;
  /** The server closed the socket with 4403: the token has expired or was revoked. */
  onRefused?(): void;
}

/** urql over HTTP for queries and mutations, graphql-ws for subscriptions; no document cache. */
export function createDashboardClient(
  origin = window.location.origin,
  auth: DashboardAuth = { token: null },
) {
  const authorization = auth.token ? { authorization: `Bearer ${auth.token}` } : undefined;
  const connection = createConnectionStore();
  let wasLive = false;
  const ws = createWsClient({
    url: `${origin.replace(/^http/, 'ws')}/graphql`,
    connectionParams: authorization,
    keepAlive: 10_000,
    // Another page or filter re-subscribes at once: keep the socket rather than reconnect.
    lazyCloseTimeout: 5_000,
    retryAttempts: Number.POSITIVE_INFINITY,
    shouldRetry: () => true,
    // Quick at first, so a restarted server is picked up within a second; capped at 5 s.
    retryWait: (retries) =>
      new Promise((resolve) =>
        setTimeout(resolve, Math.min(250 * 2 ** retries, 5_000) + Math.random() * 250),
      ),
    on: {
      connecting: (isRetry) => connection.set(isRetry || wasLive ? 'reconnecting' : 'connecting'),
      connected: () => {
        wasLive = true;
        connection.set('live', 0);
      },
      closed: (event) => {
        // Retrying with the same token would be refused again: sign in anew.
        if ((event as { code?: number }).code === 4403) auth.onRefused?.();
        if (wasLive) connection.set('reconnecting', connection.get().attempts + 1);
      },
    },
  });
  const client = new Client({
    url: `${origin}/graphql`,
    requestPolicy: 'network-only',
    fetchOptions: authorization ? { headers: authorization } : undefined,
    exchanges: [subscriptionExchange({ forwardSubscription: resumableForwarder(ws) }), fetchExchange],
  });
  return { client, ws, connection };
}
