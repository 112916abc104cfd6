import type { Kysely } from 'kysely';
import { isConnectionError } from '../db/connection-errors.ts';
import type { Database } from '../db/database.ts';
import type { Logger } from '../log.ts';
import type { FeedConnection } from './feed-connection.ts';
import { pruneChangeLog } from './retention.ts';
import { serialized } from './serialized.ts';

export interface TickerOptions {
  db: Kysely<Database>;
  connection: FeedConnection;
  log: Logger;
  retentionMs: number;
  /**
   * Called with its id when a new tick exists, and with its batch as change_batch encodes it when
   * `batchLimit` asked for it.
   */
  onTick: (tick: number, batch: string | null) => void;
  /** Called with the duration of each poll that made a tick, in milliseconds. */
  onTickMade?: (milliseconds: number) => void;
  /**
   * The most changes of a new tick's batch to read with the tick, in the same round trip; null:
   * none (no one would read them from memory).
   */
  batchLimit: () => number | null;
  /** While changes keep coming, tick this often instead of waiting for wake-ups (default 2 ms). */
  activeIntervalMs?: number;
  /**
   * While writers keep the database busy, tick up to this much less often (default 5): each tick
   * is a transaction that commits, and batching more of the writers' transactions into one tick
   * leaves them more of the database. Scaled by the transactions started since the last poll,
   * so at moderate rates the interval stays `activeIntervalMs`.
   */
  busyIntervalFactor?: number;
  /** Two ticks with changes this close together wake the ticker up (default 20 ms). */
  busyGapMs?: number;
  /** After this long without a change, go back to sleep and let writers wake it (default 40 ms). */
  idleAfterMs?: number;
}

/**
 * Asleep: writers' capture triggers send a wake-up (NOTIFY), and the feed's safety-net poll ticks.
 * Awake (once changes come less than `busyGapMs` apart): the flag `change_ticker_awake` tells writers not to notify (NOTIFY serializes their
 * commits), and the ticker polls every `activeIntervalMs` instead. Draining: marked asleep again,
 * still polling until every transaction that started while it was awake, and so may have skipped
 * its wake-up, has ended; the tick after that has their changes.
 */
type Mode = 'asleep' | 'awake' | 'draining';

interface PollRow {
  tick: string | null;
  batch: string | null;
  /** xmin of the snapshot taken before the tick's own: transactions below it had ended. */
  xmin: string;
  /** xmax of that snapshot: how many transactions have started, ids being handed out in order. */
  xmax: string;
  awake: string;
}

/** Transactions started per millisecond above which the interval grows in proportion. */
const BUSY_TRANSACTIONS_PER_MS = 1;

/**
 * The work that must happen once however many instances run: making ticks and pruning history.
 * Every instance has a Ticker; only the one whose connection holds the advisory lock acts.
 */
export class Ticker {
  private stopped = false;
  private mode: Mode = 'asleep';
  private lastChangeAt = 0;
  private drainXmax = 0n;
  private lastXmax = 0n;
  private lastPollAt = 0;
  private intervalMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private pruning = false;
  /** Makes a tick of whatever committed since the last one; calls during one fold into one more. */
  readonly tick = serialized(() => this.makeTick());

