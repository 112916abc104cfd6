import { expect, test } from 'vitest';
import { orderRowToOrder } from '../src/orders/order.ts';

// orderRowToOrder keeps the last few timestamp texts it parsed (src/orders/order.ts): whatever the
// order in which they come back, each is the instant its text says.
test('captured timestamps are read as their text says, repeated or not, in any order', () => {
  const texts = Array.from(
    { length: 20 },
    (_, i) => `2026-11-28T01:${String(i).padStart(2, '0')}:55.123456+00:00`,
  );
  const sequence = [0, 1, 0, 2, 0, 1, 0, 2, ...texts.keys(), 3, 19, 3, 0].map((i) => texts[i] as string);
  for (let i = 0; i + 1 < sequence.length; i++) {
    const [created, updated] = [sequence[i] as string, sequence[i + 1] as string];
    const order = orderRowToOrder({
      id: i,
      customer_name: 'c',
      product_name: 'p',
      quantity: 1,
      status: 'pending',
      version: 1,
      created_at: created,
      updated_at: updated,
    });
    expect(order.createdAt.getTime()).toBe(new Date(created).getTime());
    expect(order.updatedAt.getTime()).toBe(new Date(updated).getTime());
    expect(order.createdAt).not.toBe(order.updatedAt);
  }
});
