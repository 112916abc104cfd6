import { CloseCode } from 'graphql-ws';
import WebSocket from 'ws';
import { createClient } from '../client/index.ts';
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

/**
 * Subscribes to orderChanged through realtime-orders/client, which reconnects with backoff and
 * re-subscribes with `after` = the last cursor handed to `onChange`, so that a server restart
 * neither loses nor repeats a change (test/watch.test.ts). This class adds what a person at a
 * terminal needs: giving up when the server was never reached, and saying what happens.
 */
export class Watcher {
  /** Where to resume: the last delivered change's cursor, or the position the watch started at. */
  cursor: string | undefined;
  private stopped = false;
  private interrupt: (() => void) | undefined;

  constructor(private readonly options: WatcherOptions) {
    this.cursor = options.after;
  }

  /** Resolves after stop(); rejects with a WatchError when it cannot go on. */
  run(): Promise<void> {
    const { url, onStatus, startAttempts = 4, initialDelayMs = 250, maxDelayMs = 5_000 } = this.options;
    let watching = false;
    let failures = 0;
    let lastProblem: unknown;
    let lastError: unknown;
    const client = createClient({
      url,
      webSocketImpl: WebSocket,
      connectionParams: this.options.token ? { authorization: `Bearer ${this.options.token}` } : undefined,
      // A short pause between the position query and the subscription must not close the socket.
      lazyCloseTimeout: 1_000,
      shouldRetry: (problem) => {
        lastProblem = problem;
        if (fatalError(problem, this.options.token !== undefined)) return false;
        return watching || ++failures < startAttempts;
      },
      retryWait: async (retries) => {
        const delay = Math.min(initialDelayMs * 2 ** retries, maxDelayMs) * (0.8 + Math.random() * 0.4);
        if (watching) {
          onStatus(
            `connection lost (${describe(lastProblem)}); reconnecting in ${(delay / 1000).toFixed(1)}s`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, delay));
      },
      on: {
        error: (error) => {
          lastError = error;
        },
        connected: () => {
          if (watching) onStatus(`reconnected; resuming after ${this.cursor}`);
        },
      },
    });

    return new Promise<void>((resolve, reject) => {
      let unsubscribe: (() => void) | undefined;
      const finish = (error?: WatchError) => {
        this.interrupt = undefined;
        unsubscribe?.();
        void client.dispose();
        if (error) reject(error);
        else resolve();
      };
      const fail = (error: unknown) =>
        finish(
          fatalError(error, this.options.token !== undefined) ??
            new WatchError(
              watching
                ? `the connection failed: ${describe(error)}`
                : `cannot reach the server at ${url}: ${describe(lastError ?? error)}`,
            ),
        );
      const subscribe = () => {
        unsubscribe = client.subscribe<{ orderChanged: OrderChange }>(
          { query: SUBSCRIPTION, variables: { where: this.options.where ?? null, after: this.cursor } },
          {
            next: ({ data }) => {
              if (!data) return;
              this.options.onChange(data.orderChanged);
              this.cursor = data.orderChanged.cursor;
            },
            error: fail,
            // The server ended it (it does not, short of stopping): go on from the last change.
            complete: () => {
              if (!this.stopped) setTimeout(subscribe, initialDelayMs);
            },
          },
        );
        if (!watching) onStatus(`connected to ${url}; watching after ${this.cursor}`);
        watching = true;
      };
      this.interrupt = () => finish();
      if (this.stopped) return finish();
      if (this.cursor !== undefined) return subscribe();
      client.subscribe<{ orders: { changeCursor: string } }>(
        { query: POSITION_QUERY },
        {
          next: ({ data, errors }) => {
            if (errors?.length) return fail(errors);
            this.cursor = data?.orders.changeCursor;
          },
          error: fail,
          complete: () => {
            if (this.cursor !== undefined && !this.stopped) subscribe();
          },
        },
      );
    });
  }

  stop(): void {
    this.stopped = true;
    this.interrupt?.();
  }
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
