import { DomainError } from '../errors.ts';
import type { LogEntry, OrderChange } from './change.ts';
import { ChangeLog, type ReadResult } from './change-log.ts';
import { ConnectionHealth } from './connection-health.ts';
import { CursorReader } from './cursor-reader.ts';
import { CHANGES_CHANNEL, FeedConnection, TICKS_CHANNEL } from './feed-connection.ts';
import { HeadFollower } from './head-follower.ts';
import { HeadWaiters } from './head-waiters.ts';
import { readHistory } from './history-pages.ts';
import { retryTransient } from './log-reads.ts';
import { plainChange } from './plain-change.ts';
import { type Cursor, comparePositions, endOfTick, type Position } from './position.ts';
import type { ReaderSignal } from './reader-signal.ts';
import { startCursor, unavailableIfUnreachable } from './reader-start.ts';
import { RecentWindow } from './recent-window.ts';
import { currentCursor } from './snapshot.ts';
import type { FeedOptions, FeedStatus, SubscribeOptions } from './source.ts';
import { SubscriptionStreams } from './subscription-stream.ts';
import { Ticker } from './ticker.ts';

/** PostgreSQL's: the poll is the safety net for missed wake-ups (default 1000 ms). */
export type ChangeFeedOptions = FeedOptions;

export type { FeedStatus, SubscribeOptions } from './source.ts';

/** Log pages read ahead for readers behind the window at once, at most (see readLogAhead). */
const MAX_READS_AHEAD = 4;

/**
 * Delivers the change log to any number of readers. One pump per instance follows the log's head
 * into a window of recent entries that live subscribers read from memory; a reader that falls
 * behind the window, or resumes from an old cursor, reads the log itself at its own pace. Every
 * reader is pulled by its consumer, so a burst never queues more than a page per subscriber.
 */
export class ChangeFeed {
  readonly changeLog: ChangeLog;
  private readonly connection: FeedConnection;
  private head: Position | undefined;
  private window: RecentWindow | undefined;
  private readonly waiters = new HeadWaiters((error) =>
    this.options.log.error({ err: error }, 'delivering to a subscriber failed'),
  );
  // Pages from the window are read without I/O: a reader with more to read yields between them.
  private readonly streams = new SubscriptionStreams(
    (position, signal, done, fail) => this.readFrom(position, signal, done, fail),
    {
      yieldAfter: (page) => this.head !== undefined && comparePositions(page.position, this.head) < 0,
    },
  );
  private readonly health = new ConnectionHealth();
  /** Per reader (its stream's signal), the read of the page after the one it was last given. */
  private readonly readsAhead = new WeakMap<ReaderSignal, { from: Position; read: Promise<ReadResult> }>();
  private readsAheadInFlight = 0;
  private stopped = false;
  private timers: NodeJS.Timeout[] = [];
  private readonly ticker: Ticker;
  private readonly follower: HeadFollower;
  private readonly windowSize: number;
  private readonly pageSize: number;
  private tickMade: ((milliseconds: number) => void) | undefined;

  constructor(private readonly options: ChangeFeedOptions) {
    this.changeLog = new ChangeLog(options.db, options.retentionMs);
    this.windowSize = options.windowSize ?? 10_000;
    this.pageSize = options.pageSize ?? 500;
    this.connection = new FeedConnection({
      connectionString: options.connectionString,
      log: options.log,
      checkIntervalMs: options.checkIntervalMs,
      checkTimeoutMs: options.checkTimeoutMs,
      onNotification: (channel, payload) => {
        if (channel === CHANGES_CHANNEL) this.ticker.tick();
        if (channel === TICKS_CHANNEL) this.follower.announce(Number(payload));
      },
      onUp: () => {
        this.health.up();
        this.ticker.tick();
        this.follower.lookForTicks();
      },
      onDown: (reason) => this.health.down(`change feed connection down: ${reason}`),
    });
    this.follower = new HeadFollower({
      changeLog: this.changeLog,
      log: options.log,
      windowSize: this.windowSize,
      headTick: () => this.requireHead().tick,
      live: () => this.streams.count > 0,
      stopped: () => this.stopped,
      advance: (tick, entries) => this.advance(tick, entries),
    });
    this.ticker = new Ticker({
      db: options.db,
      connection: this.connection,
      log: options.log,
      retentionMs: options.retentionMs,
      onTick: (tick, batch) => this.follower.announce(tick, batch),
      onTickMade: (milliseconds) => this.tickMade?.(milliseconds),
      // The leader reads its own tick's batch with the tick, for the window, when someone is live.
      batchLimit: () => (this.streams.count > 0 ? this.windowSize / 2 : null),
    });
  }

  async start(): Promise<void> {
    const latest = await this.changeLog.latestTick();
    this.head = endOfTick(latest.id);
    this.window = new RecentWindow(this.windowSize, this.head);
    // Readers accepted while the service was starting (a client resuming from its cursor) go on.
    this.waiters.wake();
    this.connection.start();
    await this.firstConnection();
    const poll = this.options.pollIntervalMs ?? 1_000;
    this.timers.push(
      setInterval(() => {
        this.ticker.tick();
        this.follower.lookForTicks();
      }, poll),
      setInterval(
        () => void this.ticker.prune(),
        this.options.pruneIntervalMs ?? Math.min(60_000, Math.max(1_000, this.options.retentionMs / 10)),
      ),
    );
  }

