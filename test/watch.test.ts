import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseWatchArgs, resumeCommand, toWebSocketUrl, UsageError } from '../src/watch/args.ts';
import { formatChange, type OrderChange } from '../src/watch/format.ts';
import { onMysql } from './changes/backend-sql.ts';
import { insertOrders } from './changes/order-writer.ts';
import { createTestDatabase } from './helpers/database.ts';
import { startTestService, type TestService } from './helpers/service.ts';
import { waitFor } from './helpers/wait.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

// On PostgreSQL and on MySQL/MariaDB (vitest project `mysql`): the watcher only talks to the service.

interface WatcherProcess {
  child: ChildProcess;
  lines: string[];
  stderr(): string;
  exited: Promise<number | null>;
  /** The parsed lines, for --json. */
  changes(): OrderChange[];
}

const running = new Set<ChildProcess>();

/** The real watcher, as `npm run watch -- …` runs it, with its stdout split in lines. */
function startWatcher(args: string[]): WatcherProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/watch/main.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const lines: string[] = [];
  let stderr = '';
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => lines.push(line));
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  return {
    child,
    lines,
    stderr: () => stderr,
    exited,
    changes: () => lines.map((line) => JSON.parse(line) as OrderChange),
  };
}

/** Started once it says so: from then on every committed change is after its cursor. */
async function watching(watcher: WatcherProcess): Promise<void> {
  await waitFor(() => /watching after \S+/.test(watcher.stderr()), {
    timeoutMs: 20_000,
    message: 'the watcher to start',
  });
}

async function insert(service: { database: TestService['database'] }, customer: string, status = 'pending') {
  const [id] = await insertOrders(service.database.url, [{ customer, product: 'Laptop', status }]);
  return id as string;
}

let service: TestService;
beforeAll(async () => {
  service = await startTestService();
});
afterAll(async () => {
  for (const child of running) child.kill('SIGKILL');
  await service?.stop();
});

