import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { CONNECT_TIMEOUT_MS } from './connect-timeout.ts';
import { type ConnectionGateOptions, registerGate } from './connection-gate.ts';
import type { Database } from './database.ts';
import { PgGatedPool } from './pg-gated-pool.ts';
import { sessionOptions, setVersionedSettings } from './session-settings.ts';

export type Db = Kysely<Database>;

// Where /metrics has always taken them from; the gate is the same on MySQL/MariaDB.
export { type DatabaseStatus, databaseStatus } from './connection-gate.ts';

/**
 * How long a request may wait for a pooled connection while all are busy. A database that is busy
 * but answers is not down: its requests queue, as at any SQL client, rather than failing with
 * SERVICE_UNAVAILABLE after CONNECT_TIMEOUT_MS (they did, under load, with a 20,000-row batch
 * being replayed). One that is down is the gate's to refuse at once (connection-gate.ts).
 */
export const POOL_WAIT_MS = 10_000;

/** pg.Pool bounds a checkout's wait and a new connection's connect with one setting: not here. */
class BoundedConnectClient extends pg.Client {
  constructor(config: pg.ClientConfig = {}) {
    super({ ...config, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  }
}

// bigint ids and sequence values stay strings: JavaScript numbers cannot hold every int8.
export function createPool(connectionString: string, max = 10): pg.Pool {
  return new pg.Pool({
    connectionString,
    max,
    keepAlive: true,
    Client: BoundedConnectClient,
    connectionTimeoutMillis: POOL_WAIT_MS,
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
