import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Plugin } from 'graphql-yoga';
import type { ChangeFeed } from '../changes/feed.ts';
import { type Db, databaseStatus } from '../db/connect.ts';
import type { Logger } from '../log.ts';
import { createMetrics } from './metrics.ts';
import { createRestHandler, json } from './rest.ts';
import { createStaticHandler } from './static-files.ts';
import { attachGraphQLWebSocket } from './websocket.ts';
import { createYogaServer } from './yoga.ts';

export interface Readiness {
  ready: boolean;
  reason?: string;
}

export interface AppOptions {
  db: Db;
  feed: ChangeFeed;
  log: Logger;
  readiness: () => Promise<Readiness>;
}

export interface App {
  server: Server;
  yoga: ReturnType<typeof createYogaServer>;
  /** Listens and resolves with the base URL, e.g. http://127.0.0.1:4000. */
  listen(port: number, host: string): Promise<string>;
  close(): Promise<void>;
}

export function buildApp({ db, feed, log, readiness }: AppOptions): App {
  const metrics = createMetrics();
  const rest = createRestHandler(db);
  const files = createStaticHandler();

  const routes: Plugin = {
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
        metrics.observe(status, databaseStatus(db));
        return new Response(await metrics.registry.metrics(), {
          headers: { 'content-type': metrics.registry.contentType },
        });
      }
    }
    if (url.pathname.startsWith('/graphql')) return undefined;
    return (await rest(request, url)) ?? (await files(request, url));
  }

  const yoga = createYogaServer({ context: { db, changes: feed }, log, routes });
  const server = createServer(yoga);
  // Attached once listening: graphql-ws reports a failed listen (port in use) as an "internal
  // error" with a stack on stderr, where one clear line is wanted (test/start.test.ts).
  let ws: ReturnType<typeof attachGraphQLWebSocket> | undefined;
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  return {
    server,
    yoga,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          ws = attachGraphQLWebSocket(server, yoga);
          const address = server.address();
          const actual = typeof address === 'object' && address ? address.port : port;
          resolve(`http://${host.includes(':') ? `[${host}]` : host}:${actual}`);
        });
      }),
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await ws?.close();
      // Streams (SSE) and keep-alive sockets would hold close() open forever.
      server.closeIdleConnections();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

function routeKind(pathname: string): string {
  if (pathname.startsWith('/graphql')) return 'graphql';
  if (pathname.startsWith('/api/')) return 'rest';
  if (['/health', '/ready', '/metrics'].includes(pathname)) return pathname.slice(1);
  return 'static';
}
