import {
  createSourceEventStream,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  getOperationAST,
  getVariableValues,
  type OperationDefinitionNode,
  print,
} from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import type { Access } from '../auth/access.ts';
import type { PageListener } from '../changes/change-stream.ts';
import { executeSelection, loadCompiler } from './compiled-execution.ts';
import { type DirectResults, keepSerialized, type SubscriptionSink } from './shared-message.ts';
import { asStreamError } from './stream-errors.ts';

type MaybePromise<T> = T | Promise<T>;

/** Totals since start, for /metrics: subscription events executed, and events that reused a result. */
export interface SharingStats {
  executions: number;
  reused: number;
}

export const newSharingStats = (): SharingStats => ({ executions: 0, reused: 0 });

/**
 * Subscribers with the same document, operation name, variables and authorization scope share one
 * execution per change (Hasura's "multiplexed" subscriptions): the first subscriber to reach a
 * change executes the selection on it, the others at the same change reuse that result object,
 * which is then serialized once (src/server/shared-message.ts).
 *
 * Only the per-change work is shared. Each subscription still runs its own `subscribe` resolver,
 * so it keeps its own start position, reader, filter, pace and errors (CURSOR_EXPIRED is thrown
 * there); only the execution of the selection on one change object is memoized, keyed by that
 * object, so it lives as long as the change stays in the feed's window of recent changes.
 *
 * This replaces only the subscribe function at the end of Yoga's pipeline: parsing, validation,
 * operation limits, authentication and context run before it, per subscriber, and error masking
 * runs after it on each subscriber's results, exactly as for an unshared subscription. A shared
 * result whose execution had errors is masked per subscriber, into a result of its own.
 * (test/shared-subscriptions.test.ts)
 */
export function useSharedSubscriptionExecution(stats: SharingStats = newSharingStats()): Plugin {
  // Per change object, per key: the result, and how many more subscribers of the key may ask for it.
  const results = new WeakMap<object, Map<string, { result: MaybePromise<ExecutionResult>; left: number }>>();
  // Open subscriptions per key: a change's result is memoized only while two or more can use it.
  // Each subscription holds its key's entry, so the key string (the whole document) is kept once.
  const subscribers = new Map<string, SharingKey>();
  const documentIds = new WeakMap<DocumentNode, string>();
  const sharedSubscribes = new WeakMap<object, (args: ExecutionArgs) => unknown>();

  const keyOf = (args: ExecutionArgs): string => {
    let document = documentIds.get(args.document);
    if (document === undefined) {
      document = print(args.document);
      documentIds.set(args.document, document);
    }
    const access = (args.contextValue as { access?: Access } | undefined)?.access;
    return JSON.stringify([
      document,
      args.operationName ?? null,
      args.variableValues ?? null,
      access?.role ?? null,
      access?.customer ?? null,
    ]);
  };

  const executeShared = (args: ExecutionArgs, { key, open }: SharingKey, payload: unknown) => {
    if (typeof payload !== 'object' || payload === null || open < 2) {
      stats.executions++;
      return executeSelection(args, payload);
    }
    let byKey = results.get(payload);
    if (!byKey) {
      byKey = new Map();
      results.set(payload, byKey);
    }
    const shared = byKey.get(key);
    if (shared) {
      stats.reused++;
      // Freed once every subscriber open at the time has taken it; one that started later, or
      // ended, never asks, and the entry then lives as long as the change object is held (by the
      // feed's window of recent changes, or a subscriber's current page), never longer.
      if (--shared.left <= 0 && byKey.delete(key) && byKey.size === 0) results.delete(payload);
      return shared.result;
    }
    stats.executions++;
    const result = keepingSerialized(executeSelection(args, payload));
    byKey.set(key, { result, left: open - 1 });
    return result;
  };

  const releaseKey = (key: SharingKey) => {
    if (--key.open <= 0 && subscribers.get(key.key) === key) subscribers.delete(key.key);
  };
  const sharing: Sharing = { execute: executeShared, release: releaseKey };

  const subscribeShared = async (args: ExecutionArgs, fallback: (args: ExecutionArgs) => unknown) => {
    const operation = getOperationAST(args.document, args.operationName);
    // Anything unusual (no such operation, variables that do not fit) goes through Yoga's own
    // executor, so that its errors stay exactly as they were.
    if (operation?.operation !== 'subscription' || !variablesFit(args, operation)) return fallback(args);
    // Loaded before the first event, not by it: see executeSelection.
    void loadCompiler();
    const source = await createSourceEventStream(args);
    if (!isAsyncIterable(source)) return source;
    const keyText = keyOf(args);
    const key = subscribers.get(keyText) ?? { key: keyText, open: 0 };
    subscribers.set(keyText, key);
    key.open++;
    const root = args.rootValue as { direct?: DirectResults; subscriber?: SubscriptionSink } | undefined;
    if (root?.subscriber) {
      const events = new PushedEvents(
        source[Symbol.asyncIterator](),
        operation,
        args,
        key,
        sharing,
        root.subscriber,
      );
      root.subscriber.adopt(events);
      events.pull();
      return ADOPTED;
    }
    let open = true;
    const release = () => {
      if (!open) return;
      open = false;
      releaseKey(key);
    };
    const direct = root?.direct;
    return mapEvents(
      source[Symbol.asyncIterator](),
      operation,
      release,
      (payload) => executeShared(args, key, payload),
      direct,
    );
  };

  return {
    onSubscribe({ subscribeFn, setSubscribeFn }) {
      // One function per subscribe function before it (Yoga's, always the same), not one per
      // subscription: envelop keeps it for as long as the subscription lasts.
      let shared = sharedSubscribes.get(subscribeFn);
      if (!shared) {
        const fallback = subscribeFn as (args: ExecutionArgs) => unknown;
        shared = (args: ExecutionArgs) => subscribeShared(args, fallback);
        sharedSubscribes.set(subscribeFn, shared);
      }
      setSubscribeFn(shared as never);
    },
  };
}

