import mysql from 'mysql2/promise';
import { mysqlOptions } from '../../src/db/mysql.ts';
import type { TestDatabase } from '../helpers/database.ts';
import { type CommittedChange, seededRandom, type WorkloadOptions } from './harness.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let runs = 0;

/**
 * runWorkload (harness.ts) for MySQL/MariaDB: the same mix of inserts, updates of own and shared
 * orders, deletes, slow transactions and rollbacks, on connections of its own, recording what each
 * committed transaction did. MySQL has no RETURNING: each write reads its row back under its own
 * row lock. Deadlocks roll the transaction back and it is not recorded.
 */
export async function runMysqlWorkload(url: string, options: WorkloadOptions): Promise<CommittedChange[]> {
  const run = ++runs;
  const committed: CommittedChange[] = [];
  const random = seededRandom(54321);
  await Promise.all(
    Array.from({ length: options.writers }, async (_, w) => {
      const client = await mysql.createConnection(mysqlOptions(url));
      client.on('error', () => {});
      const own: string[] = [];
      const version = async (id: string) => {
        const [rows] = await client.query<mysql.RowDataPacket[]>('SELECT version FROM orders WHERE id = ?', [
          id,
        ]);
        return rows[0] ? Number(rows[0].version) : undefined;
      };
      try {
        for (let t = 0; t < options.transactionsPerWriter; t++) {
          const tx = `r${run}w${w}t${t}`;
          const changes: CommittedChange[] = [];
          const slow = random() < (options.slowRate ?? 0);
          const rollback = random() < (options.rollbackRate ?? 0);
          try {
            await client.query('START TRANSACTION');
            const steps = 1 + Math.floor(random() * 3);
            for (let s = 0; s < steps; s++) {
              const pick = random();
              if (pick < 0.45 || own.length === 0) {
                const [result] = await client.query<mysql.ResultSetHeader>(
                  `INSERT INTO orders (customer_name, product_name, quantity) VALUES (?, 'widget', ?)`,
                  [tx, 1 + s],
                );
                const id = String(result.insertId);
                changes.push({ op: 'INSERT', id, version: (await version(id)) as number, tx });
              } else if (pick < 0.85) {
                const id = (
                  random() < 0.5
                    ? own[Math.floor(random() * own.length)]
                    : options.sharedIds[Math.floor(random() * options.sharedIds.length)]
                ) as string;
                const [result] = await client.query<mysql.ResultSetHeader>(
                  'UPDATE orders SET quantity = quantity % 1000 + 1 WHERE id = ?',
                  [id],
                );
                if (result.affectedRows === 1)
                  changes.push({ op: 'UPDATE', id, version: (await version(id)) as number, tx });
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
              if (slow && s === 0) await sleep(options.slowMs ?? 200);
            }
            if (rollback) {
              await client.query('ROLLBACK');
              continue;
            }
            await client.query('COMMIT');
            committed.push(...changes);
            for (const c of changes) {
              if (c.op === 'INSERT') own.push(c.id);
              if (c.op === 'DELETE' && own.includes(c.id)) own.splice(own.indexOf(c.id), 1);
            }
          } catch {
            await client.query('ROLLBACK').catch(() => {});
          }
        }
      } finally {
        await client.end().catch(() => {});
      }
    }),
  );
  return committed;
}

/** Shared orders for the workload to fight over, in one statement. */
export async function seedMysqlOrders(database: TestDatabase, count: number) {
  const values = Array.from({ length: count }, (_, i) => `('seed', 'item ${i + 1}')`).join(', ');
  const connection = await mysql.createConnection(mysqlOptions(database.url));
  try {
    await connection.query('START TRANSACTION');
    const [result] = await connection.query<mysql.ResultSetHeader>(
      `INSERT INTO orders (customer_name, product_name) VALUES ${values}`,
    );
    const [rows] = await connection.query<mysql.RowDataPacket[]>(
      'SELECT id, version FROM orders WHERE id >= ? ORDER BY id LIMIT ?',
      [result.insertId, count],
    );
    await connection.query('COMMIT');
    return {
      ids: rows.map((r) => String(r.id)),
      changes: rows.map((r) => ({
        op: 'INSERT' as const,
        id: String(r.id),
        version: Number(r.version),
        tx: 'seed',
      })),
    };
  } finally {
    await connection.end();
  }
}
