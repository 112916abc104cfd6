import { cursorOf, type ResumableOperation } from './operation.ts';

export interface Sink<T> {
  next(value: T): void;
  error(error: unknown): void;
  complete(): void;
}

export interface Request {
  readonly query: string;
  readonly operationName?: string | null | undefined;
  readonly variables?: Record<string, unknown> | null | undefined;
  readonly extensions?: Record<string, unknown> | null | undefined;
}

/** Quick at first, so that a restarted server is picked up within a second; then capped at 5 s. */
export async function backoff(retries: number): Promise<void> {
  const delay = Math.min(250 * 2 ** retries, 5_000);
  await new Promise((resolve) => setTimeout(resolve, delay * (0.75 + Math.random() * 0.5)));
}

/** The `extensions.code` of the first GraphQL error in what a client reports, if any. */
export function errorCode(error: unknown): string | undefined {
  const errors = Array.isArray(error) ? error : (error as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(errors)) return undefined;
  const code = (errors[0] as { extensions?: { code?: unknown } } | undefined)?.extensions?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A server that is starting, or has lost its database, asks to be asked again later. */
export const isRetryLater = (error: unknown) => errorCode(error) === 'SERVICE_UNAVAILABLE';

export interface ResumeOptions<T> {
  operation: ResumableOperation;
  /** The underlying client's subscribe. */
  subscribe(request: Request, sink: Sink<T>): () => void;
  /** Whether an error that ended the underlying subscription is worth subscribing again for. */
  retryable(error: unknown, attempt: number): boolean;
  wait(attempt: number): Promise<void>;
}

/**
 * A subscription the server refuses when it starts (CURSOR_EXPIRED, BAD_USER_INPUT,
 * SERVICE_UNAVAILABLE) arrives as one result with errors and no data, then a completion, over
 * WebSocket as over SSE. For a resumable subscription it is reported as an error instead: the
 * application must act on it (read a fresh snapshot), and a retry must not look like a new stream.
 */
function refusal(result: unknown): unknown[] | undefined {
  const { data, errors } = (result ?? {}) as { data?: unknown; errors?: unknown[] };
  return data == null && errors?.length ? errors : undefined;
}

/**
 * Subscribes with a copy of the request whose `after` follows every cursor handed to `sink`.
 * graphql-ws and graphql-sse serialize the same request object again on every retry, so their
 * own reconnects ask for exactly what the application has not seen yet; errors they do not
 * retry, but that a restart can cause, start a new underlying subscription from the same place.
 * The application's request object is never modified.
 */
export function subscribeResuming<T>(request: Request, sink: Sink<T>, options: ResumeOptions<T>): () => void {
  const variables: Record<string, unknown> = { ...request.variables };
  const resumable: Request = { ...request, variables };
  let ended = false;
  let attempt = 0;
  let stop: (() => void) | undefined;

  const fail = (error: unknown) => {
    if (options.retryable(error, attempt)) {
      void options.wait(attempt++).then(() => {
        if (!ended) start();
      });
      return;
    }
    ended = true;
    sink.error(error);
  };

  const start = () => {
    let settled = false;
    stop = options.subscribe(resumable, {
      next(result) {
        if (ended || settled) return;
        const errors = refusal(result);
        if (errors) {
          settled = true;
          stop?.();
          return fail(errors);
        }
        const cursor = cursorOf(result as { data?: unknown }, options.operation);
        if (cursor !== undefined) {
          variables.after = cursor;
          attempt = 0;
        }
        sink.next(result);
      },
      error(error) {
        if (ended || settled) return;
        settled = true;
        fail(error);
      },
      complete() {
        if (ended || settled) return;
        ended = true;
        sink.complete();
      },
    });
  };

  start();
  return () => {
    if (ended) return;
    ended = true;
    stop?.();
  };
}

/** An async iterator over a sink-based subscribe, as graphql-ws and graphql-sse offer. */
export function iterateWith<T>(subscribe: (sink: Sink<T>) => () => void): AsyncIterableIterator<T> {
  const pending: T[] = [];
  let done = false;
  let failure: { error: unknown } | undefined;
  let wake = () => {};
  const dispose = subscribe({
    next(value) {
      pending.push(value);
      wake();
    },
    error(error) {
      done = true;
      failure = { error };
      wake();
    },
    complete() {
      done = true;
      wake();
    },
  });
  const iterator = (async function* () {
    for (;;) {
      if (!pending.length && !done) await new Promise<void>((resolve) => (wake = resolve));
      while (pending.length) yield pending.shift() as T;
      if (failure) throw failure.error;
      if (done) return;
    }
  })();
  iterator.return = async () => {
    done = true;
    dispose();
    wake();
    return { done: true, value: undefined };
  };
  return iterator;
}
