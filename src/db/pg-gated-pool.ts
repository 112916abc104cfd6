import type { PostgresPool, PostgresPoolClient } from 'kysely';
import pg from 'pg';
import { withDeadline } from '../deadline.ts';
import { ConnectionGate, type ConnectionGateOptions } from './connection-gate.ts';
import { destroySocket, streamOf } from './pg-socket.ts';

/**
 * A pg.Pool behind a ConnectionGate, as Kysely's PostgresDialect takes it.
 *
 * Every client the pool creates gets an error listener here: pg's pool listens only on idle
 * clients, and a client that loses its session while checked out (Kysely holds one for a whole
 * transaction) would otherwise emit an unhandled 'error' and end the process.
 */
export class PgGatedPool implements PostgresPool {
  readonly gate: ConnectionGate<pg.PoolClient>;

  constructor(
    readonly pool: pg.Pool,
    options: ConnectionGateOptions = {},
  ) {
    this.gate = new ConnectionGate<pg.PoolClient>(
      {
        probe: (timeoutMs) => probe(pool, timeoutMs),
        destroy: (client) => streamOf(client)?.destroy(),
        // "too many clients already": up, and full.
        isFull: (error) => (error as { code?: unknown }).code === '53300',
        // Beyond the pool's statement_timeout (30 s), after which the server would have answered.
        hungMs: 40_000,
      },
      options,
    );
    const gate = this.gate;
    pool.on('connect', (client) => {
      gate.tracked(client);
      client.on('error', (error) => gate.report(error));
    });
    pool.on('acquire', (client) => gate.acquired(client));
    pool.on('release', (_error, client) => gate.released(client));
    pool.on('remove', (client) => gate.forget(client));
    // An idle client losing its server: the pool drops it; the gate checks whether that was all.
    pool.on('error', (error) => gate.report(error));
  }

  async connect(): Promise<PostgresPoolClient> {
    this.gate.admit();
    try {
      return await this.pool.connect();
    } catch (error) {
      this.gate.report(error);
      throw error;
    }
  }

  async end(): Promise<void> {
    this.gate.close();
    await this.pool.end();
  }
}

async function probe(pool: pg.Pool, timeoutMs: number): Promise<void> {
  const client = new pg.Client({ ...pool.options, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => {});
  try {
    await withDeadline(
      client.connect().then(() => client.query('SELECT 1')),
      timeoutMs,
    );
  } finally {
    destroySocket(client);
  }
}
