import type { FeedStatus } from './source.ts';

/**
 * What a feed reports of its dedicated connection: why it is down (or 'starting'), how often it
 * was lost since start, and when it first came up.
 */
export class ConnectionHealth {
  private reason: string | undefined = 'starting';
  private losses = 0;
  private markUp!: () => void;
  private readonly firstUp = new Promise<void>((resolve) => {
    this.markUp = resolve;
  });

  get downReason(): string | undefined {
    return this.reason;
  }

  up(): void {
    this.reason = undefined;
    this.markUp();
  }

  /** A loss is counted once per outage, not once per failed reconnection. */
  down(reason: string): void {
    if (this.reason === undefined) this.losses++;
    this.reason = reason;
  }

  /** Resolves when the connection first came up, or after `timeoutMs` without it. */
  async firstConnection(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([this.firstUp, timeout]);
    clearTimeout(timer);
  }

  status(state: Omit<FeedStatus, 'reason' | 'connectionLosses'>): FeedStatus {
    return {
      ...state,
      reason: state.listening ? undefined : (this.reason ?? 'stopped'),
      connectionLosses: this.losses,
    };
  }
}
