// Files that never use the suite's PostgreSQL server: unit tests, and those that start clusters
// of their own (npm start's embedded one, the outage test that stops its own). A run against
// another server (CI's second pass, TEST_DATABASE_URL) would repeat them exactly; with
// TEST_SHARED_SERVER_ONLY=1 the PostgreSQL project (vitest.config.ts) leaves them out. The MySQL
// project is not affected: there the outage test stops a MariaDB of its own.
// test/server-independent-files.test.ts checks that none of them reaches the shared server.
export const serverIndependentFiles = [
  'test/faults/server-stopped.test.ts',
  'test/start.test.ts',
  'test/embedded-exit.test.ts',
  'test/auth/verify-token.test.ts',
  'test/batching-websocket.test.ts',
  'test/bench-reports.test.ts',
  'test/changes/cursor.test.ts',
  'test/changes/head-waiters.test.ts',
  'test/changes/one-at-a-time.test.ts',
  'test/clients/operation.test.ts',
  'test/compiled-execution.test.ts',
  'test/config.test.ts',
  'test/dashboard-codegen.test.ts',
  'test/dashboard-live-orders.test.ts',
  'test/event-stream-sink.test.ts',
  'test/order-row.test.ts',
  'test/schema.test.ts',
  'test/shared-message.test.ts',
  'test/websocket-frames.test.ts',
];
