import { expect, test } from 'vitest';
import {
  comparePositions,
  decodeCursor,
  END,
  encodeCursor,
  type Position,
} from '../../src/changes/position.ts';

const positions: Position[] = [];
for (const tick of [1, 2, 15, 16, 255, 256, 4096, 2 ** 40]) {
  for (const last of [0, 1, 9, 10, 17, 2 ** 31, END]) {
    for (const seq of [0, 1, 15, 16, 1000, END]) positions.push({ tick, last, seq });
  }
}

test('cursors compare byte-wise exactly as their positions do, with or without a snapshot', () => {
  const sorted = [...positions].sort(comparePositions);
  const encoded = sorted.map((position, i) =>
    encodeCursor({ position, seen: i % 3 === 0 ? { xmin: 700, xmax: 710, xip: [701, 705] } : undefined }),
  );
  for (let i = 1; i < encoded.length; i++) {
    expect(Buffer.compare(Buffer.from(encoded[i - 1] as string), Buffer.from(encoded[i] as string))).toBe(-1);
  }
});

test('cursors decode to what was encoded', () => {
  for (const position of positions) {
    expect(decodeCursor(encodeCursor({ position })).position).toEqual(position);
  }
  const seen = { xmin: 5, xmax: 0x1234, xip: [7, 9] };
  expect(decodeCursor(encodeCursor({ position: { tick: 3, last: END, seq: END }, seen })).seen).toEqual(seen);
});

test('anything else is rejected as BAD_USER_INPUT', () => {
  for (const bad of [
    '',
    'x',
    '1',
    '11',
    '111',
    '10111',
    '2011111',
    '121111.',
    '121111.zz.1',
    '121111.1',
    '0000000',
  ]) {
    expect(() => decodeCursor(bad), bad).toThrowError(expect.objectContaining({ code: 'BAD_USER_INPUT' }));
  }
});

test('the end of a batch is written short, and its long form still reads the same', () => {
  expect(encodeCursor({ position: { tick: 2, last: END, seq: END } })).toBe('12ff');
  expect(decodeCursor('12e1fffffffffffffe1fffffffffffff').position).toEqual({ tick: 2, last: END, seq: END });
});
