import type { SecurityConfig } from '../../src/auth/config.ts';
import type { Config } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { type Service, type ServiceOptions, startService } from '../../src/server/service.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';

export interface TestService extends Service {
  database: TestDatabase;
  /** POSTs a GraphQL operation over HTTP and returns the parsed body. */
  graphql<T = any>(query: string, variables?: Record<string, unknown>): Promise<{ data?: T; errors?: any[] }>;
  wsUrl: string;
}

/** The whole service on port 0, over a fresh database, as `npm start` would run it. */
export async function startTestService(
  options: ServiceOptions & {
    database?: TestDatabase;
    /** A fixed port, e.g. to restart a service where its clients expect it; default 0 (any free one). */
    port?: number;
    /** Authentication, origins, GraphiQL; default: none configured (auth off). */
    security?: SecurityConfig;
    /** MAX_SUBSCRIPTIONS_PER_CONNECTION; default 100. */
    maxSubscriptionsPerConnection?: number;
  } = {},
): Promise<TestService> {
  const database = options.database ?? (await createTestDatabase());
  const config: Config = {
    databaseUrl: database.url,
    port: options.port ?? 0,
    host: '127.0.0.1',
    logLevel: process.env.TEST_LOG_LEVEL ?? 'silent',
    changeRetentionMs: 7 * 86400e3,
    dataDir: '/nonexistent',
    security: options.security,
    maxSubscriptionsPerConnection: options.maxSubscriptionsPerConnection ?? 100,
  };
  const service = await startService(config, createLogger(config.logLevel), options);
  return {
    ...service,
    database,
    wsUrl: `${service.url.replace(/^http/, 'ws')}/graphql`,
    async graphql(query, variables) {
      const response = await fetch(`${service.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ query, variables }),
      });
      return response.json() as never;
    },
    async stop() {
      await service.stop();
      if (!options.database) await database.drop();
    },
  };
}
