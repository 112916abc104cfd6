import { expect, test, vi } from 'vitest';
import { keepSerialized } from '../src/server/shared-message.ts';
import { EventStreamSink } from '../src/server/sse-delivery.ts';

// How many chunks an event stream's results cost (each is a write of the response): a reader's
// page of changes leaves as one chunk once the page is done (hold/release, as the shared execution
// calls them around a page); without a hold, a turn's first event leaves at once and the rest at
// the turn's end. Another stream is not held.
const result = (n: number) => ({ data: { n } });
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

function chunksOf(sink: EventStreamSink): string[] {
  const chunks: string[] = [];
  sink.readable.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
  return chunks;
}

const numbers = (chunks: string[]) =>
  chunks
    .join('')
    .split('\n\n')
    .filter(Boolean)
    .map((event) => JSON.parse(event.slice(event.indexOf('data: ') + 6)).data.n);

test('a held page of results leaves as one chunk at its release, in order', async () => {
  const sink = new EventStreamSink();
  const chunks = chunksOf(sink);
  sink.direct.hold?.();
  for (let n = 1; n <= 3; n++) expect(sink.direct.send(result(n))).toBeUndefined();
  expect(sink.readable.readableLength).toBe(0);
  sink.direct.release?.();
  await nextTurn();
  expect(chunks).toHaveLength(1);
  expect(numbers(chunks)).toEqual([1, 2, 3]);
});

test("without a hold, a turn's first result leaves at once and the rest at the turn's end", async () => {
  const sink = new EventStreamSink();
  const chunks = chunksOf(sink);
  for (let n = 1; n <= 3; n++) sink.direct.send(result(n));
  await nextTurn();
  await nextTurn();
  expect(chunks).toHaveLength(2);
  expect(numbers(chunks)).toEqual([1, 2, 3]);
});

test("one stream's hold does not delay another's events", async () => {
  const a = new EventStreamSink();
  const b = new EventStreamSink();
  const aChunks = chunksOf(a);
  const bChunks = chunksOf(b);
  a.direct.hold?.();
  a.direct.send(result(1));
  b.direct.send(result(2));
  expect(a.readable.readableLength).toBe(0);
  expect(b.readable.readableLength).toBeGreaterThan(0);
  a.direct.release?.();
  await nextTurn();
  expect(numbers(aChunks)).toEqual([1]);
  expect(numbers(bChunks)).toEqual([2]);
});

// A result that subscribers share (its JSON kept by the shared execution) is encoded once for
// every stream that sends it; one that no one shares is encoded and left as it was, with nothing
// kept on it for a second stream that will not come.
test('a shared result is encoded once for every stream; a lone one keeps nothing', async () => {
  const encode = vi.spyOn(TextEncoder.prototype, 'encode');
  try {
    const shared = result(1);
    keepSerialized(shared);
    const sinks = [new EventStreamSink(), new EventStreamSink(), new EventStreamSink()];
    const chunks = sinks.map(chunksOf);
    for (const sink of sinks) sink.direct.send(shared);
    expect(encode).toHaveBeenCalledTimes(1);

    // Nothing kept: were it sent again (it is not, in the service), it would be encoded again.
    const lone = result(2);
    const sink = new EventStreamSink();
    const loneChunks = chunksOf(sink);
    sink.direct.send(lone);
    expect(Reflect.ownKeys(lone)).toEqual(['data']);
    new EventStreamSink().direct.send(lone);
    expect(encode).toHaveBeenCalledTimes(3);
    await nextTurn();
    for (const c of chunks) expect(numbers(c)).toEqual([1]);
    expect(numbers(loneChunks)).toEqual([2]);
  } finally {
    encode.mockRestore();
  }
});
