import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
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
    feedListening: new Gauge({
      name: 'realtime_orders_feed_listening',
      help: '1 while the change feed connection is up',
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
