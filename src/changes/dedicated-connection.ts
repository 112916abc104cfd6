import type { Logger } from '../log.ts';

export interface DedicatedConnectionOptions {
  log: Logger;
  onDown: (reason: string) => void;
  /** Logged at each loss, e.g. 'change feed connection lost'. */
  lostMessage: string;
}

/**
 * A connection of the feed's own, outside any pool, that reconnects when lost: one session after
 * the other, with a backoff from 100 ms doubling to 5 s (reset by a session that came up). A
 * session holds the leadership of its instance while `leader` is set; losing the session loses it.
 */
export abstract class DedicatedConnection {
  protected up = false;
  protected leader = false;
  /** Ends the running session with a reason (set by the session while it runs). */
  protected drop: ((reason: string) => void) | undefined;
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(private readonly base: DedicatedConnectionOptions) {}

  get isUp(): boolean {
    return this.up;
  }

  get isLeader(): boolean {
    return this.up && this.leader;
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.drop?.('stopping');
    await this.loop;
  }

  /** One connection's life; resolves (or rejects) with the reason it ended. */
  protected abstract session(): Promise<string>;

  private async run(): Promise<void> {
    let delay = 100;
    while (!this.stopped) {
      const reason = await this.session().catch((error: Error) => error.message || String(error));
      if (this.up) delay = 100;
      this.up = false;
      this.leader = false;
      if (this.stopped) break;
      this.base.onDown(reason);
      this.base.log.warn({ reason, retryInMs: delay }, this.base.lostMessage);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 5_000);
    }
  }
}
