/**
 * One callback at the end of the event-loop turn for everything written to in it, instead of a
 * setImmediate per socket or stream: transports write a turn's first message at once and hold the
 * rest of a burst until the turn ends (TurnBatcher, used by src/server/batching-websocket.ts and
 * sse-delivery.ts).
 */
export interface TurnWriter {
  turnEnded(): void;
}

let writtenThisTurn: TurnWriter[] = [];

/** `writer.turnEnded()` is called once the current turn has ended. */
export function atTurnEnd(writer: TurnWriter): void {
  if (writtenThisTurn.length === 0) setImmediate(endTurn);
  writtenThisTurn.push(writer);
}

function endTurn(): void {
  const writers = writtenThisTurn;
  writtenThisTurn = [];
  for (const writer of writers) writer.turnEnded();
}

/** What a TurnBatcher writes into. */
export interface BatchWriter<T> {
  /** Writes `items`, in order, as one write. */
  writeBatch(items: T[]): void;
  /** At the end of every turn the batcher was used in, once its waiting messages are written. */
  turnWritten?(): void;
}

/**
 * One connection's messages batched by event-loop turn (written in order with their owner's
 * `writeBatch`): the turn's first message at once, the rest of a burst together at the turn's
 * end. Holding the first one too kept every connection of a fan-out waiting until all of them had
 * been served. Between hold() and the last release(), messages wait for that release, which
 * writes them at once unless the turn has written already: a page of a reader's changes leaves as
 * one write when the page is done.
 */
export class TurnBatcher<T> implements TurnWriter {
  private waitsForTurnEnd = false;
  private wroteThisTurn = false;
  private held = 0;
  private pending: T[] = [];
  private pendingTotal = 0;

  // The owner and a shared function rather than closures: every open connection holds a batcher.
  constructor(
    private readonly owner: BatchWriter<T>,
    private readonly sizeOf: (item: T) => number,
  ) {}

  /** The size (sizeOf) of the messages waiting: they count towards their owner's high-water mark. */
  get pendingSize(): number {
    return this.pendingTotal;
  }

  add(item: T): void {
    this.startTurn();
    if (!this.wroteThisTurn && this.held === 0) {
      this.wroteThisTurn = true;
      this.owner.writeBatch([item]);
      return;
    }
    this.pending.push(item);
    this.pendingTotal += this.sizeOf(item);
  }

  /**
   * For a write the owner makes past the batch: whether it is the turn's first write, which may go
   * out at once; later ones belong at the turn's end. Holds do not apply to it.
   */
  firstWrite(): boolean {
    this.startTurn();
    if (this.wroteThisTurn) return false;
    this.wroteThisTurn = true;
    return true;
  }

  hold(): void {
    this.held++;
  }

  release(): void {
    if (--this.held > 0 || this.wroteThisTurn || this.pending.length === 0) return;
    this.wroteThisTurn = true;
    this.flush();
  }

  /** Writes the waiting messages now: before one of the owner's that must follow them. */
  flush(): void {
    if (this.pending.length === 0) return;
    const items = this.pending;
    this.pending = [];
    this.pendingTotal = 0;
    this.owner.writeBatch(items);
  }

  /** Drops the waiting messages: their connection has ended. */
  clear(): void {
    this.pending = [];
    this.pendingTotal = 0;
  }

  turnEnded(): void {
    this.waitsForTurnEnd = false;
    this.wroteThisTurn = false;
    this.flush();
    this.owner.turnWritten?.();
  }

  private startTurn(): void {
    if (this.waitsForTurnEnd) return;
    this.waitsForTurnEnd = true;
    atTurnEnd(this);
  }
}
