import type { OrderChangedSubscription, OrderFieldsFragment, OrderStatus } from './gql/graphql.ts';

export type Order = Omit<OrderFieldsFragment, '__typename'>;
export type Change = OrderChangedSubscription['orderChanged'];

/** Which slice of the orders the table shows: ids in (lowerId, upperId], by ascending id. */
export interface PageSpec {
  status: OrderStatus | null;
  size: number;
  /** Server cursor to read the page from; ids at or below `lowerId` are dropped anyway. */
  after: string | null;
  lowerId: string | null;
}

export interface Page {
  ids: string[];
  hasNextPage: boolean;
  /** The page's last id while a next page exists; null on the last page (it grows with inserts). */
  upperId: string | null;
  /** Server cursors of the snapshot's rows, to read the next page from. */
  cursors: Map<string, string>;
}

export interface FeedEntry {
  cursor: string;
  operation: Change['operation'];
  order: Order;
  previous: Change['previous'];
  changedFields: string[];
  changedBy: string | null;
  committedAt: string;
  receivedAt: number;
}

export interface LiveState {
  /** The newest state seen of every order seen, deleted ones included, so nothing older wins. */
  known: Map<string, { order: Order; deleted: boolean }>;
  spec: PageSpec;
  page: Page | null;
  /** True from a new spec until its snapshot arrives; the old rows stay meanwhile. */
  loading: boolean;
  feed: FeedEntry[];
  /** The greatest cursor in the feed: a replayed change is applied (harmlessly) but listed once. */
  feedCursor: string | null;
  /** The last snapshot's changeCursor: where the subscription starts (a new object per snapshot). */
  subscription: { after: string } | null;
  lastChange: { receivedAt: number; committedAt: string } | null;
  /** Latest change per order, for highlighting the cells it touched. */
  touched: Map<string, FeedEntry>;
}

export const FEED_LIMIT = 60;

export type Action =
  | { type: 'spec'; spec: PageSpec }
  | {
      type: 'snapshot';
      spec: PageSpec;
      edges: { cursor: string; node: Order }[];
      hasNextPage: boolean;
      changeCursor: string;
    }
  | { type: 'changes'; changes: Change[]; receivedAt: number }
  | { type: 'order'; order: Order; deleted?: boolean };

export function initialState(spec: PageSpec): LiveState {
  return {
    known: new Map(),
    spec,
    page: null,
    loading: true,
    feed: [],
    feedCursor: null,
    subscription: null,
    lastChange: null,
    touched: new Map(),
  };
}

const idValue = (id: string) => BigInt(id);
const compareIds = (a: string, b: string) => (idValue(a) < idValue(b) ? -1 : idValue(a) > idValue(b) ? 1 : 0);

function belongs(state: Pick<LiveState, 'known' | 'spec'>, page: Page, id: string): boolean {
  const entry = state.known.get(id);
  if (!entry || entry.deleted) return false;
  if (state.spec.status && entry.order.status !== state.spec.status) return false;
  if (state.spec.lowerId !== null && compareIds(id, state.spec.lowerId) <= 0) return false;
  return page.upperId === null || compareIds(id, page.upperId) <= 0;
}

/** Keeps the page to its size: what falls off the end now lives on the next page. */
function trim(page: Page, size: number): Page {
  if (page.ids.length <= size) return page;
  const ids = page.ids.slice(0, size);
  return { ...page, ids, hasNextPage: true, upperId: ids.at(-1) ?? null };
}

function place(state: Pick<LiveState, 'known' | 'spec'>, page: Page, id: string): Page {
  const ids = page.ids.filter((other) => other !== id);
  if (belongs(state, page, id)) {
    const at = ids.findIndex((other) => compareIds(other, id) > 0);
    ids.splice(at === -1 ? ids.length : at, 0, id);
  }
  return trim({ ...page, ids }, state.spec.size);
}

/** Records `order` unless a newer version (or its deletion) is already known. */
function remember(known: LiveState['known'], order: Order, deleted: boolean): boolean {
  const prior = known.get(order.id);
  if (prior) {
    if (prior.order.version > order.version) return false;
    if (prior.order.version === order.version && (prior.deleted || !deleted)) return false;
  }
  known.set(order.id, { order, deleted });
  return true;
}

