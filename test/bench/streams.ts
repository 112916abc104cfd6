/**
 * Scenarios with subscribers: a steady stream of small transactions fanned out to many
 * subscribers, and one big statement delivered to one. The same writer and the same lean clients
 * drive the floor and the service.
 */
import type { Dialect } from './dialect.ts';
import { cpuMicros, percentile, sleep, until } from './measure.ts';
import type { Served } from './processes.ts';
import type { Session } from './sessions.ts';
import { floorSubscriber, graphqlWsSubscriber, type Subscriber, sseSubscriber } from './subscribers.ts';

export type Target = 'floor' | 'graphql-ws' | 'sse';

export interface StreamResult {
  p50: number;
  p99: number;
  deliveriesPerSecond: number;
  cpuMicrosPerDelivery: number;
  missing: number;
  /** Database transactions (queries, for the feed) per change, besides the writer's own; NaN where not counted. */
  queriesPerChange: number;
}

const SERVICE_QUERY = (operation: string) =>
  `subscription { orderChanged(where: { operations: [${operation}] }) { cursor operation changedFields order { id customerName productName quantity status version updatedAt } } }`;

/** Opens `count` subscribers that call `onKey` with each change's customer name (INSERT) or id. */
export async function subscribe(
  target: Target,
  served: Served,
  count: number,
  operation: 'INSERT' | 'UPDATE',
  onChange: (key: string) => void,
): Promise<Subscriber[]> {
  const one = (): Promise<Subscriber> => {
    const key = (row: { customer_name?: string; customerName?: string; id: string }) =>
      operation === 'INSERT' ? (row.customerName ?? row.customer_name ?? '') : String(row.id);
    if (target === 'floor')
      return floorSubscriber(served.ws, (c) => c.op === operation && onChange(key(c.row)));
    const onData = (data: Record<string, any>) => onChange(key(data.orderChanged.order));
    if (target === 'sse')
      return sseSubscriber(`${served.http}/graphql/stream`, SERVICE_QUERY(operation), onData);
    return graphqlWsSubscriber(served.ws, SERVICE_QUERY(operation), onData);
  };
  const subscribers: Subscriber[] = [];
  for (let i = 0; i < count; i += 100) {
    subscribers.push(...(await Promise.all(Array.from({ length: Math.min(100, count - i) }, one))));
  }
  // graphql-ws has no acknowledgement of a subscription: give the last ones time to be accepted.
  await sleep(500 + count / 2);
  return subscribers;
}

/**
 * `subscribers` × `rate` single-row INSERT transactions per second for `seconds`: latency from
 * each commit's acknowledgement to each delivery, deliveries per second, server CPU per delivery.
 */
export async function stream(
  target: Target,
  served: Served,
  dialect: Dialect,
  options: { subscribers: number; rate: number; seconds: number; run: string },
): Promise<StreamResult> {
  const table = target === 'floor' ? 'floor_orders' : 'orders';
  const committed = new Map<string, number>();
  const latencies: number[] = [];
  const early = new Map<string, number[]>();
  let deliveries = 0;
  let lastArrival = 0;
  const subscribers = await subscribe(target, served, options.subscribers, 'INSERT', (key) => {
    const now = performance.now();
    deliveries++;
    lastArrival = now;
    const at = committed.get(key);
    if (at !== undefined) latencies.push(now - at);
    else early.set(key, [...(early.get(key) ?? []), now]);
  });
  const pool = dialect.pool(4);
  try {
    await Promise.all(Array.from({ length: 4 }, () => pool.query('SELECT 1')));
    const transactionsBefore = await dialect.transactionsSoFar?.(pool);
    const total = Math.round(options.rate * options.seconds);
    const cpuBefore = cpuMicros(served.pid);
    const started = performance.now();
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < total; i++) {
      const due = started + (i * 1000) / options.rate;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      const key = `${options.run}-${i}`;
      writes.push(
        pool
          .query(`INSERT INTO ${table} (customer_name, product_name) VALUES ($1, 'bench')`, [key])
          .then(() => {
            const at = performance.now();
            committed.set(key, at);
            for (const arrival of early.get(key) ?? []) latencies.push(arrival - at);
            early.delete(key);
          }),
      );
    }
    await Promise.all(writes);
    const expected = total * options.subscribers;
    await until(() => deliveries >= expected, 120_000, `${expected} deliveries`).catch((e) =>
      console.warn(String(e)),
    );
    await sleep(200);
    const cpu = cpuMicros(served.pid) - cpuBefore;
    const transactionsAfter = await dialect.transactionsSoFar?.(pool);
    const queries =
      transactionsBefore === undefined || transactionsAfter === undefined
        ? Number.NaN
        : transactionsAfter - transactionsBefore - total - 2;
    latencies.sort((a, b) => a - b);
    return {
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      deliveriesPerSecond: deliveries / ((lastArrival - started) / 1000),
      cpuMicrosPerDelivery: cpu / deliveries,
      missing: expected - deliveries,
      queriesPerChange: queries / total,
    };
  } finally {
    for (const s of subscribers) s.close();
    await pool.end();
    await sleep(300);
  }
}

/**
 * One statement on `sql`'s session, delivered to one subscriber: statement time, and time from
 * the statement's start until the subscriber has every row.
 */
export async function statement(
  target: Target,
  served: Served,
  sql: Session,
  text: string,
  rows: number,
  operation: 'INSERT' | 'UPDATE',
): Promise<{ statementMs: number; deliveredMs: number; missing: number; serverCpuMs: number }> {
  let received = 0;
  let last = 0;
  const subscribers = await subscribe(target, served, 1, operation, () => {
    received++;
    last = performance.now();
  });
  try {
    // The server's CPU from the statement's start to the last delivery (logged per run): its own
    // share of the delivery, which the wall-clock time mixes with the database's and the machine's.
    const cpuBefore = cpuMicros(served.pid);
    const started = performance.now();
    const result = await sql.query(text);
    const statementMs = performance.now() - started;
    if (result.affected !== rows)
      throw new Error(`bench: expected ${rows} rows, statement changed ${result.affected}`);
    await until(() => received >= rows, 300_000, `${rows} deliveries`).catch((e) => console.warn(String(e)));
    const serverCpuMs = (cpuMicros(served.pid) - cpuBefore) / 1000;
    return { statementMs, deliveredMs: last - started, missing: rows - received, serverCpuMs };
  } finally {
    for (const s of subscribers) s.close();
    await sleep(300);
  }
}
