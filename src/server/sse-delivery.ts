import { EMPTY_PAYLOAD, serializedResult } from './shared-message.ts';

/** Bytes of results an event stream may have queued before its subscriptions wait for it. */
export const SSE_HIGH_WATER_BYTES = 1 << 20;

const encoder = new TextEncoder();

/** graphql-sse's `next` event when onNext returns EMPTY_PAYLOAD, distinct connections mode. */
const DISTINCT_NEXT = 'event: next\ndata: {}\n\n';
const EMPTY_SUFFIX = '{}}\n\n';

/** Per result: its whole distinct-mode `next` event, encoded once for every stream that sends it. */
const distinctEvents = new WeakMap<object, Uint8Array>();

function distinctEvent(result: object): Uint8Array {
  let bytes = distinctEvents.get(result);
  if (bytes === undefined) {
    bytes = encoder.encode(`event: next\ndata: ${serializedResult(result)}\n\n`);
    distinctEvents.set(result, bytes);
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
 * event from graphql-sse's queue (`bytesOf`: the response reads only as fast as its socket drains),
 * the placeholder is replaced by the result's serialization. While more than SSE_HIGH_WATER_BYTES
 * of results are queued, onNext waits: the subscription's reader does not read on until the client
 * has taken them, then resumes where it stopped, so a stalled client costs at most that much memory
 * and later receives everything, in order.
 */
export class EventStreamSink {
  private queuedBytes = 0;
  private closed = false;
  /** Per placeholder event (one per operation id), the results announced for it, in order. */
  private readonly announced = new Map<string, object[]>();
  private waiters: (() => void)[] = [];

  /**
   * onNext of a result of the operation whose placeholder is `placeholder`: what onNext returns,
   * once there is room for it. Throws once the stream has ended, so that the subscription ends.
   */
  accept(placeholder: string, result: object): object | Promise<object> {
    if (this.closed) throw new Error('event stream closed');
    if (this.queuedBytes < SSE_HIGH_WATER_BYTES) return this.announce(placeholder, result);
    return this.room().then(() => this.accept(placeholder, result));
  }

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
    this.closed = true;
    this.announced.clear();
    this.wake();
  }

  private announce(placeholder: string, result: object): object {
    const queue = this.announced.get(placeholder);
    if (queue) queue.push(result);
    else this.announced.set(placeholder, [result]);
    this.queuedBytes += serializedResult(result).length;
    return EMPTY_PAYLOAD;
  }

  private room(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}