test('prints a readable line for an INSERT made by plain SQL', async () => {
  const watcher = startWatcher(['--url', service.url]);
  await watching(watcher);
  await service.database.sql(
    `INSERT INTO orders (customer_name, product_name, status) VALUES ('John Doe', 'Laptop', 'pending')`,
  );
  const line = await waitFor(() => watcher.lines.find((l) => l.includes('John Doe')));
  expect(line).toMatch(/^\d\d:\d\d:\d\d\.\d{3} {2}INSERT {2}#\d+ {2}John Doe \/ Laptop ×1 {2}→ PENDING$/);
  watcher.child.kill('SIGTERM');
  expect(await watcher.exited).toBe(0);
});

test('--json prints one complete OrderChange per line, old and new values included', async () => {
  const watcher = startWatcher(['--url', service.wsUrl, '--json']);
  await watching(watcher);
  const created = await service.graphql(
    `mutation { createOrder(input: { customerName: "Ann", productName: "Phone" }) { id } }`,
  );
  const id = created.data.createOrder.id;
  await service.graphql(`mutation ($id: ID!) { updateOrder(id: $id, input: { status: SHIPPED }) { id } }`, {
    id,
  });
  await waitFor(() => watcher.lines.length >= 2);
  const [insert, update] = watcher.changes();
  expect(insert).toMatchObject({ operation: 'INSERT', order: { id, customerName: 'Ann' }, previous: null });
  expect(update).toMatchObject({
    operation: 'UPDATE',
    order: { id, status: 'SHIPPED', version: 2 },
    previous: { status: 'PENDING', version: 1 },
  });
  expect(update?.changedFields).toContain('status');
  expect(Object.keys(update as object).sort()).toEqual(
    ['changedFields', 'committedAt', 'cursor', 'operation', 'order', 'previous'].sort(),
  );
  watcher.child.kill('SIGTERM');
  await watcher.exited;
});

test('--status (any case) and --operation filter the changes', async () => {
  const watcher = startWatcher(['--url', service.url, '--json', '--status', 'Shipped,delivered']);
  await watching(watcher);
  const pending = await insert(service, 'Filter pending');
  const shipped = await insert(service, 'Filter shipped', 'shipped');
  await service.database.sql(`UPDATE orders SET status = 'shipped' WHERE id = $1`, [pending]);
  const last = await insert(service, 'Filter delivered', 'delivered');
  await waitFor(() => watcher.changes().some((c) => c.order.id === last));
  expect(watcher.changes().map((c) => [c.operation, c.order.id])).toEqual([
    ['INSERT', shipped],
    ['UPDATE', pending],
    ['INSERT', last],
  ]);
  watcher.child.kill('SIGTERM');

  const updates = startWatcher([
    '--url',
    service.url,
    '--json',
    '--operation',
    'UPDATE',
    '--status',
    'pending',
  ]);
  await watching(updates);
  const order = await insert(service, 'Filter op');
  await service.database.sql(`UPDATE orders SET quantity = 5 WHERE id = $1`, [order]);
  await service.database.sql(`UPDATE orders SET status = 'processing' WHERE id = $1`, [order]);
  await service.database.sql(`UPDATE orders SET quantity = 6 WHERE id = $1`, [order]);
  await waitFor(() => updates.changes().some((c) => c.order.status === 'PROCESSING'));
  await new Promise((r) => setTimeout(r, 300));
  expect(updates.changes().map((c) => [c.operation, c.previous?.status, c.order.status])).toEqual([
    ['UPDATE', 'PENDING', 'PENDING'],
    ['UPDATE', 'PENDING', 'PROCESSING'],
  ]);
  updates.child.kill('SIGTERM');
  await Promise.all([watcher.exited, updates.exited]);
});

test('--after replays the history after that cursor, then goes on live', async () => {
  const ids = [await insert(service, 'History 1'), await insert(service, 'History 2')];
  // History holds a change once the feed has made a tick of it, a moment after its commit.
  const history = await waitFor(async () => {
    const { data } = await service.graphql(
      `query ($ids: [ID!]) { orderChanges(where: { ids: $ids }) { cursor } }`,
      { ids },
    );
    return data.orderChanges.length === 2 && data;
  });
  const [first, second] = history.orderChanges.map((c: { cursor: string }) => c.cursor);
  const watcher = startWatcher(['--url', service.url, '--json', '--after', first]);
  await waitFor(() => watcher.lines.length >= 1, { timeoutMs: 20_000 });
  const live = await insert(service, 'History 3');
  await waitFor(() => watcher.changes().some((c) => c.order.id === live));
  const changes = watcher.changes();
  expect(changes[0]?.cursor).toBe(second);
  expect(changes.map((c) => c.order.id)).toEqual([ids[1], live]);
  watcher.child.kill('SIGTERM');
  await watcher.exited;
});

test('SIGTERM prints the cursor to resume from, and resuming from it loses nothing', async () => {
  const watcher = startWatcher(['--url', service.url, '--json', '--status', 'pending']);
  await watching(watcher);
  const id = await insert(service, 'Resume 1');
  const change = await waitFor(() => watcher.changes().find((c) => c.order.id === id));
  watcher.child.kill('SIGTERM');
  expect(await watcher.exited).toBe(0);
  const command = `npm run watch -- --status pending --url ${service.url} --json --after ${change.cursor}`;
  expect(watcher.stderr()).toContain(`resume with: ${command}`);

  const missed = await insert(service, 'Resume 2');
  const resumed = startWatcher(command.replace('npm run watch -- ', '').split(' '));
  await waitFor(() => resumed.changes().some((c) => c.order.id === missed), { timeoutMs: 20_000 });
  expect(resumed.changes().map((c) => c.order.id)).toEqual([missed]);
  resumed.child.kill('SIGINT');
  expect(await resumed.exited).toBe(0);
});

describe('across a server restart', () => {
  test('a change made while the server is down is printed exactly once after it comes back', async () => {
    const database = await createTestDatabase();
    let first: TestService | undefined = await startTestService({ database });
    let second: TestService | undefined;
    try {
      const port = Number(new URL(first.url).port);
      const watcher = startWatcher(['--url', first.url, '--json']);
      await watching(watcher);
      const before = await insert(first, 'Before restart');
      await waitFor(() => watcher.changes().some((c) => c.order.id === before));

      await first.stop();
      first = undefined;
      const during = await insert({ database }, 'While down');
      await waitFor(() => watcher.stderr().includes('connection lost'));
      second = await startTestService({ database, port });
      await waitFor(() => watcher.changes().some((c) => c.order.id === during), { timeoutMs: 20_000 });
      expect(watcher.stderr()).toMatch(/reconnected; resuming after \S+/);
      const after = await insert(second, 'After restart');
      await waitFor(() => watcher.changes().some((c) => c.order.id === after));

      const changes = watcher.changes();
      expect(changes.map((c) => c.order.id)).toEqual([before, during, after]);
      const cursors = changes.map((c) => c.cursor);
      expect([...cursors].sort()).toEqual(cursors);
      watcher.child.kill('SIGTERM');
      await watcher.exited;
    } finally {
      await first?.stop();
      await second?.stop();
      await database.drop();
    }
  });
});

// Without a database (no server, or the watcher alone): these run once, in the postgres project.
const withoutDatabase = describe.skipIf(onMysql);

describe('errors', () => {
  withoutDatabase('without a server', () => {
    test('an unreachable server ends the watcher with one clear message and a non-zero code', async () => {
      const port = await freePort();
      const started = Date.now();
      const watcher = startWatcher(['--url', `http://127.0.0.1:${port}`]);
      expect(await watcher.exited).toBe(1);
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(watcher.stderr().trim()).toBe(
        `watch: cannot reach the server at ws://127.0.0.1:${port}/graphql: connect ECONNREFUSED 127.0.0.1:${port}`,
      );
      expect(watcher.lines).toEqual([]);
    });
  });

  test('a malformed cursor ends the watcher with the server’s BAD_USER_INPUT', async () => {
    const watcher = startWatcher(['--url', service.url, '--after', 'not-a-cursor']);
    expect(await watcher.exited).toBe(1);
    expect(watcher.stderr()).toMatch(/BAD_USER_INPUT: after: .*--after/);
    expect(watcher.stderr()).not.toContain('resume with');
  });

  withoutDatabase('without a server', () => {
    test('bad flags print the usage and exit 2', async () => {
      for (const args of [
        ['--status', 'lost'],
        ['--operation', 'upsert'],
        ['--colour'],
        ['--url', 'ftp://x'],
      ]) {
        const watcher = startWatcher(args);
        expect(await watcher.exited).toBe(2);
        expect(watcher.stderr()).toContain('Usage: npm run watch -- [options]');
      }
    });
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

withoutDatabase('arguments and lines', () => {
  test('filters repeat or take commas, in any case; URLs may be http(s) or ws(s)', () => {
    const args = parseWatchArgs([
      '--status',
      'Shipped,pending',
      '--status',
      'SHIPPED',
      '--operation',
      'update',
    ]);
    expect(args.where).toEqual({ statuses: ['SHIPPED', 'PENDING'], operations: ['UPDATE'] });
    expect(args.url).toBe('ws://127.0.0.1:4000/graphql');
    expect(toWebSocketUrl('https://orders.example.com')).toBe('wss://orders.example.com/graphql');
    expect(toWebSocketUrl('ws://127.0.0.1:4321/graphql')).toBe('ws://127.0.0.1:4321/graphql');
    expect(() => parseWatchArgs(['--after', 'a', '--after', 'b'])).toThrow(UsageError);
    expect(resumeCommand(parseWatchArgs(['--json', '--status', 'pending']), "it's")).toBe(
      `npm run watch -- --status pending --json --after 'it'\\''s'`,
    );
  });

  test('an UPDATE line shows the status change and the other changed values', () => {
    const state = {
      customerName: 'Ann',
      productName: 'Phone',
      quantity: 1,
      status: 'PENDING',
      version: 1,
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
    };
    const line = formatChange({
      cursor: 'c',
      operation: 'UPDATE',
      order: { ...state, id: '7', quantity: 2, status: 'SHIPPED', version: 2 },
      previous: state,
      changedFields: ['quantity', 'status', 'version'],
      committedAt: '2026-01-01T00:00:01.000Z',
    });
    expect(line).toMatch(
      /^\S+ {2}UPDATE {2}#7 {2}Ann \/ Phone ×2 {2}PENDING → SHIPPED {2}quantity 1 → 2 {2}\(quantity, status, version\)$/,
    );
  });
});
