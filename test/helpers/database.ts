import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { createDb, createPool, type Db } from '../../src/db/connect.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { isMysqlUrl } from '../../src/db/mysql.ts';
import { createMysqlTestDatabase } from './mysql-database.ts';

export interface TestDatabase {
  url: string;
  db: Db;
  /** Runs plain SQL on a connection of its own, as psql or another service would. */
  sql<R extends pg.QueryResultRow = Record<string, unknown>>(text: string, values?: unknown[]): Promise<R[]>;
  drop(): Promise<void>;
}

export function databaseUrl(name: string, server = inject('postgresServerUrl')): string {
  const url = new URL(server);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * A fresh, migrated database of its own, so test files can run in parallel. In the MySQL project
 * of vitest.config.ts (TEST_BACKEND=mysql), a MySQL/MariaDB one on TEST_MYSQL_URL's server: the
 * files that project lists run unchanged on both.
 */
export async function createTestDatabase(server?: string): Promise<TestDatabase> {
  if (process.env.TEST_BACKEND === 'mysql' && server === undefined) return createMysqlTestDatabase();
  return createPostgresTestDatabase(server ?? inject('postgresServerUrl'));
}

async function createPostgresTestDatabase(server: string): Promise<TestDatabase> {
  const name = `ro_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: databaseUrl('postgres', server) });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = databaseUrl(name, server);
  const pool = createPool(url, 5);
  const db = createDb(pool);
  await migrateToLatest(db);
  return {
    url,
    db,
    async sql(text, values) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return (await client.query(text, values)).rows;
      } finally {
        await client.end();
      }
    },
    async drop() {
      await db.destroy();
      const client = new pg.Client({ connectionString: databaseUrl('postgres', server) });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/**
 * A real database fault instead of a mock: inserting an order named `explode` fails inside
 * PostgreSQL with a message that must never reach a client. Returns the undo.
 */
export async function failInsertsNamedExplode(database: TestDatabase): Promise<() => Promise<void>> {
  if (isMysqlUrl(database.url)) {
    await database.sql(`
      CREATE TRIGGER explode BEFORE INSERT ON orders FOR EACH ROW
      BEGIN IF NEW.customer_name = 'explode' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'secret internal detail'; END IF; END`);
    return async () => {
      await database.sql('DROP TRIGGER explode');
    };
  }
  await database.sql(`
    CREATE OR REPLACE FUNCTION explode() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'secret internal detail'; END $$`);
  await database.sql(`
    CREATE TRIGGER explode BEFORE INSERT ON orders FOR EACH ROW
    WHEN (NEW.customer_name = 'explode') EXECUTE FUNCTION explode()`);
  return async () => {
    await database.sql('DROP TRIGGER explode ON orders');
  };
}
