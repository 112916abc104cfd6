import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { type ConnectionGateOptions, registerGate } from './connection-gate.ts';
import type { Database } from './database.ts';
import { PgGatedPool } from './pg-gated-pool.ts';
import { sessionOptions, setVersionedSettings } from './session-settings.ts';

export type Db = Kysely<Database>;

// Where /metrics has always taken them from; the gate is the same on MySQL/MariaDB.
export { type DatabaseStatus, databaseStatus } from './connection-gate.ts';

/**
 * How long a checkout may wait for a connection, or a connection for the server: a server that
 * is down refuses at once (ECONNREFUSED), but one behind a dropped network never answers, and a
 * full pool would queue requests behind each other.
 */
export const CONNECT_TIMEOUT_MS = 2_000;

// bigint ids and sequence values stay strings: JavaScript numbers cannot hold every int8.
export function createPool(connectionString: string, max = 10): pg.Pool {
  return new pg.Pool({
    connectionString,
    max,
    keepAlive: true,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    application_name: 'realtime-orders',
    // The service's own limits, whatever a DBA set on the database or role (see session-settings.ts).
    options: sessionOptions('pool'),
  });
}

/**
 * Kysely over the pool, behind a ConnectionGate: every pooled client has an error listener, and
 * while the database is unreachable queries fail at once with SERVICE_UNAVAILABLE.
 */
export function createDb(pool: pg.Pool, options: ConnectionGateOptions = {}): Db {
  const gated = new PgGatedPool(pool, options);
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({
      pool: gated,
      onCreateConnection: setVersionedSettings,
    }),
  });
  registerGate(db, gated.gate);
  return db;
}