/**
 * What the subscribe function returns for a subscription taken by its SubscriptionSink: a result
 * without data or errors, which Yoga's result hooks leave alone, and which the sink's transport
 * does not send.
 */
export const ADOPTED: ExecutionResult = Object.freeze({});

/** A subscription's way to its key's shared executions, one for all (no closure per subscription). */
interface Sharing {
  execute(args: ExecutionArgs, key: SharingKey, payload: unknown): MaybePromise<ExecutionResult>;
  /** The subscription of `key` has ended. */
  release(key: SharingKey): void;
}

/** One document, operation name, variables and scope, and how many subscriptions of it are open. */
interface SharingKey {
  readonly key: string;
  open: number;
}

/**
 * A result that subscribers share, with its JSON kept on it for all of them (a result with errors
 * is masked into a copy per subscriber, which is serialized on its own). A result that cannot be
 * serialized is left as it is: each sender meets that error as it would have.
 */
function keepingSerialized(result: MaybePromise<ExecutionResult>): MaybePromise<ExecutionResult> {
  if (isPromise(result)) return result.then(keepingSerialized);
  if (result.errors === undefined) {
    try {
      keepSerialized(result);
    } catch {
      // each sender meets the error as it would have
    }
  }
  return result;
}

function variablesFit(args: ExecutionArgs, operation: OperationDefinitionNode): boolean {
  const coerced = getVariableValues(
    args.schema,
    operation.variableDefinitions ?? [],
    (args.variableValues ?? {}) as Record<string, unknown>,
    { maxErrors: 1 },
  );
  return coerced.errors === undefined;
}

/**
 * A subscription's source events; the feed's streams (src/changes/change-stream.ts PagedStream)
 * also hand over events already read without a promise (takeReady), and call back with the next
 * one (wait) within the move of the feed's head that readies it.
 */
type EventSource = AsyncIterator<unknown> & {
  takeReady?: () => unknown;
  wait?: (listener: PageListener<unknown>) => void;
};