  constructor(private readonly options: TickerOptions) {}

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private async makeTick(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    let arrived = performance.now();
    try {
      // On the lock holder's own session: a tick is never made by an instance that lost the lock.
      const limit = this.options.batchLimit();
      const started = performance.now();
      const result = await this.options.connection.queryAsLeader<PollRow>(
        `SELECT t.xmin::text, t.xmax::text, t.tick, t.batch,
           (SELECT last_value FROM change_ticker_awake)::text AS awake
         FROM make_change_tick_with_batch(${limit === null ? 'NULL' : Math.floor(limit)}) t`,
      );
      arrived = performance.now();
      const row = result?.rows[0];
      if (!row) {
        this.mode = 'asleep';
        return;
      }
      if (row.tick) {
        this.options.onTickMade?.(arrived - started);
        this.options.onTick(Number(row.tick), row.batch);
      }
      this.pace(BigInt(row.xmax));
      await this.nextMode(row);
    } catch (error) {
      this.mode = 'asleep';
      if (this.stopped) return;
      // A lost connection is reported by the feed connection itself; a lock wait that timed out
      // (LOCK TABLE order_changes) is retried at the next wake-up or poll.
      if (isConnectionError(error)) return;
      this.options.log.warn({ reason: (error as Error).message }, 'making a tick failed; retrying');
    }
    if (this.mode !== 'asleep' && !this.stopped) {
      // Counted from the poll's answer, not from here: the tick's fan-out (within onTick) and a
      // mode change took part of the interval already.
      this.timer = setTimeout(this.tick, Math.max(0, arrived + this.intervalMs - performance.now()));
    }
  }

  /**
   * The interval until the next poll while awake: `activeIntervalMs` up to 1,000 transactions
   * per second (xmax counts those that wrote); longer in proportion above that, up to
   * `busyIntervalFactor` times (writers at full speed, whose changes then wait a few milliseconds
   * more in exchange for fewer ticks).
   */
  private pace(xmax: bigint): void {
    const now = performance.now();
    const elapsed = now - this.lastPollAt;
    const rate = this.lastXmax === 0n || elapsed <= 0 ? 0 : Number(xmax - this.lastXmax) / elapsed;
    this.lastXmax = xmax;
    this.lastPollAt = now;
    const factor = Math.min(
      this.options.busyIntervalFactor ?? 5,
      Math.max(1, rate / BUSY_TRANSACTIONS_PER_MS),
    );
    this.intervalMs = (this.options.activeIntervalMs ?? 2) * factor;
  }

  private async nextMode(row: PollRow): Promise<void> {
    const now = performance.now();
    if (row.tick) {
      // A lone change costs one wake-up, which is cheap; polling pays off once they come often.
      const busy = now - this.lastChangeAt < (this.options.busyGapMs ?? 20);
      this.lastChangeAt = now;
      if ((this.mode === 'awake' && row.awake !== '1') || (this.mode !== 'awake' && busy)) {
        await this.setAwake(true);
        this.mode = 'awake';
      }
    } else if (this.mode === 'awake' && now - this.lastChangeAt > (this.options.idleAfterMs ?? 40)) {
      await this.startDraining();
    } else if (this.mode === 'draining' && BigInt(row.xmin) >= this.drainXmax) {
      this.mode = 'asleep';
    } else if (this.mode === 'asleep' && row.awake !== '0') {
      // Left awake by a ticker that died (or an earlier life of this one): writers skip wake-ups.
      await this.startDraining();
    }
  }

  private async startDraining(): Promise<void> {
    await this.setAwake(false);
    // Taken after the flag changed: every transaction that read "awake" has an id below its xmax.
    const result = await this.options.connection.queryAsLeader<{ xmax: string }>(
      'SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS xmax',
    );
    this.drainXmax = BigInt(result?.rows[0]?.xmax ?? '0');
    this.mode = 'draining';
  }

  private async setAwake(awake: boolean): Promise<void> {
    await this.options.connection.queryAsLeader(`SELECT setval('change_ticker_awake', ${awake ? 1 : 0})`);
  }

  async prune(): Promise<void> {
    // A prune of much history outlasts the interval: one at a time.
    if (!this.options.connection.isLeader || this.stopped || this.pruning) return;
    this.pruning = true;
    try {
      const removed = await pruneChangeLog(this.options.db, this.options.retentionMs, {
        // Stopping, or another instance leads now: it prunes from where this one stopped.
        stopped: () => this.stopped || !this.options.connection.isLeader,
      });
      if (removed > 0) this.options.log.info({ removed }, 'pruned expired change history');
    } catch (error) {
      if (isConnectionError(error)) return; // tried again at the next interval
      this.options.log.warn({ err: error }, 'pruning the change log failed');
    } finally {
      this.pruning = false;
    }
  }
}
