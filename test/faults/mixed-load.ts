import pg from 'pg';
import { isMysqlUrl } from '../../src/db/mysql.ts';
import {
  type CommittedChange,
  runWorkload,
  type UncertainTransaction,
  type WorkloadOptions,
} from '../changes/harness.ts';
import type { TestDatabase } from '../helpers/database.ts';
import { prepareMysqlMixedLoad, runMysqlMixedLoad } from './mysql-mixed-load.ts';
import { type TaggedRow, untilCommitted } from './until-committed.ts';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export const BULK_ROWS = 20_000;

/**
 * The prepared part of the mixed load: shared orders, and BULK_ROWS orders for one big UPDATE
 * later. Done before subscribers start, so they receive only the UPDATE of those rows.
 */
export async function prepareMixedLoad(database: TestDatabase) {
  if (isMysqlUrl(database.url)) return prepareMysqlMixedLoad(database, BULK_ROWS);
  return withClient(database.url, async (client) => {
    const { rows } = await client.query<{ id: string; version: number }>(
      `INSERT INTO orders (customer_name, product_name) SELECT 'seed', 'item ' || g FROM generate_series(1, 4) g
       RETURNING id, version`,
    );
    await client.query(
      `INSERT INTO orders (customer_name, product_name) SELECT 'bulk', 'bulk ' || g FROM generate_series(1, ${BULK_ROWS}) g`,
    );
    return { ids: rows.map((r) => String(r.id)) };
  });
}

/**
 * Writers that reconnect, so that the load runs through a fault: short transactions with
 * rollbacks and slow ones, one long transaction, and one 20,000-row UPDATE. Only what a COMMIT
 * confirmed is expected; a transaction whose COMMIT got no answer is looked up afterwards in the
 * database (its changes are in the log if, and only if, it committed). `until` keeps the short
 * writers going in rounds until it resolves.
 */
export async function runMixedLoad(
  url: string,
  sharedIds: string[],
  options: {
    until: Promise<unknown>;
    workload?: Partial<WorkloadOptions>;
    longMs?: number;
    bulkAfterMs?: number;
  },
): Promise<CommittedChange[]> {
  if (isMysqlUrl(url))
    return runMysqlMixedLoad(url, sharedIds, {
      ...options,
      longMs: options.longMs ?? 3_000,
      bulkAfterMs: options.bulkAfterMs ?? 500,
    });
  let done = false;
  void options.until.finally(() => {
    done = true;
  });
  const committed: CommittedChange[] = [];
  const uncertain: UncertainTransaction[] = [];
  const rounds = (async () => {
    do {
      committed.push(
        ...(await runWorkload(url, {
          writers: 3,
          transactionsPerWriter: 8,
          sharedIds,
          rollbackRate: 0.1,
          slowRate: 0.2,
          slowMs: 100,
          uncertain,
          ...options.workload,
        })),
      );
      if (!done) await sleep(100);
    } while (!done);
  })();
  const rowsTagged = (tags: string[]) =>
    withClient(url, async (client) => {
      const { rows } = await client.query<TaggedRow>(
        'SELECT id, version, customer_name, product_name FROM orders WHERE product_name = ANY($1)',
        [tags],
      );
      return rows;
    });
  const long = untilCommitted(
    (tag) => withClient(url, (client) => longTransaction(client, tag, options.longMs ?? 3_000)),
    rowsTagged,
  );
  const bulk = sleep(options.bulkAfterMs ?? 500).then(() =>
    untilCommitted((tag) => withClient(url, (client) => bulkUpdate(client, tag)), rowsTagged),
  );
  const [, longChanges, bulkChanges] = await Promise.all([rounds, long, bulk]);
  return [...committed, ...(await committedOf(url, uncertain)), ...longChanges, ...bulkChanges];
}

/**
 * The uncertain transactions that did commit: those whose every change is in the change log under
 * their own transaction id. (pg_xact_status alone is not enough: after an immediate shutdown, the
 * id of a transaction whose WAL was lost is handed out again, to a transaction that commits.)
 */
async function committedOf(url: string, uncertain: UncertainTransaction[]): Promise<CommittedChange[]> {
  const found: CommittedChange[] = [];
  for (const { txid, changes } of uncertain) {
    const [row] = await withClient(url, async (client) => {
      const { rows } = await client.query<{ n: string }>(
        `SELECT count(*) AS n FROM order_changes oc
         JOIN unnest($2::bigint[], $3::text[], $4::int[]) AS c(id, op, version)
           ON oc.order_id = c.id AND oc.op = c.op
          AND (coalesce(oc.new_row, oc.old_row)->>'version')::int = c.version
         WHERE oc.txid = $1::xid8`,
        [txid, changes.map((c) => c.id), changes.map((c) => c.op), changes.map((c) => c.version)],
      );
      return rows;
    });
    if (changes.length > 0 && Number(row?.n) === changes.length) {
      found.push(...changes.map((c) => ({ ...c, tx: `${c.tx} (commit unanswered)` })));
    }
  }
  return found;
}

async function withClient<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  client.on('error', () => {});
  await client.connect();
  try {
    // These writers are not the service: whatever a DBA set on the database, they do not time out.
    await client.query(
      'SET statement_timeout = 0; SET lock_timeout = 0; SET idle_in_transaction_session_timeout = 0',
    );
    return await run(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Inserts an order, waits `ms` inside the transaction, then commits. */
async function longTransaction(client: pg.Client, tag: string, ms: number): Promise<CommittedChange[]> {
  await client.query('BEGIN');
  const { rows } = await client.query(
    `INSERT INTO orders (customer_name, product_name) VALUES ('long', $1) RETURNING id, version`,
    [tag],
  );
  await sleep(ms);
  await client.query('COMMIT');
  return [{ op: 'INSERT', id: String(rows[0].id), version: rows[0].version, tx: tag }];
}

/** One statement updating BULK_ROWS orders; its product_name tags the attempt. */
async function bulkUpdate(client: pg.Client, tag: string): Promise<CommittedChange[]> {
  const { rows } = await client.query(
    `UPDATE orders SET quantity = quantity % 1000 + 1, product_name = $1 WHERE customer_name = 'bulk'
     RETURNING id, version`,
    [tag],
  );
  return rows.map((r) => ({ op: 'UPDATE' as const, id: String(r.id), version: r.version, tx: tag }));
}
