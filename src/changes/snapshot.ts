import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import { isMysqlDb } from '../db/dialect.ts';
import { readWithMysqlChangeCursor } from './mysql/snapshot.ts';
import { type Cursor, encodeCursor, endOfTick, parseSnapshot } from './position.ts';

/**
 * The change-feed cursor of the snapshot that the statement runs in: every change of a
 * transaction that this snapshot does not see comes after it, and none that it sees.
 *
 * The position is the end of the latest tick the snapshot sees. Transactions that committed
 * after that tick but before the snapshot fall in later batches; usually there are none and the
 * cursor is a plain position, otherwise it carries the snapshot (`seen`) so that the reader skips
 * them. One statement, so one snapshot even outside a transaction: pg_current_snapshot() is the
 * statement's own, the one its reads of change_ticks and order_changes use.
 */
export async function currentCursor(db: Kysely<Database> | Transaction<Database>): Promise<Cursor> {
  const { rows } = await sql<{ seen: string; tick_id: string; pending: boolean }>`
    SELECT pg_current_snapshot()::text AS seen, t.tick_id, EXISTS (
      SELECT 1 FROM order_changes
      WHERE txid >= pg_snapshot_xmin(t.snapshot) AND txid < pg_snapshot_xmax(pg_current_snapshot())
        AND pg_visible_in_snapshot(txid, pg_current_snapshot())
        AND NOT pg_visible_in_snapshot(txid, t.snapshot)
    ) AS pending
    FROM (SELECT tick_id, snapshot FROM change_ticks ORDER BY tick_id DESC LIMIT 1) t`.execute(db);
  const head = rows[0];
  if (!head) throw new Error('change_ticks is empty: migrations did not run');
  const position = endOfTick(Number(head.tick_id));
  return head.pending ? { position, seen: parseSnapshot(head.seen) } : { position };
}

/**
 * Runs `read` in one REPEATABLE READ snapshot and returns, with its result, the change-feed cursor
 * of exactly that snapshot: subscribing after it delivers every change the read did not reflect,
 * and none that it did, however many writes land in between.
 */
export async function readWithChangeCursor<T>(
  db: Kysely<Database>,
  read: (trx: Transaction<Database>) => Promise<T>,
): Promise<{ result: T; changeCursor: string }> {
  if (isMysqlDb(db)) return readWithMysqlChangeCursor(db, read);
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .setAccessMode('read only')
    .execute(async (trx) => {
      // The first statement fixes the transaction's snapshot, so the cursor is that of the read.
      const cursor = await currentCursor(trx);
      const result = await read(trx);
      return { result, changeCursor: encodeCursor(cursor) };
    });
}
