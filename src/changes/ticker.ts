import type { Kysely } from 'kysely';
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
      if (!this.stopped) this.options.log.warn({ err: error }, 'making a tick failed');
    }
  }

  async prune(): Promise<void> {
    if (!this.options.connection.isLeader || this.stopped) return;
    try {
      const removed = await pruneChangeLog(this.options.db, this.options.retentionMs);
      if (removed > 0) this.options.log.info({ removed }, 'pruned expired change history');
    } catch (error) {
      this.options.log.warn({ err: error }, 'pruning the change log failed');
    }
  }
}
