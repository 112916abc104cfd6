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
  /** Called when a new tick exists. */
  onTick: () => void;
}

/**
 * The work that must happen once however many instances run: making ticks and pruning history.
 * Every instance has a Ticker; only the one whose connection holds the advisory lock acts.
 */
export class Ticker {
  private stopped = false;
  /** Makes a tick of whatever committed since the last one; calls during one fold into one more. */
  readonly tick = serialized(() => this.makeTick());

  constructor(private readonly options: TickerOptions) {}

  stop(): void {
    this.stopped = true;
  }

  private async makeTick(): Promise<void> {
    try {
      // On the lock holder's own session: a tick is never made by an instance that lost the lock.
      const result = await this.options.connection.queryAsLeader<{ tick: string | null }>(
        'SELECT make_change_tick() AS tick',
      );
      if (result?.rows[0]?.tick) this.options.onTick();
    } catch (error) {
      if (this.stopped) return;
      // A lost connection is reported by the feed connection itself; a lock wait that timed out
      // (LOCK TABLE order_changes) is retried at the next wake-up or poll.
      if (isConnectionError(error)) return;
      this.options.log.warn({ reason: (error as Error).message }, 'making a tick failed; retrying');
    }
  }

  async prune(): Promise<void> {
    if (!this.options.connection.isLeader || this.stopped) return;
    try {
      const removed = await pruneChangeLog(this.options.db, this.options.retentionMs);
      if (removed > 0) this.options.log.info({ removed }, 'pruned expired change history');
    } catch (error) {
      if (isConnectionError(error)) return; // tried again at the next interval
      this.options.log.warn({ err: error }, 'pruning the change log failed');
    }
  }
}
