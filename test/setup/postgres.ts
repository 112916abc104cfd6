import { rmSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../src/db/embedded.ts';
import { clusterTempDir } from '../helpers/temp-dir.ts';

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
  const dir = clusterTempDir('realtime-orders-test-');
  const server = await startEmbeddedPostgres({ dir });
  project.provide('postgresServerUrl', server.serverUrl);
  return async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
