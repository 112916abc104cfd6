import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // Totals kept elsewhere (the gate, the feed) become counters by adding what is new at scrape.
  const totals = new Map<Counter, number>();
  const observeTotal = (counter: Counter, total: number) => {
    const seen = totals.get(counter) ?? 0;
    if (total > seen) counter.inc(total - seen);
    totals.set(counter, total);
  };
  const databaseReachable = new Gauge({
    name: 'realtime_orders_database_reachable',
    help: '0 while the database does not answer and requests fail at once with SERVICE_UNAVAILABLE',
    registers: [registry],
  });
  const databaseConnectionErrors = new Counter({
    name: 'realtime_orders_database_connection_errors_total',
    help: 'Pooled database sessions lost or connections refused (terminated, server down, network, too many clients)',
    registers: [registry],
  });
  const feedConnectionLosses = new Counter({
    name: 'realtime_orders_feed_connection_losses_total',
    help: "Times the change feed's own connection (LISTEN, ticker lock) was lost and reconnection began",
    registers: [registry],
  });
  const subscriptionExecutions = new Counter({
    name: 'realtime_orders_subscription_executions_total',
    help: 'Subscription events executed (the selection run on one change)',
    registers: [registry],
  });
  const subscriptionResultsShared = new Counter({
    name: 'realtime_orders_subscription_results_shared_total',
    help: 'Subscription events answered with the result of another subscriber with the same operation, variables and scope',
    registers: [registry],
  });
  return {
    /** Updates what is read from the database gate, the feed and the subscriptions at scrape time. */
    observe(
      feed: { connectionLosses: number },
      database: { reachable: boolean; connectionErrors: number } | undefined,
      sharing?: { executions: number; reused: number },
    ) {
      observeTotal(feedConnectionLosses, feed.connectionLosses);
      if (sharing) {
        observeTotal(subscriptionExecutions, sharing.executions);
        observeTotal(subscriptionResultsShared, sharing.reused);
      }
      if (!database) return;
      databaseReachable.set(database.reachable ? 1 : 0);
      observeTotal(databaseConnectionErrors, database.connectionErrors);
    },
    registry,
    httpRequests: new Counter({
      name: 'realtime_orders_http_requests_total',
      help: 'HTTP requests by route kind and status class',
      labelNames: ['route', 'status'] as const,
      registers: [registry],
    }),
    feedHeadTick: new Gauge({
      name: 'realtime_orders_feed_head_tick',
      help: 'The newest change-log tick this instance has read',
      registers: [registry],
    }),
    subscribers: new Gauge({
      name: 'realtime_orders_subscriptions',
      help: 'Open orderChanged subscriptions on this instance, over every transport',
      registers: [registry],
    }),
    feedTickSeconds: new Histogram({
      name: 'realtime_orders_feed_tick_seconds',
      help: "Time the leader's poll took to make a tick and return its batch (its commit included): part of every change's way to its subscribers",
      buckets: [
        0.00025, 0.0005, 0.001, 0.0015, 0.002, 0.003, 0.004, 0.006, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256,
        0.512, 1.024,
      ],
      registers: [registry],
    }),
    feedListening: new Gauge({
      name: 'realtime_orders_feed_listening',
      help: '1 while the change feed connection is up',
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
