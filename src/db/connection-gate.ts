import type { PostgresPool, PostgresPoolClient } from 'kysely';
import pg from 'pg';
import { withDeadline } from '../deadline.ts';
import type { Logger } from '../log.ts';
import { isConnectionError, serviceUnavailable } from './connection-errors.ts';

export interface ConnectionGateOptions {
  log?: Logger;
  /** A probe (a fresh connection and `SELECT 1`) that takes longer than this fails (default 2000 ms). */
  probeTimeoutMs?: number;
  /** While the database is unreachable, probe this often (default 1000 ms). */
  probeIntervalMs?: number;
  /** A client checked out this long makes the gate ask whether the database still answers (default 2000 ms). */
  stallMs?: number;
  /**
   * A checkout held this long is taken for dead and its socket destroyed (default 40 s: longer
   * than the pool's statement_timeout, after which the server would have answered).
   */
  hungMs?: number;
  /** Called when the database becomes unreachable (a reason) or reachable again (undefined). */
  onChange?: (reason: string | undefined) => void;
}

/**
 * Stands between the pool and Kysely so that, while the database cannot be reached, queries and
 * mutations fail at once with SERVICE_UNAVAILABLE instead of each waiting for a timeout.
 *
 * A connection error on any pooled client, or a client checked out for longer than `stallMs`,
 * starts a probe on a fresh connection. Only a failed probe closes the gate: a session killed by
 * pg_terminate_backend, a query that waits for a lock, or a server that is up but full (53300)
 * leaves it open. While closed, checkouts are refused at once and the probe repeats; the first
 * probe that succeeds opens it again. A failed probe also destroys the stalled checkouts: on a
 * network that dropped silently their queries would otherwise wait for TCP to give up (minutes).
 *
 * Every client the pool creates gets an error listener here: pg's pool listens only on idle
 * clients, and a client that loses its session while checked out (Kysely holds one for a whole
 * transaction) would otherwise emit an unhandled 'error' and end the process.
 */
export class ConnectionGate implements PostgresPool {
  private readonly clients = new Map<pg.PoolClient, number | undefined>();
  private unreachable: string | undefined;
  private probing: Promise<void> | undefined;
  private ended = false;
  private readonly watchdog: NodeJS.Timeout;

  constructor(
    readonly pool: pg.Pool,
    private readonly options: ConnectionGateOptions = {},
  ) {
    pool.on('connect', (client) => {
      this.clients.set(client, undefined);
      client.on('error', (error) => this.report(error));
    });
    pool.on('acquire', (client) => this.clients.set(client, Date.now()));
    pool.on('release', (_error, client) => this.clients.has(client) && this.clients.set(client, undefined));
    pool.on('remove', (client) => this.clients.delete(client));
    // An idle client losing its server: the pool drops it; the gate checks whether that was all.
    pool.on('error', (error) => this.report(error));
    const stallMs = options.stallMs ?? 2_000;
    const hungMs = options.hungMs ?? 40_000;
    this.watchdog = setInterval(
      () => {
        const now = Date.now();
        let stalled = false;
        for (const [client, since] of this.clients) {
          if (since === undefined) continue;
          if (now - since > stallMs) stalled = true;
          if (now - since > hungMs) {
            options.log?.warn({ heldMs: now - since }, 'a database connection stopped answering; dropped');
            streamOf(client)?.destroy();
          }
        }
        if (stalled) void this.probe();
      },
      Math.max(250, stallMs / 2),
    );
    this.watchdog.unref();
  }

  /** Connection-class errors seen so far: sessions lost, connections refused (a metric). */
  connectionErrors = 0;

  /** Why the database is considered unreachable, or undefined while it answers. */
  get reason(): string | undefined {
    return this.unreachable;
  }

  async connect(): Promise<PostgresPoolClient> {
    if (this.unreachable !== undefined) throw serviceUnavailable();
    try {
      return await this.pool.connect();
    } catch (error) {
      this.report(error);
      throw error;
    }
  }

  async end(): Promise<void> {
    this.ended = true;
    clearInterval(this.watchdog);
    await this.pool.end();
  }

  /** Tells the gate about an error; a connection error starts a probe. */
  report(error: unknown): void {
    if (!isConnectionError(error)) return;
    this.connectionErrors++;
    void this.probe();
  }

  private probe(): Promise<void> {
    this.probing ??= this.probeUntilReachable().finally(() => {
      this.probing = undefined;
    });
    return this.probing;
  }

  private async probeUntilReachable(): Promise<void> {
    const { probeTimeoutMs = 2_000, probeIntervalMs = 1_000, log } = this.options;
    while (!this.ended) {
      const failure = await this.probeOnce(probeTimeoutMs);
      if (failure === undefined || failure.code === '53300') {
        // Answered (even "too many clients": it is up and full). Connections the pool holds still
        // work; only requests that need a new one fail, and at once, as the server refuses them.
        if (this.unreachable !== undefined) {
          log?.info('the database answers again');
          this.unreachable = undefined;
          this.options.onChange?.(undefined);
        }
        return;
      }
      if (this.unreachable === undefined) {
        log?.warn(
          { reason: failure.message },
          'the database is unreachable; queries fail with SERVICE_UNAVAILABLE',
        );
        this.unreachable = failure.message;
        this.options.onChange?.(failure.message);
      }
      this.destroyStalled();
      await new Promise((resolve) => setTimeout(resolve, probeIntervalMs).unref());
    }
  }

  // Checkouts waiting on a database that does not answer: their sockets are destroyed so that
  // their queries fail now (SERVICE_UNAVAILABLE) and the pool replaces them. Idle ones are kept:
  // on a full server they are the slots this service still has.
  private destroyStalled(): void {
    const now = Date.now();
    for (const [client, since] of this.clients) {
      if (since !== undefined && now - since > (this.options.stallMs ?? 2_000)) streamOf(client)?.destroy();
    }
  }

  /** undefined when the database answered, else why not. */
  private async probeOnce(timeoutMs: number): Promise<{ message: string; code?: string } | undefined> {
    const client = new pg.Client({ ...this.pool.options, connectionTimeoutMillis: timeoutMs });
    client.on('error', () => {});
    try {
      await withDeadline(
        client.connect().then(() => client.query('SELECT 1')),
        timeoutMs,
      );
      return undefined;
    } catch (error) {
      const { message, code } = error as { message?: string; code?: unknown };
      return { message: message || String(error), code: typeof code === 'string' ? code : undefined };
    } finally {
      destroySocket(client);
    }
  }
}

const streamOf = (client: pg.Client) =>
  (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream;

// end() waits for the server to acknowledge, which never happens on a dead network.
export function destroySocket(client: pg.Client): void {
  streamOf(client)?.destroy();
  client.end().catch(() => {});
}