export function reduce(state: LiveState, action: Action): LiveState {
  switch (action.type) {
    case 'spec':
      return { ...state, spec: action.spec, loading: true };
    case 'snapshot': {
      if (!sameSpec(action.spec, state.spec)) return state;
      const known = new Map(state.known);
      for (const { node } of action.edges) remember(known, strip(node), false);
      const last = action.edges.at(-1)?.node.id ?? null;
      let page: Page = {
        ids: [],
        hasNextPage: action.hasNextPage,
        upperId: action.hasNextPage ? last : null,
        cursors: new Map(action.edges.map(({ cursor, node }) => [node.id, cursor])),
      };
      // Orders seen live that now belong here count too: their replayed changes will not be
      // applied again, being no newer than what is known.
      const next = { ...state, known };
      page = { ...page, ids: [...known.keys()].filter((id) => belongs(next, page, id)).sort(compareIds) };
      return {
        ...next,
        page: trim(page, state.spec.size),
        loading: false,
        subscription: { after: action.changeCursor },
      };
    }
    case 'changes':
      return applyChanges(state, action.changes, action.receivedAt);
    case 'order': {
      // A mutation's answer: shown at once, before its change arrives.
      const known = new Map(state.known);
      if (!remember(known, strip(action.order), action.deleted ?? false)) return state;
      const next = { ...state, known };
      return { ...next, page: state.page && place(next, state.page, action.order.id) };
    }
  }
}

/**
 * Applies a batch of changes in delivery order. One batch per frame, not one state per change:
 * a 100k-row statement must not copy the maps 100k times.
 */
function applyChanges(state: LiveState, changes: Change[], receivedAt: number): LiveState {
  const known = new Map(state.known);
  const touched = new Map(state.touched);
  const fresh: FeedEntry[] = [];
  let { feedCursor, page } = state;
  for (const change of changes) {
    const entry: FeedEntry = {
      cursor: change.cursor,
      operation: change.operation,
      order: strip(change.order),
      previous: change.previous,
      changedFields: change.changedFields,
      changedBy: change.changedBy ?? null,
      committedAt: change.committedAt,
      receivedAt,
    };
    if (feedCursor === null || change.cursor > feedCursor) {
      fresh.push(entry);
      feedCursor = change.cursor;
      touched.set(entry.order.id, entry);
    }
    if (remember(known, entry.order, change.operation === 'DELETE') && page) {
      page = place({ known, spec: state.spec }, page, entry.order.id);
    }
  }
  const last = changes.at(-1);
  return {
    ...state,
    known,
    touched,
    page,
    feedCursor,
    feed: [...fresh.slice(-FEED_LIMIT).reverse(), ...state.feed].slice(0, FEED_LIMIT),
    lastChange: last ? { receivedAt, committedAt: last.committedAt } : state.lastChange,
  };
}

export function sameSpec(a: PageSpec, b: PageSpec): boolean {
  return a.status === b.status && a.size === b.size && a.after === b.after && a.lowerId === b.lowerId;
}

/**
 * The page after this one: ids above the last one shown. Rows that arrived live have no server
 * cursor, so reading starts at the last snapshot row not above it; the id bound drops the rest.
 */
export function nextSpec(state: LiveState): PageSpec | undefined {
  const { page, spec } = state;
  const lastId = page?.ids.at(-1) ?? page?.upperId;
  if (!page || !lastId) return undefined;
  let after = spec.after;
  for (const [id, cursor] of page.cursors) if (compareIds(id, lastId) <= 0) after = cursor;
  return { ...spec, after, lowerId: lastId };
}

export function pageOrders(state: LiveState): Order[] {
  if (!state.page) return [];
  return state.page.ids.flatMap((id) => {
    const entry = state.known.get(id);
    return entry ? [entry.order] : [];
  });
}

function strip(order: Order & { __typename?: string }): Order {
  const { __typename: _, ...rest } = order;
  return rest;
}
