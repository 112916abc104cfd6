import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';
import type { Plugin } from 'graphql-yoga';
import type { SecurityConfig } from '../auth/config.ts';
import { createSecurity } from '../auth/security.ts';
import type { ChangeSource } from '../changes/source.ts';
import { type Db, databaseStatus } from '../db/connect.ts';
import type { Logger } from '../log.ts';
import { limitRequestBodies } from './body-limit.ts';
import { createMetrics } from './metrics.ts';
import { createRestHandler, json } from './rest.ts';
import { newSharingStats } from './shared-execution.ts';
import { STARTING_MESSAGE, type StartupGate, useStartupGate } from './startup-gate.ts';
import { createStaticHandler } from './static-files.ts';
import { attachGraphQLWebSocket } from './websocket.ts';
import { createYogaServer } from './yoga.ts';

export interface Readiness {
  ready: boolean;
  reason?: string;
}

export interface AppOptions {
  db: Db;
  feed: ChangeSource;
  log: Logger;
  readiness: () => Promise<Readiness>;
  /** Authentication, origins, GraphiQL (src/auth); undefined: off, any origin, GraphiQL on. */
  security?: SecurityConfig | undefined;
  /** Opened once the service is up; operations that arrive before are held (see StartupGate). */
  gate: StartupGate;
  /** Open subscriptions per WebSocket or SSE connection (MAX_SUBSCRIPTIONS_PER_CONNECTION). */
  maxSubscriptionsPerConnection?: number;
}

export interface App {
  server: Server;
  yoga: ReturnType<typeof createYogaServer>;
  /** Listens and resolves with the base URL, e.g. http://127.0.0.1:4000. */
  listen(port: number, host: string): Promise<string>;
  /**
   * Stops accepting, closes WebSockets with 1001 once their queries and mutations are answered,
   * ends SSE streams, lets in-flight requests finish (up to `graceMs`), then drops what is left.
   */
  close(graceMs?: number): Promise<void>;
}

