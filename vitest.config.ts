import { defineConfig } from 'vitest/config';
import { serverIndependentFiles } from './test/setup/server-independent-files.ts';
import { SlowFilesFirst } from './test/setup/slow-files-first.ts';

// The files that run unchanged on MySQL/MariaDB too (their databases come from createTestDatabase,
// which the mysql project points at TEST_MYSQL_URL's server), plus the MySQL-only ones.
const mysqlFiles = [
  'test/mysql/**/*.test.ts',
  'test/rest.test.ts',
  'test/graphql-orders.test.ts',
  'test/subscriptions.test.ts',
  'test/auth/customer.test.ts',
  'test/auth/websocket.test.ts',
  'test/auth/production.test.ts',
  'test/clients.test.ts',
  'test/clients/readme.test.ts',
  'test/dashboard-live-orders.test.ts',
  'test/input-literals.test.ts',
  'test/limits.test.ts',
  'test/metrics.test.ts',
  'test/request-limits.test.ts',
  'test/stream-errors.test.ts',
  'test/subscription-start.test.ts',
  'test/hostile/http-errors.test.ts',
  'test/changes/concurrency.test.ts',
  'test/changes/resume.test.ts',
  'test/changes/instances.test.ts',
  'test/changes/startup.test.ts',
  'test/changes/subscribe-start.test.ts',
  'test/changes/capture.test.ts',
  'test/changes/bulk.test.ts',
  'test/changes/filter.test.ts',
  'test/changes/retention.test.ts',
  'test/watch.test.ts',
  'test/readiness.test.ts',
  'test/startup.test.ts',
  'test/hostile/encoding.test.ts',
  'test/hostile/graphql.test.ts',
  'test/hostile/rest.test.ts',
  'test/auth/http.test.ts',
  'test/clients/errors.test.ts',
  'test/clients/sse-errors.test.ts',
  'test/clients/operation.test.ts',
  'test/clients/resume.test.ts',
  'test/faults/terminate-backends.test.ts',
  'test/faults/network-drop.test.ts',
  'test/faults/max-connections.test.ts',
  'test/faults/dba-timeouts.test.ts',
  'test/faults/table-locked.test.ts',
  'test/faults/pool-busy.test.ts',
  'test/faults/service-killed.test.ts',
  'test/faults/server-stopped.test.ts',
];

export default defineConfig({
  // graphql 16 ships both index.mjs and index.js without "exports"; Node (and so every library
  // loaded outside Vite) gets the CommonJS one, so tests must too, or `instanceof` checks fail.
  resolve: { alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }] },
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two cores: more workers only make the database-heavy files slower.
    maxWorkers: 2,
    sequence: { sequencer: SlowFilesFirst },
    projects: [
      {
        extends: true,
        test: {
          name: 'postgres',
          include: ['test/**/*.test.ts'],
          exclude: [
            'test/mysql/**',
            ...(process.env.TEST_SHARED_SERVER_ONLY === '1' ? serverIndependentFiles : []),
          ],
          globalSetup: ['test/setup/postgres.ts'],
        },
      },
      // npm test runs the MySQL suite when TEST_MYSQL_URL names a server (user with CREATE USER).
      ...(process.env.TEST_MYSQL_URL
        ? [
            {
              extends: true as const,
              test: { name: 'mysql', include: mysqlFiles, env: { TEST_BACKEND: 'mysql' } },
            },
          ]
        : []),
    ],
  },
});
