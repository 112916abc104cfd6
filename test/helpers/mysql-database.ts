import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { createMysqlDb, mysqlOptions } from '../../src/db/mysql.ts';
import type { TestDatabase } from './database.ts';

/** The MySQL/MariaDB server of the MySQL suite (a URL with an admin user), when one is given. */
export const mysqlServerUrl = process.env.TEST_MYSQL_URL;

const admin = (server = mysqlServerUrl as string) =>
  mysql.createConnection({ ...mysqlOptions(server), database: undefined });

/**
 * A database `name` and a user of the same name with what the README asks for: ALL on its
 * database plus REPLICATION SLAVE, REPLICATION CLIENT, BINLOG MONITOR (MariaDB), PROCESS and
 * RELOAD, and never SUPER. Returns the user's URL.
 */
export async function createDatabaseAndUser(serverUrl: string, name: string): Promise<string> {
  const password = randomBytes(12).toString('hex');
  const root = await admin(serverUrl);
  try {
    await root.query(`CREATE DATABASE ${name}`);
    await root.query(`CREATE USER '${name}'@'%' IDENTIFIED BY '${password}'`);
    await root.query(`GRANT ALL ON ${name}.* TO '${name}'@'%'`);
    await root
      .query(
        `GRANT REPLICATION SLAVE, REPLICATION CLIENT, BINLOG MONITOR, PROCESS, RELOAD ON *.* TO '${name}'@'%'`,
      )
      .catch(async () => {
        // MySQL has no BINLOG MONITOR; REPLICATION CLIENT covers SHOW MASTER STATUS there.
        await root.query(
          `GRANT REPLICATION SLAVE, REPLICATION CLIENT, PROCESS, RELOAD ON *.* TO '${name}'@'%'`,
        );
      });
  } finally {
    await root.end();
  }
  const server = new URL(serverUrl);
  return `mysql://${name}:${password}@${server.host}/${name}`;
}

export async function dropDatabaseAndUser(serverUrl: string, name: string): Promise<void> {
  const root = await admin(serverUrl);
  try {
    await root.query(`DROP DATABASE IF EXISTS ${name}`);
    await root.query(`DROP USER IF EXISTS '${name}'@'%'`);
  } finally {
    await root.end();
  }
}

/** A fresh, migrated database of its own and a user of its own (createDatabaseAndUser); the service and the tests' writers use that user. */
export async function createMysqlTestDatabase(
  serverUrl = mysqlServerUrl as string,
): Promise<TestDatabase & { user: string }> {
  const name = `ro_test_${randomBytes(6).toString('hex')}`;
  const url = await createDatabaseAndUser(serverUrl, name);
  const db = createMysqlDb(url, 5);
  await migrateToLatest(db);
  return {
    url,
    db,
    user: name,
    async sql(text, values) {
      const connection = await mysql.createConnection(mysqlOptions(url));
      try {
        // PostgreSQL's $1, $2 … become MySQL's ?, so that shared tests write their SQL once.
        const [rows] = await connection.query(text.replace(/\$\d+/g, '?'), values);
        return rows as never;
      } finally {
        await connection.end();
      }
    },
    async drop() {
      await db.destroy();
      await dropDatabaseAndUser(serverUrl, name);
    },
  };
}

/** Ends every connection of `user` with KILL CONNECTION, as a DBA would; returns how many. */
export async function killConnectionsOf(user: string): Promise<number> {
  const root = await admin();
  try {
    const [rows] = await root.query<mysql.RowDataPacket[]>(
      'SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ?',
      [user],
    );
    for (const row of rows) await root.query(`KILL CONNECTION ${Number(row.ID)}`).catch(() => {});
    return rows.length;
  } finally {
    await root.end();
  }
}
