/**
 * The service's own account of its ticks (`realtime_orders_feed_tick_seconds` on /metrics): how
 * long the leader's poll that made a tick took, its commit included, during one run. Part of every
 * change's latency that the floor does not have.
 */
export interface TickTimes {
  count: number;
  sum: number;
  /** Cumulative counts by upper bound (seconds). */
  buckets: Map<number, number>;
}

export async function tickTimes(http: string): Promise<TickTimes | undefined> {
  const text = await (await fetch(`${http}/metrics`)).text();
  const count = /^realtime_orders_feed_tick_seconds_count (\S+)$/m.exec(text)?.[1];
  const sum = /^realtime_orders_feed_tick_seconds_sum (\S+)$/m.exec(text)?.[1];
  if (count === undefined || sum === undefined) return undefined;
  const buckets = new Map<number, number>();
  for (const [, le, n] of text.matchAll(
    /^realtime_orders_feed_tick_seconds_bucket\{le="([^"]+)"\} (\S+)$/gm,
  )) {
    if (le !== '+Inf') buckets.set(Number(le), Number(n));
  }
  return { count: Number(count), sum: Number(sum), buckets };
}

/** Mean, and the bucket bounds under which half and 99 % of the ticks between two scrapes took (ms). */
export function tickSummary(
  before: TickTimes,
  after: TickTimes,
): { mean: number; p50: number; p99: number } | undefined {
  const count = after.count - before.count;
  if (count <= 0) return undefined;
  const bound = (share: number) => {
    for (const [le, n] of after.buckets) {
      if (n - (before.buckets.get(le) ?? 0) >= share * count) return le * 1000;
    }
    return Number.POSITIVE_INFINITY;
  };
  return { mean: ((after.sum - before.sum) / count) * 1000, p50: bound(0.5), p99: bound(0.99) };
}
