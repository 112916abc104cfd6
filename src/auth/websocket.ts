import type { IncomingMessage } from 'node:http';
import { CloseCode } from 'graphql-ws';
import type { WebSocket } from 'ws';
import type { Logger } from '../log.ts';
import { type Access, AuthError, OPEN_ACCESS } from './access.ts';
import type { OriginPolicy } from './origins.ts';
import type { Authenticate } from './verify-token.ts';

// setTimeout fires at once for delays past 2^31-1 ms (24.8 days); longer tokens wait in steps.
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Authentication for graphql-ws: the upgrade's Origin is checked first (403 for origins not
 * allowed; clients that are not browsers send none), then the token of the `connection_init`
 * payload. A bad token closes the socket with 4403 (graphql-ws's Forbidden), and so does the
 * token's expiry later on; the client then reconnects with a fresh token.
 */
export function createWebSocketAuth(
  authenticate: Authenticate | undefined,
  origins: OriginPolicy,
  log: Logger,
) {
  const sockets = new WeakMap<WebSocket, Access>();
  return {
    /** ws's verifyClient: a browser page of another origin must not use a visitor's network. */
    verifyClient(
      info: { origin: string; req: IncomingMessage },
      done: (ok: boolean, code?: number, message?: string) => void,
    ): void {
      const origin = info.req.headers.origin;
      if (origin === undefined || origins.allows(origin, info.req.headers.host)) {
        done(true);
        return;
      }
      log.debug({ origin }, 'WebSocket refused: origin not allowed');
      done(false, 403, 'Forbidden');
    },

    /** graphql-ws's onConnect: false closes the socket with 4403. */
    async onConnect(
      connectionParams: Record<string, unknown> | undefined,
      socket: WebSocket,
    ): Promise<boolean> {
      if (!authenticate) return true;
      let access: Access;
      try {
        access = await authenticate(authorizationOf(connectionParams));
      } catch (error) {
        if (!(error instanceof AuthError)) throw error;
        log.debug({ reason: error.message }, 'WebSocket refused');
        return false;
      }
      sockets.set(socket, access);
      closeAtExpiry(socket, access.expiresAt);
      return true;
    },

    /** The access of an acknowledged socket; everything while authentication is off. */
    accessOf(socket: WebSocket | undefined): Access | undefined {
      if (!authenticate) return OPEN_ACCESS;
      return socket && sockets.get(socket);
    },
  };
}

export type WebSocketAuth = ReturnType<typeof createWebSocketAuth>;

/** `{"authorization": "Bearer …"}`, or `{"headers": {"Authorization": "Bearer …"}}`. */
function authorizationOf(params: Record<string, unknown> | undefined): string | undefined {
  if (!params) return undefined;
  const headers =
    params.headers && typeof params.headers === 'object' ? (params.headers as Record<string, unknown>) : {};
  const value =
    params.authorization ?? params.Authorization ?? headers.Authorization ?? headers.authorization;
  return typeof value === 'string' ? value : undefined;
}

function closeAtExpiry(socket: WebSocket, expiresAt: number | undefined): void {
  if (expiresAt === undefined || !Number.isFinite(expiresAt)) return;
  let timer: NodeJS.Timeout;
  const arm = () => {
    const left = expiresAt - Date.now();
    if (left <= 0) {
      socket.close(CloseCode.Forbidden, 'Forbidden: token expired');
      return;
    }
    timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
  };
  arm();
  socket.once('close', () => clearTimeout(timer));
}
