import { badInput } from '../errors.ts';

/**
 * A place in the change log: tick, then the batch order (a transaction's last seq, then seq).
 * `{ tick, last: END, seq: END }` is the end of a tick's batch.
 */
export interface Position {
  tick: number;
  last: number;
  seq: number;
}

export const END = Number.MAX_SAFE_INTEGER;

export const endOfTick = (tick: number): Position => ({ tick, last: END, seq: END });

export function comparePositions(a: Position, b: Position): number {
  return a.tick - b.tick || a.last - b.last || a.seq - b.seq;
}

/** A `pg_snapshot`: transactions below xmin or below xmax and not in xip had committed. */
export interface Snapshot {
  xmin: number;
  xmax: number;
  xip: number[];
}

export function parseSnapshot(text: string): Snapshot {
  const [xmin, xmax, xip] = text.split(':');
  return { xmin: Number(xmin), xmax: Number(xmax), xip: xip ? xip.split(',').map(Number) : [] };
}

export function visibleIn(txid: number, s: Snapshot): boolean {
  return txid < s.xmin || (txid < s.xmax && !s.xip.includes(txid));
}

/**
 * Where a reader stands: a position, plus, right after a consistent read (`changeCursor`), the
 * snapshot that read saw. Changes of transactions visible in that snapshot are already reflected
 * and are skipped until the log is past every such transaction.
 */
export interface Cursor {
  position: Position;
  seen?: Snapshot | undefined;
}

// Each number is written as one hex digit giving its length, then its hex digits. That makes the
// encoding self-delimiting and order-preserving, so cursors compare byte-wise in log order and
// the optional snapshot suffix never affects the comparison.
// END is written as a lone 'f': no real value has 15 hex digits, so it still sorts after them all.
function encodeNumber(n: number): string {
  if (n === END) return 'f';
  const hex = n.toString(16);
  return hex.length.toString(16) + hex;
}

export function encodeCursor({ position, seen }: Cursor): string {
  const base = encodeNumber(position.tick) + encodeNumber(position.last) + encodeNumber(position.seq);
  if (!seen) return base;
  return `${base}.${[seen.xmin, seen.xmax, ...seen.xip].map((n) => n.toString(16)).join('.')}`;
}

export function decodeCursor(text: string, field = 'after'): Cursor {
  const invalid = () => badInput(field, 'is not a cursor from this feed');
  if (typeof text !== 'string' || text.length > 10_000) throw invalid();
  const [base = '', ...suffix] = text.split('.');
  const numbers: number[] = [];
  let i = 0;
  while (i < base.length && numbers.length < 3) {
    if (base[i] === 'f') {
      numbers.push(END);
      i += 1;
      continue;
    }
    const length = Number.parseInt(base[i] ?? '', 16);
    const digits = base.slice(i + 1, i + 1 + length);
    if (!(length >= 1) || digits.length !== length || !/^(0|[1-9a-f][0-9a-f]*)$/.test(digits))
      throw invalid();
    numbers.push(Number.parseInt(digits, 16));
    i += 1 + length;
  }
  const [tick, last, seq] = numbers;
  if (i !== base.length || tick === undefined || last === undefined || seq === undefined) throw invalid();
  if (![tick, last, seq].every((n) => Number.isSafeInteger(n))) throw invalid();
  const cursor: Cursor = { position: { tick, last, seq } };
  if (suffix.length > 0) {
    if (suffix.length < 2 || !suffix.every((p) => /^[0-9a-f]{1,13}$/.test(p))) throw invalid();
    const [xmin = 0, xmax = 0, ...xip] = suffix.map((p) => Number.parseInt(p, 16));
    cursor.seen = { xmin, xmax, xip };
  }
  return cursor;
}
