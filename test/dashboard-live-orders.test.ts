import { describe, expect, it } from 'vitest';
import {
  type Change,
  initialState,
  type LiveState,
  nextSpec,
  type Order,
  type PageSpec,
  pageOrders,
  reduce,
} from '../web/src/live-orders.ts';

// The dashboard's bookkeeping, without a browser: changes applied by id and version, each listed
// once, the page kept to its slice. test/browser/dashboard.test.ts covers it end to end.
const spec: PageSpec = { status: null, size: 3, after: null, lowerId: null };
const at = '2026-11-22T08:30:00.000Z';
const order = (id: number, version = 1, status: Order['status'] = 'PENDING'): Order => ({
  id: String(id),
  customerName: `Customer ${id}`,
  productName: 'Thing',
  quantity: version,
  status,
  version,
  createdAt: at,
  updatedAt: at,
});
let seq = 0;
const change = (
  operation: Change['operation'],
  next: Order,
  cursor = `c${String(++seq).padStart(4, '0')}`,
): Change => ({
  cursor,
  operation,
  order: next,
  previous: operation === 'INSERT' ? null : { ...next, version: next.version - 1 },
  changedFields: operation === 'UPDATE' ? ['quantity', 'version'] : [],
  committedAt: at,
});
const snapshot = (state: LiveState, orders: Order[], hasNextPage = false) =>
  reduce(state, {
    type: 'snapshot',
    spec: state.spec,
    edges: orders.map((node) => ({ cursor: `o${node.id}`, node })),
    hasNextPage,
    changeCursor: 'c0000',
  });
const apply = (state: LiveState, ...changes: Change[]) =>
  reduce(state, { type: 'changes', changes, receivedAt: Date.now() });
const ids = (state: LiveState) => pageOrders(state).map((o) => `${o.id}@${o.version}`);

describe('live orders', () => {
  it('never lets an older version overwrite a newer one, and lists a replayed change once', () => {
    let state = snapshot(initialState(spec), [order(1, 1)]);
    const older = change('UPDATE', order(1, 2));
    const newer = change('UPDATE', order(1, 3));
    state = apply(state, older, newer);
    // Replayed (a snapshot's cursor behind what was seen live): applied harmlessly, listed once.
    state = apply(state, older, newer);
    expect(ids(state)).toEqual(['1@3']);
    expect(state.feed.map((entry) => entry.cursor)).toEqual([newer.cursor, older.cursor]);
    // A snapshot older than what was seen live does not roll the table back.
    state = snapshot(state, [order(1, 2)]);
    expect(ids(state)).toEqual(['1@3']);
  });

  it('keeps the last page growing up to its size, then hands the rest to the next page', () => {
    let state = snapshot(initialState(spec), [order(1), order(2)]);
    state = apply(state, change('INSERT', order(3)), change('INSERT', order(4)));
    expect(ids(state)).toEqual(['1@1', '2@1', '3@1']);
    expect(state.page?.hasNextPage).toBe(true);
    expect(nextSpec(state)).toMatchObject({ after: 'o2', lowerId: '3' });
  });

  it('follows the status filter both ways, and drops deleted orders for good', () => {
    let state = snapshot(initialState({ ...spec, status: 'SHIPPED' }), [order(2, 1, 'SHIPPED')]);
    state = apply(state, change('UPDATE', order(1, 2, 'SHIPPED')), change('UPDATE', order(2, 2, 'PENDING')));
    expect(ids(state)).toEqual(['1@2']);
    state = apply(state, change('DELETE', order(1, 2, 'SHIPPED')), change('UPDATE', order(1, 2, 'SHIPPED')));
    expect(ids(state)).toEqual([]);
  });

  it('brings an order seen live into a later snapshot of its page', () => {
    let state = snapshot(initialState({ ...spec, status: 'SHIPPED' }), []);
    state = apply(state, change('UPDATE', order(5, 4, 'SHIPPED')));
    state = snapshot(state, []);
    expect(ids(state)).toEqual(['5@4']);
  });
});
