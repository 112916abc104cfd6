import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { freePort } from '../src/db/embedded.ts';
import { processAlive } from './helpers/process-alive.ts';
import { waitFor } from './helpers/wait.ts';

// `npm start` as a user runs it: a copy of the working tree, no DATABASE_URL, so the embedded
// PostgreSQL under .data/. As root, the cluster runs as the `postgres` user; one copy is reachable
// by that user, the other (mode 0700, as mkdtemp makes it) exercises the /var/lib fallback.

const repo = path.resolve(import.meta.dirname, '..');
const cleanups: (() => void)[] = [];
afterAll(() => {
  for (const cleanup of cleanups.reverse()) cleanup();
});

function copyOfRepository(reachable: boolean): string {
  const parent = mkdtempSync(path.join(os.tmpdir(), 'ro-start-'));
  if (reachable) chmodSync(parent, 0o755);
  const app = path.join(parent, 'app');
  const skip = new Set(['node_modules', '.data', '.git', '.env', 'dist', 'test-artifacts']);
  cpSync(repo, app, { recursive: true, filter: (src) => !skip.has(path.basename(src)) });
  symlinkSync(path.join(repo, 'node_modules'), path.join(app, 'node_modules'));
  // As `npm install` leaves it: compiled (test/start-compiled.test.ts covers a missing or stale build).
  execFileSync(process.execPath, ['src/build/build.mjs'], { cwd: app, stdio: 'ignore' });
  cleanups.push(() => {
    const pgdata = path.join(app, '.data', 'pgdata');
    // The fallback cluster lives outside the copy; remove what this test made, and only that.
    if (existsSync(pgdata) && lstatSync(pgdata).isSymbolicLink()) {
      const target = readlinkSync(pgdata);
      if (target.startsWith('/var/lib/realtime-orders/')) rmSync(target, { recursive: true, force: true });
    }
    rmSync(parent, { recursive: true, force: true });
  });
  return app;
}

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function npmStart(cwd: string, env: Record<string, string>): Run {
  const base = { ...process.env };
  for (const name of [
    'DATABASE_URL',
    'PORT',
    'HOST',
    'LOG_LEVEL',
    'DATA_DIR',
    'CHANGE_RETENTION',
    'NODE_ENV',
  ]) {
    delete base[name];
  }
  // detached: a process group of its own, which is what a terminal's Ctrl-C or a supervisor signals.
  const child = spawn('npm', ['start'], { cwd, env: { ...base, ...env }, detached: true, stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
    }
  });
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Processes whose command line mentions `text` (e.g. `postgres -D <dir>`). */
function processesMentioning(text: string): string[] {
  return execFileSync('ps', ['-eo', 'pid=,args='])
    .toString()
    .split('\n')
    .filter((line) => line.includes(text) && !line.includes('ps -eo'));
}

/** npm's own warnings (about the user's npmrc) are not ours to judge. */
const ourLines = (stderr: string) =>
  stderr
    .split('\n')
    .filter((line) => line.trim() && !line.startsWith('npm warn') && !line.startsWith('npm notice'));

interface Started {
  run: Run;
  url: string;
  postmasterPid: number;
  dataDir: string;
}

async function startAndWaitReady(app: string, port: number): Promise<Started> {
  const run = npmStart(app, { PORT: String(port) });
  const url = `http://127.0.0.1:${port}`;
  const printed = await Promise.race([
    waitFor(() => run.stdout().includes(`${url}/graphql`), { timeoutMs: 90_000, message: 'the URLs' }),
    run.exited.then(({ code }) => {
      throw new Error(`npm start exited with ${code}: ${run.stderr()}`);
    }),
  ]);
  expect(printed).toBe(true);
  for (const line of [`${url}/`, `${url}/graphql`, `ws://127.0.0.1:${port}/graphql`, `${url}/api/orders`]) {
    expect(run.stdout()).toContain(line);
  }
  const health = await fetch(`${url}/health`);
  expect(health.status).toBe(200);
  expect(await health.json()).toEqual({ status: 'ok' });
  await waitFor(async () => (await fetch(`${url}/ready`)).status === 200, { message: '/ready 200' });
  const pgdata = path.join(app, '.data', 'pgdata');
  const pid = Number(readFileSync(path.join(pgdata, 'postmaster.pid'), 'utf8').split('\n')[0]);
  expect(processAlive(pid)).toBe(true);
  return {
    run,
    url,
    postmasterPid: pid,
    dataDir: lstatSync(pgdata).isSymbolicLink() ? readlinkSync(pgdata) : pgdata,
  };
}

