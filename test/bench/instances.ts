/**
 * Several instances on one database: the database work per change, with 1 and with 3 instances
 * of the service, each with one subscriber. Work is counted as pg_stat_database transactions (every
 * query outside BEGIN is one), as the light scenario does; what the instances do with no writes at
 * all (health checks, the safety-net poll) is measured over the same time and taken off, so what
 * remains is what the changes cost. Runs in a database of its own, so the bench's other processes
 * are not counted.
 */
import pg from 'pg';
import { sleep, until } from './measure.ts';
import { type Served, startService } from './processes.ts';
import { graphqlWsSubscriber, type Subscriber } from './subscribers.ts';

export interface InstancesResult {
  instances: number;
  changes: number;
  ticks: number;
  /** Transactions per change besides the writes, idle work taken off. */
  perChange: number;
  perTick: number;
}

async function counter(pool: pg.Pool) {
  // Backends report their counts once idle for a second: let them.
  await sleep(1_500);
  const { rows } = await pool.query(
    `SELECT (SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()) AS n,
            (SELECT max(tick_id) FROM change_ticks) AS tick`,
  );
  return { transactions: Number(rows[0].n), tick: Number(rows[0].tick) };
}

export async function instancesWork(
  databaseUrl: string,
  instances: number,
  rate: number,
  seconds: number,
  run: string,
): Promise<InstancesResult> {
  const served: Served[] = [];
  const subscribers: Subscriber[] = [];
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  try {
    for (let i = 0; i < instances; i++) served.push(await startService(databaseUrl));
    let delivered = 0;
    for (const s of served) {
      subscribers.push(
        await graphqlWsSubscriber(s.ws, 'subscription { orderChanged { cursor order { id } } }', () => {
          delivered++;
        }),
      );
    }
    await Promise.all(Array.from({ length: 4 }, () => pool.query('SELECT 1')));
    await sleep(1_000);
    // The instances' work without changes, over the same time as the writes take.
    const idleStart = await counter(pool);
    await sleep(seconds * 1000);
    const idleEnd = await counter(pool);
    const idlePerSecond = (idleEnd.transactions - idleStart.transactions - 1) / (seconds + 1.5);

    const total = Math.round(rate * seconds);
    const before = await counter(pool);
    const started = performance.now();
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < total; i++) {
      const wait = started + (i * 1000) / rate - performance.now();
      if (wait > 1) await sleep(wait);
      writes.push(
        pool.query(`INSERT INTO orders (customer_name, product_name) VALUES ($1, 'n')`, [`${run}-${i}`]),
      );
    }
    await Promise.all(writes);
    await until(() => delivered >= total * instances, 60_000, `${total * instances} deliveries`);
    const elapsed = (performance.now() - started) / 1000 + 1.5;
    const after = await counter(pool);
    const extra = after.transactions - before.transactions - total - 1 - idlePerSecond * elapsed;
    const ticks = after.tick - before.tick;
    return { instances, changes: total, ticks, perChange: extra / total, perTick: extra / ticks };
  } finally {
    for (const s of subscribers) s.close();
    for (const s of served) await s.stop();
    await pool.end();
  }
}