function isPromise<T>(value: MaybePromise<T>): value is Promise<T> {
  return typeof (value as Promise<T> | undefined)?.then === 'function';
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof (value as AsyncIterable<unknown>)?.[Symbol.asyncIterator] === 'function';
}

/**
 * Each event of `source`, executed. Like the executor it replaces: an error of the source stream
 * is rethrown located at the operation, and ending the results ends the source.
 *
 * With `direct` (graphql-sse's distinct connections), a result without errors is sent to the client right here and the
 * next event taken at once, so one call of next() delivers every change the reader has ready;
 * next() resolves only with a result that needs the chain (one with errors, to be masked), or
 * at the end. Events already read are taken without a promise each (PagedStream.takeReady), and
 * sent within one hold of `direct`, so that a page of them leaves together; a slow client is
 * waited for before the next event is read: the reader keeps the client's pace.
 */
function mapEvents(
  source: EventSource,
  operation: OperationDefinitionNode,
  release: () => void,
  run: (payload: unknown) => MaybePromise<ExecutionResult>,
  direct?: DirectResults,
): AsyncIterableIterator<ExecutionResult> {
  return new ExecutedEvents(source, operation, release, run, direct);
}

// A class, not an object literal: every open subscription holds one, and a literal's methods are
// closures of their own, per subscription (with a name string each for [Symbol.asyncIterator]).
class ExecutedEvents implements AsyncIterableIterator<ExecutionResult> {
  private ended = false;
  /** Whether `direct` holds this page's results (hold()); released at the next wait. */
  private holding = false;

  constructor(
    private readonly source: EventSource,
    private readonly operation: OperationDefinitionNode,
    private readonly release: () => void,
    private readonly run: (payload: unknown) => MaybePromise<ExecutionResult>,
    private readonly direct: DirectResults | undefined,
  ) {}

  async next(): Promise<IteratorResult<ExecutionResult, undefined>> {
    if (!this.direct) return this.deliverDirect();
    // Held from the first result taken without waiting to the next wait: one page's results.
    try {
      return await this.deliverDirect();
    } finally {
      this.releaseHeld();
    }
  }

  private hold(): void {
    if (this.holding) return;
    this.holding = true;
    this.direct?.hold?.();
  }

  private releaseHeld(): void {
    if (!this.holding) return;
    this.holding = false;
    this.direct?.release?.();
  }

  private async deliverDirect(): Promise<IteratorResult<ExecutionResult, undefined>> {
    const { source, direct } = this;
    for (;;) {
      let payload = direct && source.takeReady?.();
      if (payload === undefined || payload === false) {
        this.releaseHeld();
        let event: IteratorResult<unknown>;
        try {
          event = await source.next();
        } catch (error) {
          this.release();
          throw createGraphQLError((error as Error).message, {
            originalError: error as Error,
            nodes: [this.operation],
          });
        }
        if (event.done || this.ended) {
          this.release();
          return { done: true, value: undefined };
        }
        payload = event.value;
      }
      if (direct) this.hold();
      let result: ExecutionResult;
      try {
        const executed = this.run(payload);
        result = isPromise(executed) ? await executed : executed;
      } catch (error) {
        await this.return();
        throw error;
      }
      if (this.ended) return { done: true, value: undefined };
      if (!direct || result.errors !== undefined) return { done: false, value: result };
      let sent: ReturnType<DirectResults['send']>;
      try {
        sent = direct.send(result);
      } catch (error) {
        await this.return();
        throw error;
      }
      if (sent === false) return { done: false, value: result };
      if (sent) {
        this.releaseHeld();
        await sent;
      }
    }
  }

  async return(): Promise<IteratorResult<ExecutionResult, undefined>> {
    this.ended = true;
    this.release();
    await this.source.return?.();
    return { done: true, value: undefined };
  }

