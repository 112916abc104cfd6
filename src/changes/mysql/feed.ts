import { isConnectionError } from '../../db/connection-errors.ts';
import { DomainError } from '../../errors.ts';
import type { OrderChange } from '../change.ts';
import type { ReadResult } from '../change-log.ts';
import { ConnectionHealth } from '../connection-health.ts';
import { CursorReader } from '../cursor-reader.ts';
import { HeadWaiters } from '../head-waiters.ts';
import { readHistory } from '../history-pages.ts';
import { plainChange } from '../plain-change.ts';
import type { Cursor, Position } from '../position.ts';
import type { ReaderSignal } from '../reader-signal.ts';
import { startCursor, unavailableIfUnreachable } from '../reader-start.ts';
import { RecentWindow } from '../recent-window.ts';
import { serialized } from '../serialized.ts';
import type { ChangeSource, FeedOptions, FeedStatus, SubscribeOptions } from '../source.ts';
import { readFromPromise, SubscriptionStreams } from '../subscription-stream.ts';
import { BinlogCapture } from './binlog-capture.ts';
import { MysqlChangeLog } from './change-log.ts';
import { currentMysqlCursor } from './snapshot.ts';

/** MySQL's: the poll reads the log's head (default 100 ms; the capturing instance is woken at once). */
export interface MysqlChangeFeedOptions extends FeedOptions {
  /** Changes read from the binary log that may wait for the database (BinlogCapture). */
  backlogLimit?: number;
}

const at = (seq: number): Position => ({ tick: seq, last: 0, seq: 0 });

/**
 * The change feed on MySQL/MariaDB, behind the same interface and with the same guarantees as
 * PostgreSQL's (feed.ts): the binlog capture records committed transactions in commit order, and
 * every reader walks the log by seq with the same CursorReader, filters and cursors. As on
 * PostgreSQL, each advance of the head reads the new entries once into a window of recent ones,
 * which live subscribers read from memory instead of each querying the log.
 */
export class MysqlChangeFeed implements ChangeSource {
  readonly changeLog: MysqlChangeLog;
  private readonly capture: BinlogCapture;
  private head: number | undefined;
  private readonly waiters = new HeadWaiters();
  private window: RecentWindow | undefined;
  // Pages from the window are read without I/O: a reader with more to read yields between them.
  private readonly streams = new SubscriptionStreams(
    readFromPromise((position, signal) => this.readFrom(position, signal)),
    {
      yieldAfter: (page) => this.head !== undefined && page.position.tick < this.head,
    },
  );
  private readonly health = new ConnectionHealth();
  private stopped = false;
  private timers: NodeJS.Timeout[] = [];
  private readonly pageSize: number;
  private readonly refreshHead = serialized(() => this.readHead());

  constructor(private readonly options: MysqlChangeFeedOptions) {
    this.changeLog = new MysqlChangeLog(options.db, options.retentionMs);
    this.pageSize = options.pageSize ?? 500;
    this.capture = new BinlogCapture({
      connectionString: options.connectionString,
      log: options.log,
      checkIntervalMs: options.checkIntervalMs,
      checkTimeoutMs: options.checkTimeoutMs,
      backlogLimit: options.backlogLimit,
      onApplied: () => this.refreshHead(),
      onUp: () => {
        this.health.up();
        this.refreshHead();
      },
      onDown: (reason) => this.health.down(`change capture connection down: ${reason}`),
    });
  }

