import { defineConfig } from 'vitest/config';

export default defineConfig({
  // graphql 16 ships both index.mjs and index.js without "exports"; Node (and so every library
  // loaded outside Vite) gets the CommonJS one, so tests must too, or `instanceof` checks fail.
  resolve: { alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }] },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/postgres.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two cores: more workers only make the database-heavy files slower.
    maxWorkers: 2,
  },
});