  async throw(error?: unknown): Promise<IteratorResult<ExecutionResult, undefined>> {
    await this.return();
    throw error;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/**
 * Each event of `source`, executed and pushed to `sink`, as ExecutedEvents with `direct` delivers
 * them but with nobody pulling: per idle subscription only the source's pending read and this
 * object are kept, no suspended call. Results with errors and the end go to the sink as well; an
 * error of the source or of an execution ends the subscription with it as its last result, as
 * useStreamErrorsAsResults (src/server/stream-errors.ts) ends the pulled ones. A slow client is
 * waited for before the next event is read.
 */
class PushedEvents {
  private ended = false;
  private released = false;

  constructor(
    private readonly source: EventSource,
    private readonly operation: OperationDefinitionNode,
    private readonly args: ExecutionArgs,
    private readonly key: SharingKey,
    private readonly sharing: Sharing,
    private readonly sink: SubscriptionSink,
  ) {}

  /**
   * Delivers `event` (one just read) and every event already read, then waits for the next one;
   * the sink holds them as one page.
   */
  pull(event?: IteratorResult<unknown>): void {
    this.sink.hold?.();
    try {
      if (event === undefined || this.deliver(event.value)) this.deliverReady();
    } finally {
      this.sink.release?.();
    }
  }

  private deliverReady(): void {
    while (!this.ended) {
      const ready = this.source.takeReady?.();
      if (ready === undefined || ready === false) {
        // Called back within the feed's head move when the source can: the change reaches this
        // subscriber's socket before the next subscriber's work starts (PagedStream.wait).
        if (this.source.wait) {
          this.source.wait(this);
          return;
        }
        let next: Promise<IteratorResult<unknown>>;
        try {
          next = this.source.next();
        } catch (error) {
          this.failSource(error);
          return;
        }
        next.then(
          (event) => this.onEvent(event),
          (error: unknown) => this.failSource(error),
        );
        return;
      }
      if (!this.deliver(ready)) return;
    }
  }

  async return(): Promise<IteratorResult<ExecutionResult, undefined>> {
    this.ended = true;
    this.release();
    await this.source.return?.();
    return { done: true, value: undefined };
  }

  private release(): void {
    if (this.released) return;
    this.released = true;
    this.sharing.release(this.key);
  }

  /** The source's callback (PagedStream.wait): the next event. */
  pageReady(event: IteratorResult<unknown>): void {
    this.onEvent(event);
  }

  /** The source's callback (PagedStream.wait): its read failed. */
  pageFailed(error: unknown): void {
    this.failSource(error);
  }

  private onEvent(event: IteratorResult<unknown>): void {
    if (this.ended) return;
    if (event.done) {
      this.ended = true;
      this.release();
      this.sink.end();
      return;
    }
    this.pull(event);
  }

  /** Executes and sends one event; true when the next may be taken at once. */
  private deliver(payload: unknown): boolean {
    let executed: MaybePromise<ExecutionResult>;
    try {
      executed = this.sharing.execute(this.args, this.key, payload);
    } catch (error) {
      this.fail(error);
      return false;
    }
    if (!isPromise(executed)) return this.send(executed);
    executed.then(
      (result) => {
        if (this.send(result)) this.pull();
      },
      (error: unknown) => this.fail(error),
    );
    return false;
  }

  private send(result: ExecutionResult): boolean {
    if (this.ended) return false;
    let sent: undefined | Promise<void>;
    try {
      sent = this.sink.next(result);
    } catch (error) {
      this.fail(error);
      return false;
    }
    if (!sent) return true;
    sent.then(
      () => this.pull(),
      (error: unknown) => this.fail(error),
    );
    return false;
  }

  /** The source failed: its error, located at the operation as the executor would. */
  private failSource(error: unknown): void {
    this.fail(
      createGraphQLError((error as Error)?.message ?? String(error), {
        originalError: error as Error,
        nodes: [this.operation],
      }),
    );
  }

  private fail(error: unknown): void {
    if (this.ended) return;
    void this.return().catch(() => {});
    this.sink.end(asStreamError(error));
  }
}
