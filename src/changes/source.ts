import type { OrderChange } from './change.ts';
import type { FeedStatus, SubscribeOptions } from './feed.ts';

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