export function buildApp({
  db,
  feed,
  log,
  readiness,
  gate,
  security: securityConfig,
  maxSubscriptionsPerConnection,
}: AppOptions): App {
  const metrics = createMetrics();
  feed.onTickMade?.((milliseconds) => metrics.feedTickSeconds.observe(milliseconds / 1000));
  const sharing = newSharingStats();
  const security = createSecurity(securityConfig, log);
  const rest = createRestHandler(db, security.restAccess);
  const files = createStaticHandler();

  const routes: Plugin = {
    ...useStartupGate(gate),
    onResponse({ request, response }) {
      metrics.httpRequests.inc({
        route: routeKind(new URL(request.url).pathname),
        status: `${Math.floor(response.status / 100)}xx`,
      });
    },
    async onRequest({ request, url, endResponse }) {
      try {
        const response = await route(request, url);
        if (response) endResponse(response);
      } catch (error) {
        log.error({ err: error, path: url.pathname }, 'request failed');
        endResponse(json({ error: 'INTERNAL_SERVER_ERROR', message: 'Unexpected error.' }, 500));
      }
    },
  };

  async function route(request: Request, url: URL): Promise<Response | undefined> {
    switch (url.pathname) {
      case '/health':
        return json({ status: 'ok' });
      case '/ready': {
        const state = await readiness();
        return state.ready
          ? json({ status: 'ready' })
          : json({ status: 'unavailable', reason: state.reason }, 503);
      }
      case '/metrics': {
        const status = feed.status();
        metrics.feedListening.set(status.listening ? 1 : 0);
        metrics.subscribers.set(status.subscribers);
        if (status.headTick !== undefined) metrics.feedHeadTick.set(status.headTick);
        metrics.observe(status, databaseStatus(db), sharing);
        return new Response(await metrics.registry.metrics(), {
          headers: { 'content-type': metrics.registry.contentType },
        });
      }
    }
    if (url.pathname.startsWith('/graphql')) return undefined;
    if (url.pathname.startsWith('/api/') && !(await gate.wait())) {
      return json({ error: 'SERVICE_UNAVAILABLE', message: STARTING_MESSAGE }, 503, { 'retry-after': '1' });
    }
    return (await rest(request, url)) ?? (await files(request, url));
  }

  const yoga = createYogaServer({
    context: { db, changes: feed },
    security,
    log,
    routes,
    maxSubscriptionsPerConnection,
    sharing,
  });
  const requests = new InFlight();
  const tracked =
    (handler: RequestListener): RequestListener =>
    (req, res) => {
      requests.track(req, res);
      void handler(req, res);
    };
  const server = createServer(tracked(limitRequestBodies(yoga)));
  server.on('checkContinue', tracked(limitRequestBodies(yoga, { expectsContinue: true })));
  // Attached once listening: the WebSocket server reports a failed listen (port in use) as an
  // "internal error" with a stack on stderr, where one clear line is wanted (test/start.test.ts).
  let ws: ReturnType<typeof attachGraphQLWebSocket> | undefined;
  const sockets = new Set<Socket>();
  // One listener for every socket, not a closure (and a once() wrapper) per connection: each idle
  // WebSocket subscriber holds its TCP socket's for as long as it lasts.
  function forget(this: Socket) {
    sockets.delete(this);
  }
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', forget);
  });

  return {
    server,
    yoga,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          ws = attachGraphQLWebSocket(server, yoga, {
            auth: security.websocket,
            maxSubscriptionsPerConnection,
          });
          const address = server.address();
          const actual = typeof address === 'object' && address ? address.port : port;
          resolve(`http://${host.includes(':') ? `[${host}]` : host}:${actual}`);
        });
      }),
    async close(graceMs = 4_000) {
      const deadline = Date.now() + graceMs;
      requests.closing = true;
      // No new connections from here on; keep-alive ones are closed once idle.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await Promise.all([ws?.close(graceMs), requests.finish(Math.max(0, deadline - Date.now()))]);
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

/**
 * The requests being answered, so that a shutdown lets them finish. Streams (SSE, multipart) never
 * finish by themselves; they are ended instead.
 */
class InFlight {
  closing = false;
  private readonly requests = new Set<ServerResponse>();
  private readonly streams = new Set<ServerResponse>();

  track(req: IncomingMessage, res: ServerResponse): void {
    const accept = req.headers.accept ?? '';
    const set = /text\/event-stream|multipart\/mixed/.test(accept) ? this.streams : this.requests;
    set.add(res);
    // Once ended by finish(), a stream may still be written to by its producer; that must not be
    // an unhandled 'error' event.
    res.on('error', () => {});
    res.once('close', () => set.delete(res));
    if (this.closing) res.setHeader('connection', 'close');
  }

  /**
   * Waits (up to `timeoutMs`) for the requests to be answered, and ends each stream that is still
   * open a moment after it started: until it starts, a query or mutation sent over SSE is still
   * executing, and once started, its result and `complete` follow at once. A stream ends without a
   * `complete` event: to graphql-sse clients that is a dropped connection, which they retry at
   * once, as WebSocket clients do on 1001.
   */
  async finish(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const started = new Map<ServerResponse, number>();
    for (;;) {
      let waiting = this.requests.size;
      for (const res of this.streams) {
        if (!res.headersSent) waiting++;
        else if (!started.has(res)) started.set(res, Date.now());
        else if (Date.now() - (started.get(res) ?? 0) >= 100) res.end();
        else waiting++;
      }
      if (waiting === 0 || Date.now() >= deadline) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

function routeKind(pathname: string): string {
  if (pathname.startsWith('/graphql')) return 'graphql';
  if (pathname.startsWith('/api/')) return 'rest';
  if (['/health', '/ready', '/metrics'].includes(pathname)) return pathname.slice(1);
  return 'static';
}
