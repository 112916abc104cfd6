import { Readable } from 'node:stream';
import {
  type DirectResults,
  EMPTY_PAYLOAD,
  keepSerialized,
  keptSerialization,
  serializedResult,
} from './shared-message.ts';
import { type BatchWriter, TurnBatcher } from './turn-end.ts';

const byteLength = (event: Uint8Array) => event.byteLength;

/** Bytes of results an event stream may have queued before its subscriptions wait for it. */
export const SSE_HIGH_WATER_BYTES = 1 << 20;

const encoder = new TextEncoder();

/** graphql-sse's `next` event when onNext returns EMPTY_PAYLOAD, distinct connections mode. */
const DISTINCT_NEXT = 'event: next\ndata: {}\n\n';
const EMPTY_SUFFIX = '{}}\n\n';

// Per shared result: its whole distinct-mode `next` event, encoded once for every stream that
// sends it, kept on the result as its JSON is (src/server/shared-message.ts). A result no one
// shares is encoded without keeping anything: this was a WeakMap entry for every result, as the
// JSON's memo was before it moved onto shared results only (whose entries were measured there).
const DISTINCT_EVENT = Symbol('distinct next event');

function distinctEvent(result: object): Uint8Array {
  const memo = result as { [DISTINCT_EVENT]?: Uint8Array };
  const cached = memo[DISTINCT_EVENT];
  if (cached !== undefined) return cached;
  const kept = keptSerialization(result);
  const bytes = encoder.encode(`event: next\ndata: ${kept ?? serializedResult(result)}\n\n`);
  if (kept !== undefined && Object.isExtensible(result)) {
    Object.defineProperty(result, DISTINCT_EVENT, { value: bytes });
  }
  return bytes;
}

/** The `next` event graphql-sse prints for operation `id` (or none: distinct mode) when onNext returns EMPTY_PAYLOAD. */
export const emptyNextEvent = (id: string | undefined): string =>
  id === undefined
    ? DISTINCT_NEXT
    : `event: next\ndata: {"id":${JSON.stringify(id)},"payload":${EMPTY_SUFFIX}`;

/**
 * One event stream's results on their way to the client: serialized once per result, however many
 * streams send it, and paced by the client.
 *
 * graphql-sse queues every event of a stream in an unbounded array and takes the next result of a
 * subscription as soon as its onNext hook returns, whatever the client reads: a stalled client's
 * events piled up in server memory. Here onNext (`accept`) returns an empty payload, so graphql-sse
 * prints a tiny placeholder event, and announces the real result; when the response takes that
 * event from graphql-sse's queue (`bytesOf`), the placeholder is replaced by the result's
 * serialization. While more than SSE_HIGH_WATER_BYTES of results are queued, onNext waits: the
 * subscription's reader does not read on until the client has taken them, then resumes where it
 * stopped, so a stalled client costs a bounded amount of memory and later receives everything, in
 * order.
 *
 * The response body is this sink's `readable` (SSE_HIGH_WATER_BYTES of buffer), which takes
 * graphql-sse's events only as fast as the socket drains. In distinct connections mode (one
 * subscription per stream), results without errors skip graphql-sse and Yoga's per-result chain
 * altogether (`direct`, src/server/shared-execution.ts): written into
 * `readable` at once, the pre-encoded event shared by every stream that sends the same result,
 * unless graphql-sse still holds an earlier event of the stream, which keeps them in order.
 */
export class EventStreamSink implements BatchWriter<Uint8Array> {
  readonly readable: Readable;
  private queuedBytes = 0;
  private closed = false;
  /** Per placeholder event (one per operation id), the results announced for it, in order. */
  private readonly announced = new Map<string, object[]>();
  private waiters: (() => void)[] = [];
  private events: AsyncGenerator<string, void> | undefined;
  private pulling = false;
  private wanted = false;
  /**
   * Direct events: a turn's first leaves at once, so that 100 streams of one change are not all
   * held until the last is served; the rest of a burst, or of a reader's page (hold), as one chunk.
   */
  private readonly directEvents = new TurnBatcher<Uint8Array>(this, byteLength);
  private roomForDirect: (() => void)[] = [];

