import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import type { Logger } from '../log.ts';
import type { ChangeFilter, OrderChange } from './change.ts';

export interface FeedStatus {
  listening: boolean;
  /** Open subscriptions on this instance. */
  subscribers: number;
  leader: boolean;
  headTick: number | undefined;
  reason: string | undefined;
  /** Times the feed's own connection was lost since start (each is followed by a reconnect). */
  connectionLosses: number;
}

export interface SubscribeOptions {
  after?: string | null;
  filter?: ChangeFilter;
}

/**
 * What the service and the schema use of a change feed: PostgreSQL's (feed.ts) and MySQL's
 * (mysql/feed.ts) both give it, with the same guarantees.
 */
export interface ChangeSource {
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): FeedStatus;
  subscribe(options?: SubscribeOptions): Promise<AsyncIterableIterator<OrderChange>>;
  history(options: SubscribeOptions & { first: number }): Promise<OrderChange[]>;
  /**
   * Calls `listener` with how long each tick this instance made took, in milliseconds, from the
   * poll's start to its result: the wait every change has between its commit and its readers
   * that polling does not explain (the tick's own commit, flushed to disk). PostgreSQL's feed only.
   */
  onTickMade?(listener: (milliseconds: number) => void): void;
}

/** What both feeds are made with; each dialect's options add their own. */
export interface FeedOptions {
  db: Kysely<Database>;
  /** For the feed's own dedicated connection (PostgreSQL: LISTEN and ticks; MySQL: the binary log). */
  connectionString: string;
  log: Logger;
  /** How long history is kept (CHANGE_RETENTION). */
  retentionMs: number;
  /** How often the head of the log is looked for anyway, besides wake-ups (default: each feed's). */
  pollIntervalMs?: number;
  /** How often expired history is pruned (default a tenth of the retention, 1 s to 60 s). */
  pruneIntervalMs?: number;
  /** Recent entries kept in memory for live subscribers (default 10,000). */
  windowSize?: number;
  /** Entries read per step by one subscriber (default 500). */
  pageSize?: number;
  /** How long subscribe() waits for the database before answering SERVICE_UNAVAILABLE (default 5 s). */
  startTimeoutMs?: number;
  /** How often the dedicated connection is checked (default 1000 ms). */
  checkIntervalMs?: number;
  /** A check unanswered this long means the dedicated connection is dead (default 5000 ms). */
  checkTimeoutMs?: number;
}
