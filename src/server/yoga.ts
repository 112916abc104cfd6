import { useGraphQLSSE } from '@graphql-yoga/plugin-graphql-sse';
import { createYoga, type Plugin } from 'graphql-yoga';
import type { Logger } from '../log.ts';
import type { Context } from '../schema/builder.ts';
import { schema } from '../schema/index.ts';
import { maskGraphQLError } from './errors.ts';

export interface YogaOptions {
  context: Context;
  log: Logger;
  /** Handles paths other than GraphQL's (REST, health, dashboard) before Yoga does. */
  routes: Plugin;
}

export function createYogaServer({ context, log, routes }: YogaOptions) {
  return createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    // Our /health answers JSON; Yoga's built-in one is moved out of the way.
    healthCheckEndpoint: '/_yoga/health',
    context: () => context,
    maskedErrors: { maskError: maskGraphQLError },
    logging: {
      debug: (...args) => log.debug(args.map(String).join(' ')),
      info: (...args) => log.info(args.map(String).join(' ')),
      warn: (...args) => log.warn(args.map(String).join(' ')),
      error: (...args) => log.error(args.map(String).join(' ')),
    },
    graphiql: { title: 'Realtime Orders', subscriptionsProtocol: 'WS' },
    landingPage: false,
    plugins: [routes, useGraphQLSSE({ endpoint: '/graphql/stream' })],
  });
}

export type YogaServer = ReturnType<typeof createYogaServer>;
