import { NoSchemaIntrospectionCustomRule } from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import type { WebSocket } from 'ws';
import type { Logger } from '../log.ts';
import type { Access } from './access.ts';
import type { SecurityConfig } from './config.ts';
import { createHttpAuth } from './http.ts';
import { corsOption, createOriginPolicy } from './origins.ts';
import { createAuthenticator } from './verify-token.ts';
import { createWebSocketAuth } from './websocket.ts';

/** What the context factory receives: a Request over HTTP and SSE, graphql-ws's `extra` over WebSocket. */
interface InitialContext {
  request?: Request;
  extra?: { socket?: WebSocket };
}

/**
 * Everything the server needs to enforce the contract's "Authentication and authorization", built
 * once from the configuration. Off (undefined config, or no AUTH_JWT_SECRET / AUTH_JWKS_URL):
 * everyone has OPEN_ACCESS, and the start-up says so.
 */
export function createSecurity(config: SecurityConfig | undefined, log: Logger) {
  const authenticate = config?.auth ? createAuthenticator(config.auth) : undefined;
  const origins = createOriginPolicy(config);
  const http = createHttpAuth(authenticate);
  const websocket = createWebSocketAuth(authenticate, origins, log);
  const graphiql = config?.graphiql ?? true;
  if (!authenticate) {
    log.warn(
      'authentication is off (neither AUTH_JWT_SECRET nor AUTH_JWKS_URL is set): anyone who can reach this port may read and change every order',
    );
  }

  const noIntrospection: Plugin = {
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };

  return {
    enabled: authenticate !== undefined,
    graphiql,
    /** Yoga's `cors` option; undefined keeps Yoga's default (any origin) while nothing restricts it. */
    cors: corsOption(origins),
    /** Yoga plugins: HTTP authentication first, and no introspection when GraphiQL is off. */
    plugins: graphiql ? [http.plugin] : [http.plugin, noIntrospection],
    websocket,
    /** The caller of a REST request (already authenticated by the plugin). */
    restAccess: (request: Request) => http.accessOf(request),
    /** For Yoga's context factory, over every transport alike. */
    async accessOf(initial: InitialContext): Promise<Access> {
      if (initial.extra?.socket) {
        const access = websocket.accessOf(initial.extra.socket);
        if (access) return access;
        throw createGraphQLError('not authenticated', { extensions: { code: 'UNAUTHENTICATED' } });
      }
      if (!initial.request) throw new Error('no request to authenticate');
      return http.accessOf(initial.request);
    },
  };
}

export type Security = ReturnType<typeof createSecurity>;
