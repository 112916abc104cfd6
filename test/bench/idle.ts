/**
 * Idle subscribers: what each open subscription costs the server in memory while nothing
 * happens. RSS before and after opening them, once one change has reached every one of them (so
 * each is known to be live and has served once, as a real subscriber has).
 */
import type { Dialect } from './dialect.ts';
import { rssMiB, sleep, until } from './measure.ts';
import type { Served } from './processes.ts';
import { subscribe, type Target } from './streams.ts';

export interface IdleResult {
  rssBeforeMiB: number;
  rssAfterMiB: number;
  kbPerSubscriber: number;
}

export async function idleSubscribers(
  target: Target,
  served: Served,
  dialect: Dialect,
  count: number,
  run: string,
): Promise<IdleResult> {
  await sleep(1_000);
  const rssBeforeMiB = rssMiB(served.pid);
  let received = 0;
  const key = `idle-${run}`;
  const subscribers = await subscribe(target, served, count, 'INSERT', (k) => {
    if (k === key) received++;
  });
  try {
    const sql = await dialect.connect();
    const table = target === 'floor' ? 'floor_orders' : 'orders';
    await sql.query(`INSERT INTO ${table} (customer_name, product_name) VALUES ($1, 'idle')`, [key]);
    await sql.end();
    await until(() => received >= count, 120_000, `one change to each of ${count} subscribers`);
    await sleep(2_000);
    const rssAfterMiB = rssMiB(served.pid);
    return { rssBeforeMiB, rssAfterMiB, kbPerSubscriber: ((rssAfterMiB - rssBeforeMiB) * 1024) / count };
  } finally {
    for (const s of subscribers) s.close();
    await sleep(1_000 + count / 5);
  }
}
