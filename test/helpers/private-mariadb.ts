import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { waitFor } from './wait.ts';

const run = promisify(execFile);

export interface PrivateMariadb {
  /** root, no password, no database: as TEST_MYSQL_URL. */
  url: string;
  /** A normal shutdown (SIGTERM): connections closed, InnoDB flushed. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash: InnoDB recovers on the next start. */
  kill(): Promise<void>;
  start(): Promise<void>;
  remove(): Promise<void>;
}

/** Whether this machine can run a MariaDB server of a test's own (mariadb-install-db, mariadbd). */
export async function canRunPrivateMariadb(): Promise<boolean> {
  return (
    existsSync('/usr/sbin/mariadbd') &&
    (await run('which', ['mariadb-install-db']).then(
      () => true,
      () => false,
    ))
  );
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A MariaDB server of the test's own, in a temp dir, with the binary log as the README asks: tests
 * that stop and restart the server must never touch the machine's (test/faults does the same with
 * PostgreSQL clusters of their own).
 */
export async function startPrivateMariadb(
  options: {
    binlog?: boolean /** More server options, e.g. `--max-connections=30`. */;
    args?: string[];
  } = {},
): Promise<PrivateMariadb> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'realtime-orders-mariadb-'));
  const data = path.join(dir, 'data');
  // Temporary files of its own: two servers installed at once in the shared /tmp (two tests side
  // by side) collided on a temporary table's file, and one install failed.
  const tmp = path.join(dir, 'tmp');
  mkdirSync(tmp);
  await run('mariadb-install-db', [
    '--no-defaults',
    `--datadir=${data}`,
    `--tmpdir=${tmp}`,
    '--user=root',
    '--auth-root-authentication-method=normal',
    '--skip-test-db',
  ]);
  const port = await freePort();
  const url = `mysql://root@127.0.0.1:${port}/`;
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(
      '/usr/sbin/mariadbd',
      [
        '--no-defaults',
        `--datadir=${data}`,
        `--tmpdir=${tmp}`,
        `--socket=${path.join(dir, 'mysqld.sock')}`,
        `--pid-file=${path.join(dir, 'mysqld.pid')}`,
        `--port=${port}`,
        '--bind-address=127.0.0.1',
        '--user=root',
        '--skip-name-resolve',
        '--innodb-buffer-pool-size=64M',
        '--server-id=1',
        // Without: a server as MariaDB ships (no binary log, binlog_format MIXED).
        ...(options.binlog === false
          ? []
          : [
              `--log-bin=${path.join(data, 'binlog')}`,
              '--binlog-format=ROW',
              '--binlog-row-image=FULL',
              '--binlog-row-metadata=FULL',
              '--log-bin-trust-function-creators=1',
            ]),
        '--character-set-server=utf8mb4',
        ...(options.args ?? []),
      ],
      { stdio: 'ignore' },
    );
    await waitFor(
      async () => {
        const connection = await mysql
          .createConnection({ host: '127.0.0.1', port, user: 'root' })
          .catch(() => undefined);
        await connection?.end();
        return connection !== undefined;
      },
      { timeoutMs: 30_000, message: 'the private MariaDB answering' },
    );
  };
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    const running = child;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill(signal);
    await exited;
  };
  await start();
  return {
    url,
    start,
    stop: () => stop(),
    kill: () => stop('SIGKILL'),
    async remove() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
