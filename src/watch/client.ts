import { type Client, CloseCode, createClient, type FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';
import type { ChangeFilter } from './args.ts';
import { ORDER_CHANGE_FIELDS, type OrderChange } from './format.ts';

export interface WatcherOptions {
  /** ws:// or wss:// endpoint of graphql-ws. */
  url: string;
  where?: ChangeFilter | undefined;
  /** Start right after this cursor; without it, from the feed's position when the watcher starts. */
  after?: string | undefined;
  /** A JWT, sent in connection_init, for servers with authentication on. */
  token?: string | undefined;
  /** Called once per change, in order, never twice for one cursor. */
  onChange(change: OrderChange): void;
  /** Connection news for a person: watching, lost, reconnecting. */
  onStatus(message: string): void;
  /** Attempts before giving up while the server has never been reached (default 4). */
  startAttempts?: number;
  /** First retry delay in ms (default 250), doubled on each failure up to `maxDelayMs` (default 5000). */
  initialDelayMs?: number;
  maxDelayMs?: number;
}

/** A reason to stop for good: the server is unreachable at start, or refuses the request. */
export class WatchError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

const SUBSCRIPTION = `subscription Watch($where: OrderChangeFilter, $after: String) {
  orderChanged(where: $where, after: $after) { ${ORDER_CHANGE_FIELDS} }
}`;
// The feed's current position: subscribing after it misses nothing committed from now on, and
// gives the watcher a cursor to resume from even before the first change arrives.
const POSITION_QUERY = 'query WatchPosition { orders(first: 1) { changeCursor } }';

// Close codes after which trying again cannot help.
const FATAL_CLOSE_CODES: number[] = [
  CloseCode.BadRequest,
  CloseCode.Unauthorized,
  CloseCode.Forbidden,
  CloseCode.SubprotocolNotAcceptable,
  CloseCode.TooManyInitialisationRequests,
];
const PING_INTERVAL_MS = 10_000;
const PONG_TIMEOUT_MS = 5_000;

type AttemptEnd =
  | { kind: 'stopped' }
  | { kind: 'lost'; connected: boolean; reason: string }
  | { kind: 'fatal'; error: WatchError };

/**
 * Subscribes to orderChanged and keeps the subscription alive: after any connection loss it
 * reconnects with backoff and subscribes again with `after` = the last cursor handed to
 * `onChange`, so a server restart neither loses nor repeats a change (test/watch.test.ts).
 */
export class Watcher {
  /** Where to resume: the last delivered change's cursor, or the position the watch started at. */
  cursor: string | undefined;
  private connectedOnce = false;
  private stopped = false;
  private interrupt: (() => void) | undefined;

  constructor(private readonly options: WatcherOptions) {
    this.cursor = options.after;
  }

  /** Resolves after stop(); rejects with a WatchError when it cannot go on. */
  async run(): Promise<void> {
    const { startAttempts = 4, initialDelayMs = 250, maxDelayMs = 5_000 } = this.options;
    let failures = 0;
    while (!this.stopped) {
      const end = await this.attempt();
      if (end.kind === 'stopped') return;
      if (end.kind === 'fatal') throw end.error;
      failures = end.connected ? 1 : failures + 1;
      if (!this.connectedOnce && failures >= startAttempts) {
        throw new WatchError(`cannot reach the server at ${this.options.url}: ${end.reason}`);
      }
      const delay = Math.min(initialDelayMs * 2 ** (failures - 1), maxDelayMs);
      const jittered = Math.round(delay * (0.8 + Math.random() * 0.4));
      if (this.connectedOnce) {
        this.options.onStatus(
          `connection lost (${end.reason}); reconnecting in ${(jittered / 1000).toFixed(1)}s`,
        );
      }
      await this.sleep(jittered);
    }
  }

  stop(): void {
    this.stopped = true;
    this.interrupt?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.interrupt = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private attempt(): Promise<AttemptEnd> {
    let lastError: unknown;
    let connected = false;
    let pongTimer: NodeJS.Timeout | undefined;
    const client = createClient({
      url: this.options.url,
      webSocketImpl: WebSocket,
      lazy: false,
      retryAttempts: 0,
      connectionParams: this.options.token ? { authorization: `Bearer ${this.options.token}` } : undefined,
      onNonLazyError: () => {},
      keepAlive: PING_INTERVAL_MS,
      on: {
        error: (error) => {
          lastError = error;
        },
        // A server that stops answering (dead network, frozen host) shows as a missing pong.
        ping: (received) => {
          if (!received) pongTimer = setTimeout(() => client.terminate(), PONG_TIMEOUT_MS);
        },
        pong: (received) => {
          if (!received) clearTimeout(pongTimer);
        },
      },
    });
    return new Promise<AttemptEnd>((resolve) => {
      let done = false;
      const finish = (end: AttemptEnd) => {
        if (done) return;
        done = true;
        this.interrupt = undefined;
        clearTimeout(pongTimer);
        void client.dispose();
        resolve(end);
      };
      const fail = (error: unknown) => {
        const fatal = fatalError(error, this.options.token !== undefined);
        if (fatal) return finish({ kind: 'fatal', error: fatal });
        const reason = describe(connected ? error : (lastError ?? error));
        finish({ kind: 'lost', connected, reason });
      };
      this.interrupt = () => finish({ kind: 'stopped' });
      client.on('closed', fail);
      client.on('connected', () => {
        connected = true;
        void this.subscribe(client, finish, fail).catch(fail);
      });
    });
  }

  private async subscribe(client: Client, finish: (end: AttemptEnd) => void, fail: (e: unknown) => void) {
    if (this.cursor === undefined) {
      const result = await execute<{ orders: { changeCursor: string } }>(client, POSITION_QUERY);
      if (result.errors?.length) return fail(result.errors);
      this.cursor = result.data?.orders.changeCursor;
    }
    const after = this.cursor;
    client.subscribe<{ orderChanged: OrderChange }>(
      { query: SUBSCRIPTION, variables: { where: this.options.where ?? null, after } },
      {
        next: (result) => {
          if (result.errors?.length) return fail(result.errors);
          const change = result.data?.orderChanged;
          // Cursors only grow within a subscription; one at or before ours was delivered already.
          if (!change || (this.cursor !== undefined && change.cursor <= this.cursor)) return;
          this.options.onChange(change);
          this.cursor = change.cursor;
        },
        error: fail,
        complete: () =>
          finish({ kind: 'lost', connected: true, reason: 'the server ended the subscription' }),
      },
    );
    this.options.onStatus(
      `${this.connectedOnce ? 'reconnected; resuming' : `connected to ${this.options.url}; watching`} after ${after}`,
    );
    this.connectedOnce = true;
  }
}

function execute<T>(client: Client, query: string): Promise<FormattedExecutionResult<T, unknown>> {
  return new Promise((resolve, reject) => {
    let result: FormattedExecutionResult<T, unknown> | undefined;
    client.subscribe<T>(
      { query },
      {
        next: (value) => {
          result = value;
        },
        error: reject,
        complete: () => (result ? resolve(result) : reject(new Error('no answer to the position query'))),
      },
    );
  });
}

function describe(error: unknown): string {
  if (error && typeof error === 'object') {
    const { code, reason, message } = error as { code?: unknown; reason?: unknown; message?: unknown };
    if (typeof message === 'string' && message) return message;
    if (typeof code === 'number') return `closed with code ${code}${reason ? ` ${String(reason)}` : ''}`;
  }
  return String(error);
}

function fatalError(error: unknown, withToken: boolean): WatchError | undefined {
  if (Array.isArray(error)) {
    const first = error[0] as { message?: string; extensions?: { code?: unknown } } | undefined;
    const code = typeof first?.extensions?.code === 'string' ? first.extensions.code : undefined;
    return new WatchError(first?.message ?? 'the server returned an error', code);
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (code === CloseCode.Forbidden) {
    return new WatchError(
      withToken
        ? 'the server refused the token (4403): it has expired, is not signed with the server’s key, or its role may not watch; get a fresh one (npm run token -- --role reader)'
        : 'the server needs a token (4403): npm run watch -- --token JWT, or ORDERS_TOKEN=JWT',
      'UNAUTHENTICATED',
    );
  }
  if (typeof code === 'number' && FATAL_CLOSE_CODES.includes(code)) {
    return new WatchError(`the server refused the connection: ${describe(error)}`);
  }
  return undefined;
}
