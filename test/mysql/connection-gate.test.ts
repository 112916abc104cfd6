import { sql } from 'kysely';
import mysql from 'mysql2/promise';
import { afterAll, describe, expect, test } from 'vitest';
import { databaseStatus } from '../../src/db/connect.ts';
import { isConnectionError } from '../../src/db/connection-errors.ts';
import { createMysqlDb, mysqlOptions } from '../../src/db/mysql.ts';
import { createMysqlTestDatabase, mysqlServerUrl } from '../helpers/mysql-database.ts';
import { startSilentProxy } from '../helpers/silent-proxy.ts';
import { waitFor } from '../helpers/wait.ts';

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => {});
});

/** How a rejection ends: its error, or 'resolved'. */
const outcome = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved' as const,
    (error: unknown) => error as { code?: string; message?: string },
  );

describe.skipIf(!mysqlServerUrl)('the connection gate on MySQL/MariaDB (mysql2 pool)', () => {
  test('a statement whose session is killed fails with a connection error; the gate counts it and stays open', async () => {
    const database = await createMysqlTestDatabase();
    cleanups.push(() => database.drop());
    const db = createMysqlDb(database.url, 2);
    cleanups.push(() => db.destroy());
    const sleeping = outcome(sql`SELECT SLEEP(20)`.execute(db));
    const root = await mysql.createConnection({
      ...mysqlOptions(mysqlServerUrl as string),
      database: undefined,
    });
    cleanups.push(() => root.end());
    const id = await waitFor(async () => {
      const [rows] = await root.query<mysql.RowDataPacket[]>(
        "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ? AND INFO LIKE 'SELECT SLEEP%'",
        [database.user],
      );
      return rows[0]?.ID as number | undefined;
    });
    await root.query(`KILL CONNECTION ${Number(id)}`);
    const error = await sleeping;
    expect(error).not.toBe('resolved');
    expect(isConnectionError(error), JSON.stringify(error)).toBe(true);
    await waitFor(() => (databaseStatus(db)?.connectionErrors ?? 0) > 0, { message: 'the error counted' });
    // The probe answers: a killed session is not an outage, and the next request works.
    expect((await sql<{ one: number }>`SELECT 1 AS one`.execute(db)).rows).toEqual([{ one: 1 }]);
    expect(databaseStatus(db)?.reachable).toBe(true);
  });

  test('a network gone silent: the stalled query fails once a probe fails, later ones at once with SERVICE_UNAVAILABLE; open again once it answers', async () => {
    const database = await createMysqlTestDatabase();
    cleanups.push(() => database.drop());
    const proxy = await startSilentProxy(new URL(database.url));
    cleanups.push(() => proxy.close());
    const db = createMysqlDb(proxy.url, 2, { stallMs: 500, probeTimeoutMs: 500, probeIntervalMs: 200 });
    cleanups.push(() => db.destroy());
    expect((await sql<{ one: number }>`SELECT 1 AS one`.execute(db)).rows).toEqual([{ one: 1 }]);
    expect(databaseStatus(db)).toEqual({ reachable: true, reason: undefined, connectionErrors: 0 });

    proxy.silence();
    // Without the gate this would wait for ever: mysql2 has no query timeout.
    const stalled = await outcome(sql`SELECT 2`.execute(db));
    expect(stalled).not.toBe('resolved');
    expect(isConnectionError(stalled), JSON.stringify(stalled)).toBe(true);
    const status = databaseStatus(db);
    expect(status?.reachable).toBe(false);
    expect(status?.reason).toBeTruthy();
    expect(status?.connectionErrors).toBeGreaterThan(0);
    const refused = await outcome(sql`SELECT 3`.execute(db));
    expect((refused as { code?: string }).code).toBe('SERVICE_UNAVAILABLE');

    proxy.restore();
    await waitFor(() => databaseStatus(db)?.reachable, { timeoutMs: 10_000, message: 'the gate open again' });
    expect((await sql<{ one: number }>`SELECT 1 AS one`.execute(db)).rows).toEqual([{ one: 1 }]);
  });
});
