import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { BatchingWebSocket } from '../src/server/batching-websocket.ts';

// How many writes a socket costs: a subscriber's page of changes (a tick of several transactions)
// leaves in one write once the page is done (holdWrites/releaseWrites, as the shared execution
// calls them around a page); without a hold, a turn's first message leaves at once and the rest
// at the turn's end. Real sockets on 127.0.0.1; the server side's writes are counted.
let server: WebSocketServer;
let url: string;
const accepted: BatchingWebSocket[] = [];

beforeAll(async () => {
  server = new WebSocketServer({ host: '127.0.0.1', port: 0, WebSocket: BatchingWebSocket });
  server.on('connection', (socket: BatchingWebSocket) => accepted.push(socket));
  await new Promise((resolve) => server.once('listening', resolve));
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const socket of accepted) socket.terminate();
  await new Promise((resolve) => server.close(resolve));
});

async function connect(): Promise<{ server: BatchingWebSocket; writes: number[]; received: string[] }> {
  const before = accepted.length;
  const client = new WebSocket(url);
  const received: string[] = [];
  client.on('message', (data) => received.push(String(data)));
  await new Promise((resolve) => client.once('open', resolve));
  while (accepted.length === before) await new Promise((resolve) => setImmediate(resolve));
  const socket = accepted.at(-1) as BatchingWebSocket;
  const raw = (socket as unknown as { _socket: Socket })._socket;
  const writes: number[] = [];
  const write = raw.write.bind(raw) as (...args: unknown[]) => boolean;
  raw.write = ((...args: unknown[]) => {
    writes.push(performance.now());
    return write(...args);
  }) as typeof raw.write;
  return { server: socket, writes, received };
}

const result = (n: number) => ({ data: { n } });
const prefix = '{"id":"1","type":"next","payload":';
const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
};

test('a held page of results leaves in one write at its release, in order', async () => {
  const a = await connect();
  a.server.holdWrites();
  for (let n = 1; n <= 3; n++) a.server.sendResult(prefix, result(n));
  expect(a.writes).toHaveLength(0);
  a.server.releaseWrites();
  expect(a.writes).toHaveLength(1);
  await until(() => a.received.length === 3);
  expect(a.received.map((m) => JSON.parse(m).payload.data.n)).toEqual([1, 2, 3]);
});

test("without a hold, a turn's first result leaves at once and the rest at the turn's end", async () => {
  const a = await connect();
  for (let n = 1; n <= 3; n++) a.server.sendResult(prefix, result(n));
  expect(a.writes).toHaveLength(1);
  await new Promise((resolve) => setImmediate(resolve));
  expect(a.writes).toHaveLength(2);
  await until(() => a.received.length === 3);
  expect(a.received.map((m) => JSON.parse(m).payload.data.n)).toEqual([1, 2, 3]);
});

test("one socket's hold does not delay another's writes", async () => {
  const a = await connect();
  const b = await connect();
  a.server.holdWrites();
  a.server.sendResult(prefix, result(1));
  b.server.sendResult(prefix, result(2));
  expect(a.writes).toHaveLength(0);
  expect(b.writes).toHaveLength(1);
  // Nested holds (two subscriptions of one socket) release at the last.
  a.server.holdWrites();
  a.server.sendResult(prefix, result(3));
  a.server.releaseWrites();
  expect(a.writes).toHaveLength(0);
  a.server.releaseWrites();
  expect(a.writes).toHaveLength(1);
  await until(() => a.received.length === 2 && b.received.length === 1);
  expect(a.received.map((m) => JSON.parse(m).payload.data.n)).toEqual([1, 3]);
});