async function stopByGroupSignal(
  { run, postmasterPid, dataDir }: Started,
  signal: NodeJS.Signals = 'SIGTERM',
) {
  const began = Date.now();
  process.kill(-(run.child.pid as number), signal);
  let timer: NodeJS.Timeout | undefined;
  const { code } = await Promise.race([
    run.exited,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('still running after 15 s')), 15_000);
    }),
  ]).finally(() => clearTimeout(timer));
  expect(code).toBe(0);
  expect(Date.now() - began).toBeLessThan(10_000);
  await waitFor(() => !processAlive(postmasterPid), { timeoutMs: 5_000, message: 'the postmaster to exit' });
  expect(existsSync(path.join(dataDir, 'postmaster.pid'))).toBe(false);
  expect(processAlive(run.child.pid as number)).toBe(false);
  expect(processesMentioning(dataDir)).toEqual([]);
  expect(ourLines(run.stderr())).toEqual([]);
}

describe('npm start without DATABASE_URL', () => {
  const app = copyOfRepository(true);

  test('serves, stops on SIGTERM with the database, and keeps its data across restarts', async () => {
    const port = await freePort();
    const first = await startAndWaitReady(app, port);
    expect(lstatSync(path.join(app, '.data', 'pgdata')).isDirectory()).toBe(true);
    const created = await fetch(`${first.url}/api/orders`, {
      method: 'POST',
      body: JSON.stringify({ customer_name: 'Persisted', product_name: 'Across restarts' }),
    });
    expect(created.status).toBe(201);
    const order = await created.json();
    await stopByGroupSignal(first);

    const second = await startAndWaitReady(app, port);
    const again = await fetch(`${second.url}/api/orders/${order.id}`);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(order);
    await stopByGroupSignal(second, 'SIGINT');
  }, 240_000);

  test('a PORT that is not a port: exit 1 with one line on stderr, no stack', async () => {
    const run = npmStart(app, { PORT: 'notaport' });
    const { code } = await run.exited;
    expect(code).toBe(1);
    expect(ourLines(run.stderr())).toEqual([
      'realtime-orders: PORT must be an integer from 0 to 65535 (got notaport)',
    ]);
    expect(run.stdout()).not.toMatch(/\n\s+at /);
  }, 60_000);

  test('a port already in use: exit 1 with one line on stderr, no stack, no database left running', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const port = (blocker.address() as net.AddressInfo).port;
      const run = npmStart(app, { PORT: String(port) });
      const { code } = await run.exited;
      expect(code).toBe(1);
      expect(ourLines(run.stderr())).toEqual([
        `realtime-orders: port ${port} on 127.0.0.1 is already in use`,
      ]);
      expect(run.stderr() + run.stdout()).not.toMatch(/\n\s+at /);
      expect(existsSync(path.join(app, '.data', 'pgdata', 'postmaster.pid'))).toBe(false);
      expect(processesMentioning(path.join(app, '.data'))).toEqual([]);
    } finally {
      blocker.close();
    }
  }, 90_000);

  test('SIGTERM while waiting for a database that is down: stops at once, exit 0', async () => {
    const closed = await freePort();
    const run = npmStart(app, {
      PORT: String(await freePort()),
      DATABASE_URL: `postgres://u:p@127.0.0.1:${closed}/db`,
    });
    await waitFor(() => run.stdout().includes('database not reachable yet'), { timeoutMs: 30_000 });
    const signalled = Date.now();
    process.kill(-(run.child.pid as number), 'SIGTERM');
    const { code } = await run.exited;
    expect(code).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(5_000);
  }, 60_000);
});

// Only root runs PostgreSQL as another user; anyone else owns the cluster wherever it is.
describe.runIf(process.getuid?.() === 0)('npm start from a checkout the postgres user cannot reach', () => {
  test('keeps the cluster in /var/lib/realtime-orders behind a link, and stops it on SIGTERM', async () => {
    const app = copyOfRepository(false);
    const started = await startAndWaitReady(app, await freePort());
    expect(lstatSync(path.join(app, '.data', 'pgdata')).isSymbolicLink()).toBe(true);
    expect(started.dataDir).toMatch(/^\/var\/lib\/realtime-orders\/[0-9a-f]{12}$/);
    const response = await fetch(`${started.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: 'mutation { createOrder(input: {customerName: "A", productName: "B"}) { version } }',
      }),
    });
    expect(await response.json()).toEqual({ data: { createOrder: { version: 1 } } });
    await stopByGroupSignal(started);
  }, 240_000);
});
