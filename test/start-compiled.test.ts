import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, symlinkSync, utimesSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, expect, inject, test } from 'vitest';
import { freePort } from '../src/db/embedded.ts';
import { databaseUrl } from './helpers/database.ts';
import { waitFor } from './helpers/wait.ts';

// `npm start` runs the compiled build (dist/src/main.js, far less memory than tsx): built first
// when missing (a copy without `npm install`'s prepare) or older than src/ (sources edited
// without a reinstall), and reused as is when fresh. The build's migrations (.js) are the ones
// applied. SIGTERM reaches node itself (`exec`), which stops cleanly.

const repo = path.resolve(import.meta.dirname, '..');
const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

function copyWithoutBuild(): string {
  const app = path.join(mkdtempSync(path.join(os.tmpdir(), 'ro-compiled-')), 'app');
  const skip = new Set(['node_modules', '.data', '.git', '.env', 'dist', 'test-artifacts']);
  cpSync(repo, app, { recursive: true, filter: (src) => !skip.has(path.basename(src)) });
  symlinkSync(path.join(repo, 'node_modules'), path.join(app, 'node_modules'));
  cleanups.push(() => rmSync(path.dirname(app), { recursive: true, force: true }));
  return app;
}

async function emptyDatabase(): Promise<string> {
  const name = `ro_compiled_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: databaseUrl('postgres', inject('postgresServerUrl')) });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  cleanups.push(async () => {
    const c = new pg.Client({ connectionString: databaseUrl('postgres', inject('postgresServerUrl')) });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.end();
  });
  return databaseUrl(name, inject('postgresServerUrl'));
}

/** Runs `npm start` until ready; returns its stderr, the command line of the node it became, and a stop. */
async function npmStart(app: string, url: string) {
  const port = await freePort();
  const env: Record<string, string | undefined> = { ...process.env, DATABASE_URL: url, PORT: String(port) };
  for (const name of ['HOST', 'LOG_LEVEL', 'DATA_DIR', 'CHANGE_RETENTION', 'NODE_ENV']) delete env[name];
  const child: ChildProcess = spawn('npm', ['start'], { cwd: app, env, detached: true, stdio: 'pipe' });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  child.stdout?.resume();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  cleanups.push(() => {
    try {
      process.kill(-(child.pid as number), 'SIGKILL');
    } catch {}
  });
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}: ${stderr}`);
      return (await fetch(`http://127.0.0.1:${port}/ready`).catch(() => undefined))?.status === 200;
    },
    { timeoutMs: 90_000, message: 'npm start to be ready' },
  );
  // The group's processes: npm, and the shell that exec'd node (so: node, with the shell's pid).
  const group = execFileSync('ps', ['-o', 'pid=,args=', '-g', String(child.pid)], { encoding: 'utf8' });
  return {
    stderr: () => stderr,
    group,
    stop: async () => {
      process.kill(-(child.pid as number), 'SIGTERM');
      return exited;
    },
  };
}

const building = /realtime-orders: .*building it/;

test('npm start builds a missing or stale build, runs it with plain node, and stops on SIGTERM', async () => {
  const app = copyWithoutBuild();
  const url = await emptyDatabase();

  const first = await npmStart(app, url);
  expect(first.stderr()).toMatch(/dist\/ has no build; building it/);
  expect(first.group).toMatch(/node dist\/src\/main\.js/);
  expect(first.group).not.toMatch(/tsx/);
  expect(await first.stop()).toBe(0);

  const sql = new pg.Client({ connectionString: url });
  await sql.connect();
  cleanups.push(() => sql.end());
  const { rows } = await sql.query<{ name: string }>('SELECT name FROM kysely_migration ORDER BY name');
  // PostgreSQL's migrations: the .ts files of migrations/ (migrations/mysql/ is MySQL's).
  const sources = readdirSync(path.join(app, 'migrations'))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.replace(/\.ts$/, ''));
  expect(rows.map((r) => r.name)).toEqual(sources.sort());

  // Fresh: started as it is, nothing rebuilt.
  const second = await npmStart(app, url);
  expect(second.stderr()).not.toMatch(building);
  expect(second.group).toMatch(/node dist\/src\/main\.js/);
  expect(await second.stop()).toBe(0);

  // A source edited after the build: rebuilt before starting.
  await new Promise((r) => setTimeout(r, 1_100));
  const now = new Date();
  utimesSync(path.join(app, 'src', 'config.ts'), now, now);
  const third = await npmStart(app, url);
  expect(third.stderr()).toMatch(/older than src\/; building it/);
  expect(third.group).toMatch(/node dist\/src\/main\.js/);
  expect(await third.stop()).toBe(0);
}, 240_000);
