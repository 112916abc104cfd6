export type Row = Record<string, unknown>;

/** One row change read from the binary log, waiting to be recorded in order_changes. */
export interface CapturedChange {
  op: 'INSERT' | 'UPDATE' | 'DELETE';
  old: Row | null;
  new: Row | null;
  /** binlog_pos: a place inside its transaction (see binlog-capture.ts). */
  at: number;
  actor: string | null;
}

/** The end of a captured transaction: where the capture stands once it is recorded. */
export interface TransactionEnd {
  end: { file: string; pos: number };
}

export type CaptureStep = CapturedChange | TransactionEnd;

export const isEnd = (step: CaptureStep): step is TransactionEnd => 'end' in step;

/**
 * What the binary log delivered and the database has not yet been given, in log order. Bounded:
 * once `limit` changes wait, `hold` is called (the reader stops reading the log), and `release`
 * once they are down to half, so a burst of any size, even one transaction of millions of rows,
 * costs at most `limit` changes of memory however slow the database is.
 */
export class CaptureBacklog {
  private steps: CaptureStep[] = [];
  private head = 0;
  /** Changes waiting; the most that ever waited at once. */
  changes = 0;
  peak = 0;
  /** Transaction ends waiting. */
  ends = 0;
  private holding = false;

  constructor(
    private readonly limit: number,
    private readonly flow: { hold(): void; release(): void },
  ) {}

  get length(): number {
    return this.steps.length - this.head;
  }

  push(step: CaptureStep): void {
    this.steps.push(step);
    if (isEnd(step)) {
      this.ends++;
      return;
    }
    this.changes++;
    if (this.changes > this.peak) this.peak = this.changes;
    if (!this.holding && this.changes >= this.limit) {
      this.holding = true;
      this.flow.hold();
    }
  }

  shift(): CaptureStep | undefined {
    if (this.head >= this.steps.length) return undefined;
    const step = this.steps[this.head] as CaptureStep;
    this.head++;
    // Drop the consumed prefix now and then, so the array does not keep what was applied.
    if (this.head >= 1_024 && this.head * 2 >= this.steps.length) {
      this.steps = this.steps.slice(this.head);
      this.head = 0;
    }
    if (isEnd(step)) this.ends--;
    else this.changes--;
    if (this.holding && this.changes <= this.limit / 2) {
      this.holding = false;
      this.flow.release();
    }
    return step;
  }

  clear(): void {
    this.steps = [];
    this.head = 0;
    this.changes = 0;
    this.ends = 0;
  }
}
