import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, expect, test } from 'vitest';
import { databaseUrl } from './helpers/database.ts';

const run = promisify(execFile);
const repo = path.resolve(import.meta.dirname, '..');
const name = `ro_migrate_${randomBytes(4).toString('hex')}`;

async function admin(text: string) {
  const client = new pg.Client({ connectionString: databaseUrl('postgres') });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

async function migrate(env: Record<string, string>) {
  const base = { ...process.env };
  delete base.DATABASE_URL;
  return run('npm', ['run', '--silent', 'migrate'], { cwd: repo, env: { ...base, ...env } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
}

afterAll(() => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));

test('npm run migrate applies every migration to DATABASE_URL, then has nothing to do', async () => {
  await admin(`CREATE DATABASE ${name}`);
  const url = databaseUrl(name);
  const first = await migrate({ DATABASE_URL: url });
  expect(first.code).toBe(0);
  expect(first.stdout).toMatch(/applied .*_orders, .*_change-log/);
  expect(first.stdout).not.toContain(new URL(url).password || '\u0000');

  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query(
    `INSERT INTO orders (customer_name, product_name, status) VALUES ('John Doe', 'Laptop', 'pending') RETURNING version`,
  );
  await client.end();
  expect(rows[0].version).toBe(1);

  const again = await migrate({ DATABASE_URL: url });
  expect(again.code).toBe(0);
  expect(again.stdout.trim()).toBe('already up to date');
}, 60_000);

test('npm run migrate without DATABASE_URL says so in one line and exits 1', async () => {
  const result = await migrate({});
  expect(result.code).toBe(1);
  expect(
    result.stderr
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('migrate:')),
  ).toEqual(['migrate: DATABASE_URL is not set (npm start migrates the embedded database itself)']);
}, 60_000);
