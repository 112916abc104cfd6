/** The processes `npm run bench` measures: the service (as `npm start` runs it) and the floor. */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { freePort } from '../../src/db/embedded.ts';

export interface Served {
  child: ChildProcess;
  pid: number;
  http: string;
  ws: string;
  stop(): Promise<void>;
}

async function serve(
  args: string[],
  env: Record<string, string>,
  ready: string,
  path: string,
): Promise<Served> {
  const port = await freePort();
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env, PORT: String(port), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => chunk.toString().includes(ready) && resolve());
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
  child.stdout?.resume();
  return {
    child,
    pid: child.pid as number,
    http: `http://127.0.0.1:${port}`,
    ws: `ws://127.0.0.1:${port}${path}`,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * The service as `npm start` runs it: the entry src/build/start-entry.mjs picks (the compiled build,
 * rebuilt first if stale). BENCH_SERVICE_ENTRY picks other node arguments, e.g.
 * "--import tsx src/main.ts" to measure the service run from its sources.
 */
export function startService(databaseUrl: string, env: Record<string, string> = {}): Promise<Served> {
  const entry =
    process.env.BENCH_SERVICE_ENTRY ??
    execFileSync(process.execPath, ['src/build/start-entry.mjs'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
  // e.g. BENCH_SERVICE_NODE_ARGS="--cpu-prof --cpu-prof-dir=prof" to profile the service.
  const nodeArgs = process.env.BENCH_SERVICE_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const args = [...nodeArgs, ...entry.split(' ').filter(Boolean)];
  return serve(args, { DATABASE_URL: databaseUrl, ...env }, 'is ready', '/graphql');
}

/** The floor: test/bench/floor.ts, or `script` (test/bench/mariadb-floor.ts on MariaDB). */
export function startFloor(databaseUrl: string, script = 'test/bench/floor.ts'): Promise<Served> {
  // e.g. BENCH_FLOOR_NODE_ARGS="--cpu-prof --cpu-prof-dir=prof-floor", to compare with the service's.
  const nodeArgs = process.env.BENCH_FLOOR_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  return serve(
    [...nodeArgs, '--import', 'tsx', script],
    { DATABASE_URL: databaseUrl },
    'floor is ready',
    '/',
  );
}
