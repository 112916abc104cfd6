import type { Logger } from '../log.ts';
import { isConnectionError, serviceUnavailable } from './connection-errors.ts';

// feed-connection.ts takes it from here; the pg-specific socket handling lives in pg-socket.ts.
export { destroySocket } from './pg-socket.ts';

export interface ConnectionGateOptions {
  log?: Logger;
  /** A probe (a fresh connection and `SELECT 1`) that takes longer than this fails (default 2000 ms). */
  probeTimeoutMs?: number;
  /** While the database is unreachable, probe this often (default 1000 ms). */
  probeIntervalMs?: number;
  /** A connection checked out this long makes the gate ask whether the database still answers (default 2000 ms). */
  stallMs?: number;
  /**
   * A checkout held this long is taken for dead and its socket destroyed (default: the driver's,
   * longer than the session's statement limit, after which the server would have answered).
   */
  hungMs?: number;
  /** Called when the database becomes unreachable (a reason) or reachable again (undefined). */
  onChange?: (reason: string | undefined) => void;
}

/** What the gate needs of a driver: the two things that differ between pg and mysql2. */
export interface GateDriver<Connection> {
  /** Opens a fresh connection and runs `SELECT 1` within `timeoutMs`; rejects with why not. */
  probe(timeoutMs: number): Promise<void>;
  /** Destroys the connection's socket, so that what waits on it fails now and the pool drops it. */
  destroy(connection: Connection): void;
  /** Whether a failed probe's error says the server answered but is full ("too many connections"). */
  isFull(error: unknown): boolean;
  /** The default of `hungMs` for this driver's sessions. */
  hungMs: number;
}

/**
 * Stands between a pool and Kysely so that, while the database cannot be reached, queries and
 * mutations fail at once with SERVICE_UNAVAILABLE instead of each waiting for a timeout. The same
 * state machine for PostgreSQL and MySQL/MariaDB; pg-gated-pool.ts and mysql-gated-pool.ts tell
 * it what their pools do (`tracked`, `acquired`, `released`, `forget`, `report`) and ask it
 * before each checkout (`admit`).
 *
 * A connection error on any pooled connection, or a connection checked out for longer than
 * `stallMs`, starts a probe on a fresh connection. Only a failed probe closes the gate: a session
 * killed by a DBA, a query that waits for a lock, or a server that is up but full leaves it open.
 * While closed, checkouts are refused at once and the probe repeats; the first probe that succeeds
 * opens it again. A failed probe also destroys the stalled checkouts: on a network that dropped
 * silently their queries would otherwise wait for TCP to give up (minutes, or for ever).
 */
export class ConnectionGate<Connection> {
  private readonly connections = new Map<Connection, number | undefined>();
  private unreachable: string | undefined;
  private probing: Promise<void> | undefined;
  private ended = false;
  private readonly watchdog: NodeJS.Timeout;
  private readonly stallMs: number;
  private readonly reported = new WeakSet<object>();

  /** Connection-class errors seen so far: sessions lost, connections refused (a metric). */
  connectionErrors = 0;

  constructor(
    private readonly driver: GateDriver<Connection>,
    private readonly options: ConnectionGateOptions = {},
  ) {
    this.stallMs = options.stallMs ?? 2_000;
    const hungMs = options.hungMs ?? driver.hungMs;
    this.watchdog = setInterval(
      () => {
        const now = Date.now();
        let stalled = false;
        for (const [connection, since] of this.connections) {
          if (since === undefined) continue;
          if (now - since > this.stallMs) stalled = true;
          if (now - since > hungMs) {
            options.log?.warn({ heldMs: now - since }, 'a database connection stopped answering; dropped');
            driver.destroy(connection);
          }
        }
        if (stalled) void this.probe();
      },
      Math.max(250, this.stallMs / 2),
    );
    this.watchdog.unref();
  }

  /** Why the database is considered unreachable, or undefined while it answers. */
  get reason(): string | undefined {
    return this.unreachable;
  }

  /** Throws SERVICE_UNAVAILABLE while the gate is closed; called before every checkout. */
  admit(): void {
    if (this.unreachable !== undefined) throw serviceUnavailable();
  }

  /** A connection the pool opened (idle until `acquired`). */
  tracked(connection: Connection): void {
    this.connections.set(connection, undefined);
  }

  acquired(connection: Connection): void {
    this.connections.set(connection, Date.now());
  }

  released(connection: Connection): void {
    if (this.connections.has(connection)) this.connections.set(connection, undefined);
  }

  /** A connection the pool dropped. */
  forget(connection: Connection): void {
    this.connections.delete(connection);
  }

  /** Tells the gate about an error; a connection error starts a probe. Each error counts once. */
  report(error: unknown): void {
    if (!isConnectionError(error)) return;
    // A driver may hand the same error to the query and to the connection's 'error' listeners.
    if (typeof error === 'object' && error !== null) {
      if (this.reported.has(error)) return;
      this.reported.add(error);
    }
    this.connectionErrors++;
    void this.probe();
  }

  /** Stops probing and watching; the adapter ends its pool. */
  close(): void {
    this.ended = true;
    clearInterval(this.watchdog);
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
      const failure = await this.driver.probe(probeTimeoutMs).then(
        () => undefined,
        (error: unknown) => error ?? new Error('the probe failed'),
      );
      if (failure === undefined || this.driver.isFull(failure)) {
        // Answered (even "too many connections": it is up and full). Connections the pool holds
        // still work; only requests that need a new one fail, and at once, as the server refuses them.
        if (this.unreachable !== undefined) {
          log?.info('the database answers again');
          this.unreachable = undefined;
          this.options.onChange?.(undefined);
        }
        return;
      }
      if (this.unreachable === undefined) {
        const reason = (failure as { message?: string }).message || String(failure);
        log?.warn({ reason }, 'the database is unreachable; queries fail with SERVICE_UNAVAILABLE');
        this.unreachable = reason;
        this.options.onChange?.(reason);
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
    for (const [connection, since] of this.connections) {
      if (since !== undefined && now - since > this.stallMs) this.driver.destroy(connection);
    }
  }
}

/** What the connection gate of a Kysely instance knows (for /metrics). */
export interface DatabaseStatus {
  /** False while the gate refuses requests because the database does not answer. */
  reachable: boolean;
  /** Why not, when not. */
  reason: string | undefined;
  /** Connection-class errors seen since start. */
  connectionErrors: number;
}

const gates = new WeakMap<object, ConnectionGate<unknown>>();

/** Records `gate` as the one in front of `db`'s pool (createDb, createMysqlDb). */
export function registerGate<Connection>(db: object, gate: ConnectionGate<Connection>): void {
  gates.set(db, gate as ConnectionGate<unknown>);
}

/** What the connection gate of `db` knows (for /metrics); undefined for a Db made elsewhere. */
export function databaseStatus(db: object): DatabaseStatus | undefined {
  const gate = gates.get(db);
  if (!gate) return undefined;
  return {
    reachable: gate.reason === undefined,
    reason: gate.reason,
    connectionErrors: gate.connectionErrors,
  };
}