  /** Called once when the stream ends. */
  onEnd: () => void = () => {};

  constructor() {
    this.readable = new Readable({
      highWaterMark: SSE_HIGH_WATER_BYTES,
      read: () => this.read(),
      destroy: (error, callback) => {
        this.close();
        void this.events?.return(undefined);
        callback(error);
      },
    });
  }

  /** graphql-sse's events for this stream: taken as the response reads. */
  attach(events: AsyncGenerator<string, void>): void {
    this.events = events;
    if (this.wanted) this.read();
  }

  /**
   * onNext of a result of the operation whose placeholder is `placeholder`: what onNext returns,
   * once there is room for it. Throws once the stream has ended, so that the subscription ends.
   */
  accept(placeholder: string, result: object): object | Promise<object> {
    if (this.closed) throw new Error('event stream closed');
    if (this.queuedBytes < SSE_HIGH_WATER_BYTES) return this.announce(placeholder, result);
    return this.room().then(() => this.accept(placeholder, result));
  }

  /** Results of the stream's one subscription (distinct connections mode) written without graphql-sse. */
  readonly direct: DirectResults = {
    send: (result) => {
      if (this.closed || this.announced.size > 0) return false;
      this.directEvents.add(distinctEvent(result));
      if (this.readable.readableLength + this.directEvents.pendingSize < SSE_HIGH_WATER_BYTES) {
        return undefined;
      }
      return new Promise<void>((resolve) => this.roomForDirect.push(resolve));
    },
    // A page of the reader's changes leaves as one chunk when the page is done.
    hold: () => this.directEvents.hold(),
    release: () => this.directEvents.release(),
  };

  /** The bytes to send for `event`, taken from graphql-sse's queue: a placeholder gets its result. */
  bytesOf(event: string): Uint8Array {
    const queue = this.announced.size === 0 ? undefined : this.announced.get(event);
    const result = queue?.shift();
    if (queue === undefined || result === undefined) return encoder.encode(event);
    if (queue.length === 0) this.announced.delete(event);
    const payload = serializedResult(result);
    this.queuedBytes -= payload.length;
    if (this.queuedBytes < SSE_HIGH_WATER_BYTES && this.waiters.length) this.wake();
    if (event === DISTINCT_NEXT) return distinctEvent(result);
    return encoder.encode(`${event.slice(0, -EMPTY_SUFFIX.length)}${payload}}\n\n`);
  }

  /** The response has ended: subscriptions waiting for room end at their next result. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.announced.clear();
    this.directEvents.clear();
    this.wake();
    this.onEnd();
  }

  private read(): void {
    const room = this.roomForDirect;
    if (room.length) {
      this.roomForDirect = [];
      for (const resolve of room) resolve();
    }
    if (!this.events || this.pulling) {
      this.wanted = true;
      return;
    }
    this.wanted = false;
    this.pulling = true;
    this.events.next().then(
      ({ done, value }) => {
        this.pulling = false;
        // This turn's direct events leave before anything graphql-sse sends after them.
        this.directEvents.flush();
        if (value != null && !this.closed) this.readable.push(this.bytesOf(value));
        if (done) {
          this.close();
          this.readable.push(null);
        } else if (this.wanted) this.read();
      },
      (error: unknown) => {
        this.pulling = false;
        this.readable.destroy(error as Error);
      },
    );
  }

  /** The batcher's write: direct events as one chunk. */
  writeBatch(events: Uint8Array[]): void {
    if (!this.closed) this.readable.push(events.length === 1 ? events[0] : Buffer.concat(events));
  }

  private announce(placeholder: string, result: object): object {
    const queue = this.announced.get(placeholder);
    if (queue) queue.push(result);
    else this.announced.set(placeholder, [result]);
    // Its JSON is read again when the event is sent (bytesOf).
    this.queuedBytes += keepSerialized(result).length;
    return EMPTY_PAYLOAD;
  }

  private room(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
    const room = this.roomForDirect;
    this.roomForDirect = [];
    for (const resolve of room) resolve();
  }
}
