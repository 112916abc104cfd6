import mysql from 'mysql2/promise';
import { mysqlOptions } from '../../src/db/mysql.ts';
import { type CommittedChange, seededRandom, type WorkloadOptions } from '../changes/harness.ts';
import type { TestDatabase } from '../helpers/database.ts';
import { type TaggedRow, untilCommitted } from './until-committed.ts';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * mixed-load.ts on MySQL/MariaDB: the same prepared rows, rounds of short writers (rollbacks,
 * slow transactions), one long transaction and one BULK_ROWS UPDATE, through a fault. MySQL has
 * no transaction id to ask about afterwards, so each writer's transaction also inserts its name
 * into `fault_commits` (a table of the test's own, which the capture ignores): a transaction whose
 * COMMIT got no answer committed if, and only if, its name is there.
 */
export async function prepareMysqlMixedLoad(database: TestDatabase, bulkRows: number) {
  return withConnection(database.url, async (connection) => {
    await connection.query('CREATE TABLE IF NOT EXISTS fault_commits (tx VARCHAR(100) PRIMARY KEY)');
    await connection.query('START TRANSACTION');
    const [seeded] = await connection.query<mysql.ResultSetHeader>(
      "INSERT INTO orders (customer_name, product_name) VALUES ('seed', 'item 1'), ('seed', 'item 2'), ('seed', 'item 3'), ('seed', 'item 4')",
    );
    await connection.query('COMMIT');
    // Numbers from digits: a recursive CTE stops at the server's max_recursive_iterations (1000).
    const digits = `(SELECT ${Array.from({ length: 10 }, (_, d) => `${d} AS d`).join(' UNION ALL SELECT ')})`;
    await connection.query(
      `INSERT INTO orders (customer_name, product_name)
       SELECT 'bulk', CONCAT('bulk ', n) FROM (
         SELECT 1 + a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 10000 * f.d AS n
         FROM ${digits} a, ${digits} b, ${digits} c, ${digits} e, ${digits} f) g
       WHERE n <= ${bulkRows}`,
    );
    return { ids: [0, 1, 2, 3].map((i) => String(seeded.insertId + i)) };
  });
}

interface Uncertain {
  tx: string;
  changes: CommittedChange[];
}

export async function runMysqlMixedLoad(
  url: string,
  sharedIds: string[],
  options: {
    until: Promise<unknown>;
    workload?: Partial<WorkloadOptions>;
    longMs: number;
    bulkAfterMs: number;
  },
): Promise<CommittedChange[]> {
  let done = false;
  void options.until.finally(() => {
    done = true;
  });
  const committed: CommittedChange[] = [];
  const uncertain: Uncertain[] = [];
  let round = 0;
  const rounds = (async () => {
    do {
      round++;
      await Promise.all(
        Array.from({ length: options.workload?.writers ?? 3 }, (_, w) =>
          writer(url, `m${round}w${w}`, sharedIds, {
            transactions: options.workload?.transactionsPerWriter ?? 8,
            rollbackRate: options.workload?.rollbackRate ?? 0.1,
            slowRate: options.workload?.slowRate ?? 0.2,
            slowMs: options.workload?.slowMs ?? 100,
            committed,
            uncertain,
          }),
        ),
      );
      if (!done) await sleep(100);
    } while (!done);
  })();
  const rowsTagged = (tags: string[]) =>
    withConnection(url, async (c) => {
      const [rows] = await c.query<mysql.RowDataPacket[]>(
        'SELECT id, version, customer_name, product_name FROM orders WHERE product_name IN (?)',
        [tags],
      );
      return rows as TaggedRow[];
    });
  const long = untilCommitted(
    (tag) => withConnection(url, (c) => longTransaction(c, tag, options.longMs)),
    rowsTagged,
  );
  const bulk = sleep(options.bulkAfterMs).then(() =>
    untilCommitted((tag) => withConnection(url, (c) => bulkUpdate(c, tag)), rowsTagged),
  );
  const [, longChanges, bulkChanges] = await Promise.all([rounds, long, bulk]);
  return [...committed, ...(await committedOf(url, uncertain)), ...longChanges, ...bulkChanges];
}

/** One writer: transactions until `transactions` are done or its connection is lost. */
async function writer(
  url: string,
  name: string,
  sharedIds: string[],
  options: {
    transactions: number;
    rollbackRate: number;
    slowRate: number;
    slowMs: number;
    committed: CommittedChange[];
    uncertain: Uncertain[];
  },
) {
  const client = await openWriterConnection(url).catch(() => undefined);
  if (!client) return;
  const random = seededRandom(name.length * 7919 + 17);
  const own: string[] = [];
  const versionOf = async (id: string) => {
    const [rows] = await client.query<mysql.RowDataPacket[]>('SELECT version FROM orders WHERE id = ?', [id]);
    return rows[0] ? Number(rows[0].version) : undefined;
  };
  try {
    for (let t = 0; t < options.transactions; t++) {
      const tx = `${name}t${t}`;
      const changes: CommittedChange[] = [];
      const slow = random() < options.slowRate;
      const rollback = random() < options.rollbackRate;
      try {
        await client.query('START TRANSACTION');
        await client.query('INSERT INTO fault_commits (tx) VALUES (?)', [tx]);
        const steps = 1 + Math.floor(random() * 3);
        for (let s = 0; s < steps; s++) {
          const pick = random();
          if (pick < 0.45 || own.length === 0) {
            const [result] = await client.query<mysql.ResultSetHeader>(
              "INSERT INTO orders (customer_name, product_name, quantity) VALUES (?, 'widget', ?)",
              [tx, 1 + s],
            );
            const id = String(result.insertId);
            changes.push({ op: 'INSERT', id, version: (await versionOf(id)) as number, tx });
          } else if (pick < 0.85) {
            const id = (
              random() < 0.5
                ? own[Math.floor(random() * own.length)]
                : sharedIds[Math.floor(random() * sharedIds.length)]
            ) as string;
            const [result] = await client.query<mysql.ResultSetHeader>(
              'UPDATE orders SET quantity = quantity % 1000 + 1 WHERE id = ?',
              [id],
            );
            if (result.affectedRows === 1)
              changes.push({ op: 'UPDATE', id, version: (await versionOf(id)) as number, tx });
          } else {
            const id = own[own.length - 1] as string;
            const [rows] = await client.query<mysql.RowDataPacket[]>(
              'SELECT version FROM orders WHERE id = ? FOR UPDATE',
              [id],
            );
            if (rows[0]) {
              await client.query('DELETE FROM orders WHERE id = ?', [id]);
              changes.push({ op: 'DELETE', id, version: Number(rows[0].version), tx });
            }
          }
          if (slow && s === 0) await sleep(options.slowMs);
        }
        if (rollback) {
          await client.query('ROLLBACK');
          continue;
        }
        try {
          await client.query('COMMIT');
        } catch {
          options.uncertain.push({ tx, changes });
          return;
        }
        options.committed.push(...changes);
        for (const c of changes) {
          if (c.op === 'INSERT') own.push(c.id);
          if (c.op === 'DELETE' && own.includes(c.id)) own.splice(own.indexOf(c.id), 1);
        }
      } catch {
        // A deadlock, or a connection lost before COMMIT: rolled back, nothing committed. A
        // writer whose connection is gone stops; the next round starts new ones.
        const alive = await client.query('ROLLBACK').then(
          () => true,
          () => false,
        );
        if (!alive) return;
      }
    }
  } finally {
    client.destroy();
  }
}

async function committedOf(url: string, uncertain: Uncertain[]): Promise<CommittedChange[]> {
  if (uncertain.length === 0) return [];
  const [rows] = await withConnection(url, (c) =>
    c.query<mysql.RowDataPacket[]>('SELECT tx FROM fault_commits WHERE tx IN (?)', [
      uncertain.map((u) => u.tx),
    ]),
  );
  const found = new Set(rows.map((r) => String(r.tx)));
  return uncertain
    .filter((u) => found.has(u.tx))
    .flatMap((u) => u.changes.map((c) => ({ ...c, tx: `${c.tx} (commit unanswered)` })));
}

/**
 * A connection of the test's own writers. Not the service: whatever a DBA set on the server
 * (dba-timeouts.test.ts), these bring their own settings and do not time out.
 */
export async function openWriterConnection(url: string): Promise<mysql.Connection> {
  const connection = await mysql.createConnection({ ...mysqlOptions(url), connectTimeout: 3_000 });
  connection.on('error', () => {});
  try {
    await connection.query('SET SESSION innodb_lock_wait_timeout = 3600, SESSION wait_timeout = 28800');
    await connection.query('SET SESSION max_statement_time = 0').catch(() => {}); // MariaDB only
  } catch (error) {
    connection.destroy();
    throw error;
  }
  return connection;
}

async function withConnection<T>(url: string, run: (connection: mysql.Connection) => Promise<T>): Promise<T> {
  const connection = await openWriterConnection(url);
  try {
    return await run(connection);
  } finally {
    connection.destroy();
  }
}

async function longTransaction(c: mysql.Connection, tag: string, ms: number): Promise<CommittedChange[]> {
  await c.query('START TRANSACTION');
  const [result] = await c.query<mysql.ResultSetHeader>(
    "INSERT INTO orders (customer_name, product_name) VALUES ('long', ?)",
    [tag],
  );
  await sleep(ms);
  await c.query('COMMIT');
  return [{ op: 'INSERT', id: String(result.insertId), version: 1, tx: tag }];
}

async function bulkUpdate(c: mysql.Connection, tag: string): Promise<CommittedChange[]> {
  await c.query('START TRANSACTION');
  await c.query(
    "UPDATE orders SET quantity = quantity % 1000 + 1, product_name = ? WHERE customer_name = 'bulk'",
    [tag],
  );
  const [rows] = await c.query<mysql.RowDataPacket[]>(
    'SELECT id, version FROM orders WHERE product_name = ?',
    [tag],
  );
  await c.query('COMMIT');
  return rows.map((r) => ({ op: 'UPDATE' as const, id: String(r.id), version: Number(r.version), tx: tag }));
}
