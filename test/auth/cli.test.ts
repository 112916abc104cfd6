import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createAuthenticator } from '../../src/auth/verify-token.ts';
import type { TestService } from '../helpers/service.ts';
import { waitFor } from '../helpers/wait.ts';
import { gql, startAuthService } from './harness.ts';
import { mint, SECRET } from './tokens.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const running = new Set<ChildProcess>();

/** A command as npm runs it (`node --import tsx <script>`), with its output collected. */
function run(script: string, args: string[], env: Record<string, string | undefined> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: `${ROOT}/test`, // no .env of the checkout is read
    env: { ...process.env, NO_COLOR: '1', AUTH_JWT_SECRET: undefined, ORDERS_TOKEN: undefined, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk;
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

const TOKEN_CLI = `${ROOT}/src/auth/token-cli.ts`;
const WATCH = `${ROOT}/src/watch/main.ts`;

let service: TestService;
beforeAll(async () => {
  service = await startAuthService();
});
afterAll(async () => {
  for (const child of running) child.kill('SIGKILL');
  await service?.stop();
});

describe('npm run token', () => {
  test('mints a token the server accepts: role, customer, subject, lifetime', async () => {
    const cli = run(TOKEN_CLI, ['--role', 'customer', '--customer', 'Ann', '--sub', 'ann', '--ttl', '10m'], {
      AUTH_JWT_SECRET: SECRET,
    });
    expect(await cli.exited).toBe(0);
    const access = await createAuthenticator({ secret: SECRET })(`Bearer ${cli.stdout().trim()}`);
    expect(access).toMatchObject({ role: 'customer', customer: 'Ann', subject: 'ann' });
    expect(access.expiresAt).toBeGreaterThan(Date.now() + 9 * 60_000);
    expect(access.expiresAt).toBeLessThan(Date.now() + 11 * 60_000);
  });

  test.each([
    [['--role', 'writer'], {}, /AUTH_JWT_SECRET is not set/],
    [['--role', 'admin'], { AUTH_JWT_SECRET: SECRET }, /--role must be one of reader, writer, customer/],
    [['--role', 'customer'], { AUTH_JWT_SECRET: SECRET }, /needs --customer/],
    [['--role', 'reader', '--ttl', 'soon'], { AUTH_JWT_SECRET: SECRET }, /--ttl must be a duration/],
  ])('%o: exit 2 with a clear message', async (args, env, message) => {
    const cli = run(TOKEN_CLI, args, env);
    expect(await cli.exited).toBe(2);
    expect(cli.stderr()).toMatch(message);
    expect(cli.stdout()).toBe('');
  });
});

describe('npm run watch with authentication on', () => {
  const url = () => ['--url', service.url, '--json'];

  test('without a token: one clear message and exit 1', async () => {
    const watcher = run(WATCH, url());
    expect(await watcher.exited).toBe(1);
    expect(watcher.stderr()).toMatch(/needs a token \(4403\): npm run watch -- --token JWT, or ORDERS_TOKEN/);
  });

  test('an expired or wrongly signed token: refused, with a hint', async () => {
    const watcher = run(WATCH, [...url(), '--token', await mint({ role: 'reader' }, { ttl: -5 })]);
    expect(await watcher.exited).toBe(1);
    expect(watcher.stderr()).toMatch(/refused the token \(4403\).*npm run token/);
  });

  test('--token (or ORDERS_TOKEN) watches what the token may see', async () => {
    const reader = run(WATCH, [...url(), '--token', await mint({ role: 'reader' })]);
    const customer = run(WATCH, url(), { ORDERS_TOKEN: await mint({ role: 'customer', customer: 'Ann' }) });
    for (const watcher of [reader, customer]) {
      await waitFor(() => /watching after/.test(watcher.stderr()), {
        timeoutMs: 20_000,
        message: watcher.stderr(),
      });
    }
    const writer = await mint({ role: 'writer', sub: 'cli' });
    for (const name of ['Bob', 'Ann']) {
      await gql(service, writer, 'mutation ($i: CreateOrderInput!) { createOrder(input: $i) { id } }', {
        i: { customerName: name, productName: 'watched' },
      });
    }
    const lines = (text: string) =>
      text
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line));
    await waitFor(() => lines(reader.stdout()).length === 2 && lines(customer.stdout()).length === 1);
    expect(lines(reader.stdout()).map((c) => c.order.customerName)).toEqual(['Bob', 'Ann']);
    expect(lines(customer.stdout()).map((c) => c.order.customerName)).toEqual(['Ann']);
    for (const watcher of [reader, customer]) {
      watcher.child.kill('SIGTERM');
      expect(await watcher.exited).toBe(0);
      // The resume hint never repeats the token.
      expect(watcher.stderr()).toMatch(/resume with: npm run watch -- .*--after/);
      expect(watcher.stderr()).not.toMatch(/--token/);
    }
  });
});
