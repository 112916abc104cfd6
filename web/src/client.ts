import { createClient } from 'realtime-orders/client';
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

/** urql's subscriptionExchange over a graphql-ws client. */
function forwardTo(ws: ReturnType<typeof createClient>): SubscriptionForwarder {
  return (request) => ({
    subscribe: (sink) => ({ unsubscribe: ws.subscribe({ ...request, query: request.query ?? '' }, sink) }),
  });
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
  // realtime-orders/client: re-subscriptions resume after the last change received (nothing
  // replayed, nothing lost), and it retries forever, quickly at first, so that a restarted server
  // is picked up within a second.
  const ws = createClient({
    url: `${origin.replace(/^http/, 'ws')}/graphql`,
    connectionParams: authorization,
    // Another page or filter re-subscribes at once: keep the socket rather than reconnect.
    lazyCloseTimeout: 5_000,
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
    exchanges: [subscriptionExchange({ forwardSubscription: forwardTo(ws) }), fetchExchange],
  });
  return { client, ws, connection };
}
