import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../src/db/embedded.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A PostgreSQL server URL (no database name) on which each test file creates its own database. */
    postgresServerUrl: string;
  }
}

/** One PostgreSQL server for the run: TEST_DATABASE_URL's, or an embedded one in a temp dir. */
export default async function setup(project: TestProject) {
  const external = process.env.TEST_DATABASE_URL;
  if (external) {
    const url = new URL(external);
    url.pathname = '';
    project.provide('postgresServerUrl', url.toString().replace(/\/$/, ''));
    return;
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'realtime-orders-test-'));
  // mkdtemp makes it 0700; as root the cluster runs as `postgres`, which must reach it, or
  // src/db/embedded.ts falls back to /var/lib/realtime-orders, which rmSync below would not clean.
  chmodSync(dir, 0o755);
  const server = await startEmbeddedPostgres({ dir });
  project.provide('postgresServerUrl', server.serverUrl);
  return async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
