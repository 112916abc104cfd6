import type { Writable } from 'node:stream';
import { expect, test } from 'vitest';
import * as ws from 'ws';
import { textFrames } from '../src/server/websocket-frames.ts';

// ws exports its Sender and Receiver, which @types/ws does not declare.
const { Sender, Receiver } = ws as unknown as {
  Sender: { frame(data: Buffer, options: object): Buffer[] };
  Receiver: new (options: { isServer: boolean }) => Writable;
};

// The server frames the `next` messages of one event-loop turn itself (src/server/batching-websocket.ts):
// the bytes must be those ws's own Sender writes for each message, and a client must read back
// every message, in order. Lengths on both sides of each header size, and text of several bytes per
// character.
const MESSAGES = [
  '',
  'a',
  'x'.repeat(125),
  'x'.repeat(126),
  'é'.repeat(63), // 126 bytes in 63 characters
  'x'.repeat(65_535),
  'x'.repeat(65_536),
  '€'.repeat(30_000), // 90,000 bytes
  '{"id":"1","type":"next","payload":{"data":{"note":"\u2028 😀"}}}',
];

test('each message is framed as ws frames it', () => {
  for (const message of MESSAGES) {
    const ws = Buffer.concat(
      Sender.frame(Buffer.from(message), { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false }),
    );
    expect(textFrames([message]).equals(ws)).toBe(true);
  }
});

test('a client reads back every message of one buffer, in order', async () => {
  const receiver = new Receiver({ isServer: false });
  const received: string[] = [];
  receiver.on('message', (data: Buffer, isBinary: boolean) => {
    expect(isBinary).toBe(false);
    received.push(data.toString('utf8'));
  });
  const done = new Promise<void>((resolve, reject) => {
    receiver.on('error', reject);
    receiver.write(textFrames(MESSAGES), (error?: Error | null) => (error ? reject(error) : resolve()));
  });
  await done;
  expect(received).toEqual(MESSAGES);
});
