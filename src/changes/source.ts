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
}
