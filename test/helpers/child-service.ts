import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { freePort } from '../../src/db/embedded.ts';
import { waitFor } from './wait.ts';

const repo = path.resolve(import.meta.dirname, '../..');

export interface ChildService {
  child: ChildProcess;
  url: string;
  wsUrl: string;
  /** Everything it wrote, stdout and stderr (pino's JSON lines included). */
  output(): string;
  alive(): boolean;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Log lines about unhandled rejections or uncaught exceptions: there must be none. */
  survivedErrors(): string[];
  kill(): void;
}

/**
 * The service as `npm start` runs it (`node --import tsx src/main.ts`), in a process of its own;
 * resolves once it listens. On a free port unless `env.PORT` names one (to start it again there).
 */
export async function spawnService(
  env: Record<string, string>,
  /** Extra `node` options, e.g. another `--import`. */
  nodeArgs: string[] = [],
): Promise<ChildService> {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const base = { ...process.env };
  for (const name of ['DATABASE_URL', 'PORT', 'HOST', 'LOG_LEVEL', 'DATA_DIR', 'CHANGE_RETENTION']) {
    delete base[name];
  }
  const child = spawn(process.execPath, ['--import', 'tsx', ...nodeArgs, 'src/main.ts'], {
    cwd: repo,
    env: { ...base, PORT: String(port), LOG_LEVEL: 'info', ...env },
    stdio: 'pipe',
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = `http://127.0.0.1:${port}`;
  const alive = () => child.exitCode === null && child.signalCode === null;
  await waitFor(
    async () => {
      if (!alive()) throw new Error(`the service exited: ${output}`);
      return (await fetch(`${url}/health`).catch(() => undefined))?.status === 200;
    },
    { timeoutMs: 60_000, message: 'the service to listen' },
  );
  return {
    child,
    url,
    wsUrl: `${url.replace(/^http/, 'ws')}/graphql`,
    output: () => output,
    alive,
    exited,
    survivedErrors: () =>
      output.split('\n').filter((line) => /unhandled rejection|uncaught exception/i.test(line)),
    kill: () => {
      if (alive()) child.kill('SIGKILL');
    },
  };
}

/**
 * spawnService, resolved only once the service says it is ready (database reached, feed
 * started), when requests are no longer held.
 */
export async function spawnReadyService(env: Record<string, string>): Promise<ChildService> {
  const service = await spawnService(env);
  try {
    await waitFor(() => service.output().includes('is ready') || !service.alive(), { timeoutMs: 30_000 });
  } catch (error) {
    service.kill();
    throw error;
  }
  if (!service.alive()) throw new Error(`the service exited: ${service.output()}`);
  return service;
}

/** A port that refuses connections until `open()` forwards it to the database of `target`. */
export async function delayedDatabase(target: string) {
  const upstreamUrl = new URL(target);
  const port = await freePort();
  const connections = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(upstreamUrl.port), upstreamUrl.hostname);
    connections.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  const url = new URL(target);
  url.port = String(port);
  return {
    url: url.toString(),
    open: () => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve)),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of connections) socket.destroy();
        server.close(() => resolve());
        if (!server.listening) resolve();
      }),
  };
}

/** The number of open subscriptions, from /metrics. */
export async function subscriptionCount(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const match = /^realtime_orders_subscriptions (\d+)/m.exec(text);
  return match ? Number(match[1]) : 0;
}
