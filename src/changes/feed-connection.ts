import pg from 'pg';
import { destroySocket } from '../db/connection-gate.ts';
import { sessionOptions, VERSIONED_SETTINGS_SQL } from '../db/session-settings.ts';
import { withDeadline } from '../deadline.ts';
import type { Logger } from '../log.ts';
import { DedicatedConnection } from './dedicated-connection.ts';
import { OneAtATime } from './one-at-a-time.ts';

export const CHANGES_CHANNEL = 'order_changes';
export const TICKS_CHANNEL = 'order_ticks';
// Any constant works; every instance must use the same one.
const TICKER_LOCK_KEY = 0x6f726472; // 'ordr'

export interface FeedConnectionOptions {
  connectionString: string;
  log: Logger;
  /** `payload`: for order_ticks, the id of the tick just made. */
  onNotification: (channel: string, payload: string | undefined) => void;
  onUp: () => void;
  onDown: (reason: string) => void;
  /** How often the connection is checked, and leadership sought when not held (default 1000 ms). */
  checkIntervalMs?: number;
  /** A check that takes longer than this means the connection is dead (default 5000 ms). */
  checkTimeoutMs?: number;
}

/**
 * The feed's own connection: never pooled, never left in a transaction. It LISTENs for wake-ups
 * and holds the session advisory lock that makes one instance the ticker; when the connection
 * dies the lock goes with it and another instance takes over. A silently dropped network is
 * noticed by a periodic check with a deadline, on top of TCP keepalive.
 */
export class FeedConnection extends DedicatedConnection {
  private client: pg.Client | undefined;
  /** The session's statements, one after another (the ticker's and the health check's). */
  private statements = new OneAtATime();

  constructor(private readonly options: FeedConnectionOptions) {
    super({
      log: options.log,
      onDown: (reason) => options.onDown(reason),
      lostMessage: 'change feed connection lost',
    });
  }

  /** Runs `text` on the connection if this instance is the ticker; undefined otherwise. */
  async queryAsLeader<R extends pg.QueryResultRow>(text: string): Promise<pg.QueryResult<R> | undefined> {
    const client = this.client;
    if (!client || !this.isLeader) return undefined;
    return this.statements.run(() => client.query<R>(text));
  }

  /** One connection's life; resolves with the reason it ended. */
  protected override async session(): Promise<string> {
    const { checkIntervalMs = 1_000, checkTimeoutMs = 5_000 } = this.options;
    const client = new pg.Client({
      connectionString: this.options.connectionString,
      keepAlive: true,
      keepAliveInitialDelayMillis: 1_000,
      connectionTimeoutMillis: checkTimeoutMs,
      application_name: 'realtime-orders feed',
      options: sessionOptions({ feedCheckTimeoutMs: checkTimeoutMs }),
    });
    let ended!: (reason: string) => void;
    const done = new Promise<string>((resolve) => {
      ended = resolve;
    });
    this.drop = (reason) => {
      ended(reason);
      destroySocket(client);
    };
    client.on('error', (error) => this.drop?.(error.message));
    client.on('end', () => this.drop?.('connection closed'));
    client.on('notification', (msg) => {
      // A tick this session made itself is already being read (the Ticker's onTick): no echo.
      if (msg.channel === TICKS_CHANNEL && msg.processId === ownPid(client)) return;
      this.options.onNotification(msg.channel, msg.payload);
    });
    this.client = client;
    const statements = new OneAtATime();
    this.statements = statements;
    let timer: NodeJS.Timeout | undefined;
    try {
      const setUp = (async () => {
        await client.connect();
        // The server must also notice when this client vanishes without a word: until it does,
        // the session keeps the ticker lock and no other instance can take over.
        await client.query(
          `SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2; SET tcp_keepalives_count = 3;
           ${VERSIONED_SETTINGS_SQL}; LISTEN ${CHANGES_CHANNEL}; LISTEN ${TICKS_CHANNEL}`,
        );
        await this.seekLeadership(client);
      })();
      setUp.catch(() => {}); // reported through the race below, or moot once dropped
      // A connect() whose socket is destroyed never settles; stop() must not wait for it.
      const droppedEarly = await Promise.race([setUp.then(() => undefined), done]);
      if (droppedEarly !== undefined) return droppedEarly;
      this.up = true;
      this.options.onUp();
      const check = async () => {
        try {
          await withDeadline(
            statements.run(() => client.query('SELECT 1')),
            checkTimeoutMs,
          );
          if (!this.leader) await statements.run(() => this.seekLeadership(client));
          timer = setTimeout(check, checkIntervalMs);
        } catch (error) {
          this.drop?.(`health check failed: ${(error as Error).message}`);
        }
      };
      timer = setTimeout(check, checkIntervalMs);
      return await done;
    } finally {
      clearTimeout(timer);
      this.client = undefined;
      this.drop = undefined;
      destroySocket(client);
    }
  }

  private async seekLeadership(client: pg.Client): Promise<void> {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [
      TICKER_LOCK_KEY,
    ]);
    const locked = rows[0]?.locked === true;
    if (locked && !this.leader) this.options.log.info('this instance is now the change feed ticker');
    this.leader = locked;
  }
}

const ownPid = (client: pg.Client) => (client as unknown as { processID?: number }).processID;