  async start(): Promise<void> {
    this.head = await this.changeLog.latestSeq();
    this.window = new RecentWindow(this.options.windowSize ?? 10_000, at(this.head));
    this.waiters.wake();
    this.capture.start();
    await this.health.firstConnection(10_000);
    this.timers.push(
      setInterval(() => this.refreshHead(), this.options.pollIntervalMs ?? 100),
      setInterval(
        () => void this.prune(),
        this.options.pruneIntervalMs ?? Math.min(60_000, Math.max(1_000, this.options.retentionMs / 10)),
      ),
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    this.waiters.wake();
    await this.capture.stop();
  }

  status(): FeedStatus {
    return this.health.status({
      listening: this.capture.isUp && this.head !== undefined && !this.stopped,
      subscribers: this.streams.count,
      leader: this.capture.isLeader,
      headTick: this.head,
    });
  }

  async subscribe(options: SubscribeOptions = {}): Promise<AsyncIterableIterator<OrderChange>> {
    if (options.after == null && this.head === undefined)
      throw new DomainError('SERVICE_UNAVAILABLE', 'the change feed is starting; retry shortly');
    const cursor = await this.startCursor(options.after, () => currentMysqlCursor(this.options.db)).catch(
      unavailableIfUnreachable(),
    );
    return this.streams.stream(new CursorReader(cursor, options.filter, plainChange));
  }

  async history(options: SubscribeOptions & { first: number }): Promise<OrderChange[]> {
    const cursor = await this.startCursor(options.after, async () => ({
      position: { tick: (await this.changeLog.baseSeq()).base, last: 0, seq: 0 },
    }));
    const reader = new CursorReader(cursor, options.filter, plainChange);
    const until = await this.changeLog.latestSeq();
    return readHistory({
      reader,
      first: options.first,
      more: (position) => position.tick < until,
      readPage: (position) => this.changeLog.readAfter(position, this.pageSize, until),
    });
  }

  private startCursor(after: string | null | undefined, otherwise: () => Promise<Cursor>) {
    return startCursor({
      after,
      otherwise,
      checkPosition: (position) => this.changeLog.checkPosition(position),
      timeoutMs: this.options.startTimeoutMs ?? 5_000,
    });
  }

  private async readFrom(position: Position, signal: ReaderSignal): Promise<ReadResult | undefined> {
    for (let delay = 100; ; ) {
      if (this.stopped || signal.aborted) return undefined;
      const head = this.head;
      if (head === undefined || position.tick >= head) {
        await this.waiters.next(signal);
        continue;
      }
      if (this.window?.covers(position)) return this.window.read(position, at(head), this.pageSize);
      try {
        return await this.changeLog.readAfter(position, this.pageSize, head);
      } catch (error) {
        // A reader outlives database outages: connection errors are retried, never passed on.
        if (!isConnectionError(error) || this.stopped || signal.aborted) throw error;
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 5_000);
      }
    }
  }

  private async readHead(): Promise<void> {
    try {
      const latest = await this.changeLog.latestSeq();
      if (this.head === undefined || latest > this.head) {
        const head = this.head;
        // The capture commits one transaction after the other, so every seq up to `latest` is
        // visible now: the window gets exactly the entries between the old head and the new.
        if (this.window && head !== undefined) {
          const size = this.options.windowSize ?? 10_000;
          // Too many to hold (seqs between the heads bound the count): readers behind the new head
          // read the log at their own pace, and a burst is not read here just to be dropped.
          if (latest - head >= size) this.window.reset(at(latest));
          else {
            // A failed read (a lost connection, history pruned meanwhile) empties the window
            // instead of holding the head back: readers then read the log, and get its errors.
            const page = await this.changeLog.readAfter(at(head), size, latest).catch(() => undefined);
            if (this.head !== head) return;
            if (page) this.window.append(page.entries);
            else this.window.reset(at(latest));
          }
        }
        this.head = latest;
        this.waiters.wake();
      }
    } catch (error) {
      if (!this.stopped && !isConnectionError(error))
        this.options.log.warn({ err: error }, 'reading the change log head failed; will retry');
    }
  }

  private async prune(): Promise<void> {
    if (!this.capture.isLeader || this.stopped) return;
    try {
      const removed = await this.changeLog.prune();
      if (removed > 0) this.options.log.info({ removed }, 'pruned expired change history');
    } catch (error) {
      if (!isConnectionError(error)) this.options.log.warn({ err: error }, 'pruning the change log failed');
    }
  }
}
