import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mysqlOptions } from '../../src/db/mysql.ts';
import { createMysqlTestDatabase, mysqlServerUrl } from '../helpers/mysql-database.ts';
import {
  canRunPrivateMariadb,
  type PrivateMariadb,
  startPrivateMariadb,
} from '../helpers/private-mariadb.ts';
import { startTestService } from '../helpers/service.ts';

const run = promisify(execFile);
const repo = path.resolve(import.meta.dirname, '../..');

async function migrate(url: string) {
  return run('npm', ['run', '--silent', 'migrate'], {
    cwd: repo,
    env: { ...process.env, DATABASE_URL: url },
  }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
}

const cleanups: (() => Promise<void>)[] = [];

/** A database and a user without SUPER on `server`, not migrated (dropped after the file). */
async function emptyDatabase(server: string): Promise<string> {
  const database = await createMysqlTestDatabase(server);
  cleanups.push(() => database.drop());
  const root = await mysql.createConnection({ ...mysqlOptions(server), database: undefined });
  const name = database.user;
  await root.query(`DROP DATABASE ${name}`);
  await root.query(`CREATE DATABASE ${name}`);
  await root.end();
  return database.url;
}

describe.skipIf(!mysqlServerUrl || !(await canRunPrivateMariadb()))(
  'npm run migrate and required settings on MariaDB',
  () => {
    let plain: PrivateMariadb;
    beforeAll(async () => {
      plain = await startPrivateMariadb({ binlog: false });
    });
    afterAll(async () => {
      for (const cleanup of cleanups) await cleanup();
      await plain?.remove();
    });

    test('npm run migrate applies the MySQL migrations, then has nothing to do', async () => {
      const url = await emptyDatabase(mysqlServerUrl as string);
      const first = await migrate(url);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toMatch(/applied .*_orders/);
      const second = await migrate(url);
      expect(second.stdout).toMatch(/already up to date/);
    });

    test('a server without the binary log: the start and npm run migrate fail with one line naming log_bin', async () => {
      const url = await emptyDatabase(plain.url);
      const result = await migrate(url);
      expect(result.code).not.toBe(0);
      expect(result.stderr.trim().split('\n').at(-1)).toMatch(
        /^migrate: MySQL setting log_bin is OFF, must be ON/,
      );
      await expect(
        startTestService({
          database: { url, db: undefined as never, sql: async () => [], drop: async () => {} },
        }),
      ).rejects.toThrow(/^MySQL setting log_bin is OFF, must be ON/);
    });
  },
);