  // Start-up waits for the dedicated connection, so that "ready" means listening; a database that
  // refuses it now is retried in the background and reported by status() meanwhile.
  private async firstConnection(): Promise<void> {
    await this.health.firstConnection(10_000);
    if (!this.connection.isUp) {
      this.options.log.warn({ reason: this.health.downReason }, 'change feed not listening yet');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    this.ticker.stop();
    this.waiters.wake();
    await this.connection.stop();
  }

  onTickMade(listener: (milliseconds: number) => void): void {
    this.tickMade = listener;
  }

  status(): FeedStatus {
    return this.health.status({
      listening: this.connection.isUp && this.head !== undefined && !this.stopped,
      subscribers: this.streams.count,
      leader: this.connection.isLeader,
      headTick: this.head?.tick,
    });
  }

  /**
   * Every change after `after`, or, without it, every change whose transaction commits after this
   * call took its snapshot (and none that committed before), then live. Cursor errors, and a
   * database that cannot be reached, are thrown here, before the stream starts, so that they
   * reach the client as a plain GraphQL error.
   */
  async subscribe(options: SubscribeOptions = {}): Promise<AsyncIterableIterator<OrderChange>> {
    // A reader with a cursor waits for the feed to start (test/changes/startup.test.ts).
    if (options.after == null) this.requireHead();
    const cursor = await this.startCursor(options.after, () => currentCursor(this.options.db)).catch(
      unavailableIfUnreachable(this.options.log),
    );
    return this.streams.stream(new CursorReader(cursor, options.filter, plainChange));
  }

  /** Past changes after `after` (default: the oldest kept), oldest first, up to `first`. */
  async history(options: SubscribeOptions & { first: number }): Promise<OrderChange[]> {
    const cursor = await this.startCursor(options.after, async () => ({
      position: endOfTick(await this.changeLog.baseTick()),
    }));
    const reader = new CursorReader(cursor, options.filter, plainChange);
    const until = this.requireHead();
    return readHistory({
      reader,
      first: options.first,
      more: (position) => comparePositions(position, until) < 0,
      // Unfiltered, a page holds no more than is still wanted; a filter may skip any of it.
      readPage: (position, missing) =>
        this.readLog(position, until.tick, options.filter ? this.pageSize : Math.min(this.pageSize, missing)),
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

  private requireHead(): Position {
    // "From now" needs to know where now is; a client asked to retry resubscribes in a moment.
    if (!this.head)
      throw new DomainError('SERVICE_UNAVAILABLE', 'the change feed is starting; retry shortly');
    return this.head;
  }

  /**
   * The next entries after `position`: waits at the head, reads memory when it can, else the log.
   * Callbacks, not an async function: every idle subscriber is parked here, and a suspended async
   * call weighs twice as much as its wait; and a reader parked at the head reads its page within
   * the head's move (HeadWaiters.park), so that a change reaches the subscribers one after another.
   */
  private readFrom(
    position: Position,
    signal: ReaderSignal,
    done: (page: ReadResult | undefined) => void,
    fail: (error: unknown) => void,
  ): void {
    if (this.stopped || signal.aborted) {
      done(undefined);
      return;
    }
    const head = this.head;
    // Each wake moves the head past a parked reader, but for one resuming from a cursor ahead of
    // this instance's head (or a wake at start or stop): then it parks again.
    if (!head || comparePositions(position, head) >= 0) {
      this.waiters.park(signal, () => this.readFrom(position, signal, done, fail));
      return;
    }
    let page: ReadResult | undefined;
    try {
      if (this.window?.covers(position)) page = this.window.read(position, head, this.pageSize);
    } catch (error) {
      fail(error);
      return;
    }
    if (page) done(page);
    else this.readLogAhead(position, head, signal).then(done, fail);
  }

  /**
   * A page of the log for a reader behind the window, and the read of its next page started at
   * once: the database reads it while this one is executed and sent, instead of after. So a
   * reader holds at most two pages, this one and the next.
   */
  private async readLogAhead(position: Position, head: Position, signal: ReaderSignal): Promise<ReadResult> {
    const ahead = this.readsAhead.get(signal);
    this.readsAhead.delete(signal);
    const page =
      ahead && comparePositions(ahead.from, position) === 0
        ? await ahead.read
        : await this.readLog(position, head.tick, this.pageSize, signal);
    // A few at a time: the pool is shared with every other request, and readers catching up
    // together would otherwise each hold a connection all along.
    const room = this.readsAheadInFlight < MAX_READS_AHEAD;
    if (room && !signal.aborted && !this.stopped && comparePositions(page.position, head) < 0) {
      this.readsAheadInFlight++;
      const read = this.readLog(page.position, head.tick, this.pageSize, signal);
      read
        .catch(() => {}) // seen by the reader if it asks for that page; dropped with it if not
        .finally(() => this.readsAheadInFlight--);
      this.readsAhead.set(signal, { from: page.position, read });
    }
    return page;
  }

  private readLog(position: Position, untilTick: number, limit: number, signal?: ReaderSignal) {
    return retryTransient(
      () => this.changeLog.readAfter(position, limit, untilTick),
      this.options.log,
      () => this.stopped || signal?.aborted === true,
    );
  }

  private advance(tick: number, entries: LogEntry[] | undefined): void {
    const end = endOfTick(tick);
    // Too big to hold (undefined): readers behind it read it from the log at their own pace.
    if (!entries) this.window?.reset(end);
    else this.window?.append(entries);
    this.head = end;
    this.waiters.wake();
  }
}
