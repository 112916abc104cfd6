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
  /** From pg_stat_statements (when loaded): reads of the log (change_ticks, order_changes) per tick, the ticker's own polls apart, idle reads taken off. */
  readsPerTick?: number;
  pollsPerTick?: number;
}

/** pg_stat_statements counts for this database only, when the server preloads it (the bench's own does). */
export async function trackStatements(adminUrl: string, name: string, url: string): Promise<boolean> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`ALTER DATABASE ${name} SET pg_stat_statements.track = 'top'`);
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    await db.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await db.query('SELECT count(*) FROM pg_stat_statements');
    await db.end();
    return true;
  } catch (error) {
    console.warn(
      `bench: pg_stat_statements unavailable (${(error as Error).message}); counting transactions only`,
    );
    return false;
  } finally {
    await admin.end();
  }
}

async function statementCalls(pool: pg.Pool): Promise<{ reads: number; polls: number }> {
  const { rows } = await pool.query<{ query: string; calls: string }>(
    `SELECT query, calls FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())`,
  );
  let reads = 0;
  let polls = 0;
  for (const { query, calls } of rows) {
    if (query.includes('make_change_tick')) polls += Number(calls);
    else if (/change_ticks|order_changes|change_batch/.test(query) && !query.includes('pg_stat_statements'))
      reads += Number(calls);
  }
  return { reads, polls };
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
  tracked = false,
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
    if (tracked) await pool.query('SELECT pg_stat_statements_reset()');
    const idleStarted = performance.now();
    await sleep(seconds * 1000);
    const idleCalls = tracked ? await statementCalls(pool) : undefined;
    const idleReadsPerSecond = (idleCalls?.reads ?? 0) / ((performance.now() - idleStarted) / 1000);
    const idleEnd = await counter(pool);
    const idlePerSecond = (idleEnd.transactions - idleStart.transactions - 1) / (seconds + 1.5);

    const total = Math.round(rate * seconds);
    const before = await counter(pool);
    if (tracked) await pool.query('SELECT pg_stat_statements_reset()');
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
    const calls = tracked ? await statementCalls(pool) : undefined;
    // Reads with no change at all (each instance's 1 s safety-net look for ticks) are taken off.
    if (calls) calls.reads -= idleReadsPerSecond * ((performance.now() - started) / 1000);
    const extra = after.transactions - before.transactions - total - 1 - idlePerSecond * elapsed;
    const ticks = after.tick - before.tick;
    return {
      instances,
      changes: total,
      ticks,
      perChange: extra / total,
      perTick: extra / ticks,
      ...(calls ? { readsPerTick: calls.reads / ticks, pollsPerTick: calls.polls / ticks } : {}),
    };
  } finally {
    for (const s of subscribers) s.close();
    for (const s of served) await s.stop();
    await pool.end();
  }
}
