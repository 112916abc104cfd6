import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { ConnectionGate, type ConnectionGateOptions } from './connection-gate.ts';
import type { Database } from './database.ts';
import { sessionOptions, setVersionedSettings } from './session-settings.ts';

export type Db = Kysely<Database>;

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
  const gate = new ConnectionGate(pool, options);
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({
      pool: gate,
      onCreateConnection: setVersionedSettings,
    }),
  });
  gates.set(db, gate);
  return db;
}

const gates = new WeakMap<Db, ConnectionGate>();

export interface DatabaseStatus {
  /** False while the gate refuses requests because the database does not answer. */
  reachable: boolean;
  /** Why not, when not. */
  reason: string | undefined;
  /** Connection-class errors seen since start. */
  connectionErrors: number;
}

/** What the connection gate of `db` knows (for /metrics); undefined for a Db made elsewhere. */
export function databaseStatus(db: Db): DatabaseStatus | undefined {
  const gate = gates.get(db);
  if (!gate) return undefined;
  return {
    reachable: gate.reason === undefined,
    reason: gate.reason,
    connectionErrors: gate.connectionErrors,
  };
}
