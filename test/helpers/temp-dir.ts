import { chmodSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A fresh directory under the system temp dir for an embedded PostgreSQL. mkdtemp makes it 0700;
 * as root the cluster runs as `postgres`, which must reach it, or src/db/embedded.ts would put the
 * cluster in /var/lib/realtime-orders instead, where removing this directory leaves it behind.
 */
export function clusterTempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  chmodSync(dir, 0o755);
  return dir;
}
