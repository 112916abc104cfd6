import { afterAll, beforeAll, expect, test } from 'vitest';
import { onMysql } from './helpers/backend-under-test.ts';
import { startTestService, type TestService } from './helpers/service.ts';

let service: TestService;
beforeAll(async () => {
  service = await startTestService();
});
afterAll(async () => {
  await service?.stop();
});

test('/metrics is Prometheus text with the feed state and requests by kind and status class', async () => {
  await fetch(`${service.url}/api/orders`);
  await fetch(`${service.url}/api/orders/999`);
  await service.graphql('{ orders { changeCursor } }');
  const response = await fetch(`${service.url}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
  const text = await response.text();
  expect(text).toMatch(/^realtime_orders_feed_listening 1$/m);
  expect(text).toMatch(/^realtime_orders_feed_head_tick \d+$/m);
  expect(text).toMatch(/^realtime_orders_http_requests_total\{route="rest",status="2xx"\} 1$/m);
  expect(text).toMatch(/^realtime_orders_http_requests_total\{route="rest",status="4xx"\} 1$/m);
  expect(text).toMatch(/^realtime_orders_http_requests_total\{route="graphql",status="2xx"\} 1$/m);
  expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
});

test('realtime_orders_subscriptions counts open subscriptions', async () => {
  const gauge = async () =>
    Number(
      /^realtime_orders_subscriptions (\d+)$/m.exec(
        await (await fetch(`${service.url}/metrics`)).text(),
      )?.[1],
    );
  const before = await gauge();
  const a = await service.feed.subscribe();
  const b = await service.feed.subscribe();
  expect(await gauge()).toBe(before + 2);
  await a.return?.();
  await b.return?.();
  expect(await gauge()).toBe(before);
});

// MySQL's feed reads the binary log: it makes no ticks.
test.skipIf(onMysql)(
  'realtime_orders_feed_tick_seconds counts the ticks this instance made, with their time',
  async () => {
    const ticks = async () => {
      const text = await (await fetch(`${service.url}/metrics`)).text();
      return {
        count: Number(/^realtime_orders_feed_tick_seconds_count (\d+)$/m.exec(text)?.[1]),
        sum: Number(/^realtime_orders_feed_tick_seconds_sum ([\d.e-]+)$/m.exec(text)?.[1]),
      };
    };
    const before = await ticks();
    const stream = await service.feed.subscribe();
    await service.graphql(
      'mutation { createOrder(input: { customerName: "Tick", productName: "Timer" }) { id } }',
    );
    await stream.next();
    await stream.return?.();
    const after = await ticks();
    expect(after.count).toBeGreaterThan(before.count);
    expect(after.sum).toBeGreaterThan(before.sum);
  },
);
