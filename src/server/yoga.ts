import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { GraphQLError, type ValidationContext } from 'graphql';
import { createYoga, type Plugin } from 'graphql-yoga';
import type { Security } from '../auth/security.ts';
import { isConnectionError } from '../db/connection-errors.ts';
import { DomainError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Context } from '../schema/builder.ts';
import { schema } from '../schema/index.ts';
import { maskGraphQLError } from './errors.ts';
import { useInputErrorCodes } from './input-errors.ts';
import { type SharingStats, useSharedSubscriptionExecution } from './shared-execution.ts';
import { useGraphQLSSEWithErrors } from './sse.ts';
import { useStreamErrorsAsResults } from './stream-errors.ts';
import { DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION, useSSESubscriptionCap } from './subscription-cap.ts';
import { useTransportErrorCodes } from './transport-error-codes.ts';

const GRAPHIQL_DEFAULT_QUERY = `# Realtime Orders. Run this page of orders, then watch what changes after it:
#
# subscription ($after: String) {
#   orderChanged(after: $after) {
#     cursor operation changedFields changedBy
#     order { id customerName status version }
#     previous { status }
#   }
# }
#
# with the variables { "after": "<changeCursor from the result>" }: nothing missed, nothing twice.

query Orders {
  orders(first: 20) {
    changeCursor
    nodes { id customerName productName quantity status version updatedAt }
    pageInfo { hasNextPage endCursor }
  }
}
`;

// A rejected operation is reported like any invalid one (GRAPHQL_VALIDATION_FAILED), not thrown:
// thrown, it would end a WebSocket connection and every subscription on it.
const asValidationError = {
  propagateOnRejection: false,
  onReject: [
    (context: ValidationContext | null, error: GraphQLError) =>
      context?.reportError(new GraphQLError(error.message.replace(/^Syntax Error: /, ''))),
  ],
};

export interface YogaOptions {
  context: Omit<Context, 'access'>;
  /** Authentication, CORS, GraphiQL on or off (src/auth). */
  security: Security;
  log: Logger;
  /** Handles paths other than GraphQL's (REST, health, dashboard) before Yoga does. */
  routes: Plugin;
  /** Open subscriptions one SSE connection (single connection mode) may hold; default 100. */
  maxSubscriptionsPerConnection?: number;
  /** Counts subscription executions and shared results, for /metrics. */
  sharing?: SharingStats;
}

export function createYogaServer({
  context,
  security,
  log,
  routes,
  maxSubscriptionsPerConnection = DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION,
  sharing,
}: YogaOptions) {
  return createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    // Our /health answers JSON; Yoga's built-in one is moved out of the way.
    healthCheckEndpoint: '/_yoga/health',
    context: async (initial) => ({ ...context, access: await security.accessOf(initial) }),
    cors: security.cors,
    maskedErrors: { maskError: maskGraphQLError },
    logging: {
      debug: (...args) => log.debug(args.map(String).join(' ')),
      info: (...args) => log.info(args.map(String).join(' ')),
      warn: (...args) => log.warn(args.map(String).join(' ')),
      error: (...args) => logError(log, args),
    },
    graphiql: security.graphiql && {
      title: 'Realtime Orders',
      // A browser cannot put GraphiQL's headers on a WebSocket, and GraphiQL sends them with each
      // operation, not in connection_init: with auth on, its subscriptions use SSE on /graphql,
      // which carries the headers editor's Authorization like any request.
      subscriptionsProtocol: security.enabled ? 'SSE' : 'WS',
      defaultQuery: GRAPHIQL_DEFAULT_QUERY,
    },
    // GraphiQL's scripts and styles served from this process, so it works without internet access.
    // They weigh 32 MB of heap once loaded: loaded on the first GraphiQL page, not at start.
    renderGraphiQL: async (options) =>
      (await import('@graphql-yoga/render-graphiql')).renderGraphiQL(options),
    landingPage: false,
    plugins: [
      ...security.plugins,
      routes,
      useGraphQLSSEWithErrors({ endpoint: '/graphql/stream' }),
      useSSESubscriptionCap(maxSubscriptionsPerConnection),
      useInputErrorCodes(),
      useStreamErrorsAsResults(),
      useTransportErrorCodes(),
      // One request must not be able to cost the server what a thousand do: every alias of
      // `orders` is a query of its own, and a huge document is work before anything runs.
      maxTokensPlugin({ n: 3_000 }),
      maxDepthPlugin({ n: 10, flattenFragments: true, ...asValidationError }),
      maxAliasesPlugin({ n: 15, ...asValidationError }),
      maxDirectivesPlugin({ n: 20, ...asValidationError }),
      // Last: it replaces the subscribe function itself, after every check above has passed.
      useSharedSubscriptionExecution(sharing),
    ],
  });
}

// Yoga logs every error it masks or maps. Input mistakes are the client's, not the server's: debug.
// Anything else keeps its stack (String(error) would drop it) at error level.
function logError(log: Logger, args: unknown[]): void {
  const error = args.find((a): a is Error => a instanceof Error);
  const cause = error instanceof GraphQLError ? (error.originalError ?? error) : error;
  const expected = cause instanceof DomainError || (error instanceof GraphQLError && !error.path);
  const message =
    args
      .filter((a) => a !== error)
      .map(String)
      .join(' ') ||
    (error?.message ?? 'error');
  if (expected) log.debug({ reason: error?.message }, 'request refused');
  // One line per request, no stack: the gate and the feed already say why the database is away.
  else if (isConnectionError(cause))
    log.warn({ reason: cause?.message }, 'request failed: database unavailable');
  else log.error({ err: cause }, message);
}

export type YogaServer = ReturnType<typeof createYogaServer>;
