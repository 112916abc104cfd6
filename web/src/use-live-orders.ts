import { useCallback, useEffect, useReducer, useState } from 'react';
import { useClient } from 'urql';
import { describeError } from './errors.ts';
import { type Action, type Change, initialState, type PageSpec, reduce } from './live-orders.ts';
import { OrderChangedSubscription, OrdersPageQuery } from './operations.ts';

const RETRY_MS = 2_000;
/** Changes arriving within this window are applied together. */
const FLUSH_MS = 16;

/**
 * The table's page and the change feed, kept live: read a page with its `changeCursor`, subscribe
 * with `after: changeCursor`, apply each change by order id and version. The subscription resumes
 * by itself after a reconnect (realtime-orders/client); a new snapshot (another page, a filter, an
 * expired cursor) starts it again from that snapshot's cursor.
 */
export function useLiveOrders(firstSpec: PageSpec) {
  const client = useClient();
  const [state, dispatch] = useReducer(reduce, firstSpec, initialState);
  const [problem, setProblem] = useState<string | null>(null);
  const [reloads, setReloads] = useState(0);
  const reload = useCallback(() => setReloads((n) => n + 1), []);

  useEffect(() => {
    void reloads;
    let cancelled = false;
    let retry: ReturnType<typeof setTimeout> | undefined;
    const spec = state.spec;
    client
      .query(OrdersPageQuery, { first: spec.size, after: spec.after, status: spec.status })
      .toPromise()
      .then((result) => {
        if (cancelled) return;
        if (!result.data) {
          setProblem(result.error ? describeError(result.error).message : 'No answer from the server.');
          retry = setTimeout(reload, RETRY_MS);
          return;
        }
        setProblem(null);
        const { edges, pageInfo, changeCursor } = result.data.orders;
        dispatch({ type: 'snapshot', spec, edges, hasNextPage: pageInfo.hasNextPage, changeCursor });
      });
    return () => {
      cancelled = true;
      clearTimeout(retry);
    };
  }, [client, state.spec, reloads, reload]);

  const { subscription } = state;
  useEffect(() => {
    if (!subscription) return;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let pending: Change[] = [];
    let flushing: ReturnType<typeof setTimeout> | undefined;
    const flush = () => {
      flushing = undefined;
      const changes = pending;
      pending = [];
      dispatch({ type: 'changes', changes, receivedAt: Date.now() });
    };
    const { unsubscribe } = client
      .subscription(OrderChangedSubscription, { after: subscription.after })
      .subscribe((result) => {
        // The error first: urql keeps the last result's data beside a later error.
        if (result.error) {
          // CURSOR_EXPIRED (offline longer than the retention window) or anything else: start over
          // from a fresh snapshot, which brings its own cursor.
          const { code, message } = describeError(result.error);
          setProblem(code === 'CURSOR_EXPIRED' ? 'Offline too long; reloading the orders.' : message);
          retry = setTimeout(reload, code === 'CURSOR_EXPIRED' ? 0 : RETRY_MS);
        } else if (result.data) {
          pending.push(result.data.orderChanged);
          flushing ??= setTimeout(flush, FLUSH_MS);
        }
      });
    return () => {
      clearTimeout(retry);
      unsubscribe();
      if (flushing) {
        clearTimeout(flushing);
        flush();
      }
    };
  }, [client, subscription, reload]);

  const setSpec = useCallback((spec: PageSpec) => dispatch({ type: 'spec', spec }), []);
  const apply = useCallback((action: Action) => dispatch(action), []);
  return { state, problem, setSpec, apply, reload };
}
