import { isConnectionError } from '../db/connection-errors.ts';
import type { Logger } from '../log.ts';
import type { LogEntry } from './change.ts';
import type { ChangeLog } from './change-log.ts';
import { serialized } from './serialized.ts';

export interface HeadFollowerOptions {
  changeLog: ChangeLog;
  log: Logger;
  /** The batch size the window holds at most; a bigger tick is left to the log. */
  windowSize: number;
  /** The tick of the feed's head (throws SERVICE_UNAVAILABLE before start). */
  headTick: () => number;
  /** Whether any subscriber is open: only then are batches fetched for the window. */
  live: () => boolean;
  stopped: () => boolean;
  /** Moves the head to the end of `tick`; `entries` undefined: too big for the window. */
  advance: (tick: number, entries: LogEntry[] | undefined) => void;
}

/**
 * Moves the feed's head over every new tick, one pass at a time. A tick announced by its id
 * costs one query, the tick with its batch (so N instances read the log N times per tick, not
 * 2N), or none when it comes with its batch (the leader's own ticks) or no subscriber is live;
 * otherwise the ticks after the head are listed first.
 */
export class HeadFollower {
  /** The newest tick known to exist from its notification; the head reads up to it. */
  private announcedTick = 0;
  private unannouncedTicks = true;
  /** Batches that came with their tick (change_batch's text), until the head passes them. */
  private readonly given = new Map<number, string>();
  private readonly pump = serialized(() => this.follow());

  constructor(private readonly options: HeadFollowerOptions) {}

  /** A tick was made (its notification, or this instance's ticker, with its batch): read it. */
  announce(tick: number, batch: string | null = null): void {
    if (!Number.isSafeInteger(tick))
      this.unannouncedTicks = true; // no usable id: look
    else {
      if (tick > this.announcedTick) this.announcedTick = tick;
      if (batch !== null && tick > this.options.headTick()) this.given.set(tick, batch);
    }
    this.pump();
  }

  /** Ticks may exist that no notification announced (start, reconnection, the safety-net poll). */
  lookForTicks(): void {
    this.unannouncedTicks = true;
    this.pump();
  }

  private async follow(): Promise<void> {
    const { changeLog, windowSize, headTick, live, advance } = this.options;
    try {
      while (headTick() < this.announcedTick) {
        // With no one live the window is not filled, so the head moves without reading anything:
        // announced ticks exist, and tick ids have no holes.
        if (!live()) {
          advance(this.announcedTick, undefined);
          break;
        }
        const id = headTick() + 1;
        const given = this.given.get(id);
        this.given.delete(id);
        advance(
          id,
          given === undefined
            ? await changeLog.wholeBatch(id, windowSize / 2)
            : changeLog.decodeBatch(given, windowSize / 2),
        );
      }
      for (const id of this.given.keys()) if (id <= headTick()) this.given.delete(id);
      if (!this.unannouncedTicks && headTick() >= this.announcedTick) return;
      this.unannouncedTicks = false;
      for (;;) {
        const ticks = await changeLog.ticksAfter(headTick(), 100);
        for (const tick of ticks) {
          // The window only saves live subscribers a query; with none open, nothing is fetched
          // (a reader that starts behind the window reads the log, as after a big batch).
          const entries = live() ? await changeLog.wholeBatch(tick.id, windowSize / 2) : undefined;
          advance(tick.id, entries);
        }
        if (ticks.length < 100) return;
      }
    } catch (error) {
      if (this.options.stopped()) return;
      this.unannouncedTicks = true; // the next poll looks again
      if (isConnectionError(error))
        this.options.log.debug(
          { reason: (error as Error).message },
          'following the change log failed; will retry',
        );
      else this.options.log.warn({ err: error }, 'following the change log failed; will retry');
    }
  }
}
