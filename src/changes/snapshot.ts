import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import { encodeCursor, endOfTick, parseSnapshot } from './position.ts';

/**
 * Runs `read` in one REPEATABLE READ snapshot and returns, with its result, the change-feed cursor
 * of exactly that snapshot: subscribing after it delivers every change the read did not reflect,
 * and none that it did, however many writes land in between.
 */
export async function readWithChangeCursor<T>(
  db: Kysely<Database>,
  read: (trx: Transaction<Database>) => Promise<T>,
): Promise<{ result: T; changeCursor: string }> {
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .setAccessMode('read only')
    .execute(async (trx) => {
      // The first statement fixes the transaction's snapshot; pg_current_snapshot() is that one,
      // so the same statement can ask whether it saw transactions that the last tick did not.
      // Usually not, and the cursor is a plain position; otherwise it carries the snapshot so the
      // reader can skip them.
      const { rows } = await sql<{ seen: string; tick_id: string; pending: boolean }>`
        SELECT pg_current_snapshot()::text AS seen, t.tick_id, EXISTS (
          SELECT 1 FROM order_changes
          WHERE txid >= pg_snapshot_xmin(t.snapshot) AND txid < pg_snapshot_xmax(pg_current_snapshot())
            AND pg_visible_in_snapshot(txid, pg_current_snapshot())
            AND NOT pg_visible_in_snapshot(txid, t.snapshot)
        ) AS pending
        FROM (SELECT tick_id, snapshot FROM change_ticks ORDER BY tick_id DESC LIMIT 1) t`.execute(trx);
      const head = rows[0];
      if (!head) throw new Error('change_ticks is empty: migrations did not run');
      const result = await read(trx);
      const position = endOfTick(Number(head.tick_id));
      const seen = head.pending ? parseSnapshot(head.seen) : undefined;
      return { result, changeCursor: encodeCursor({ position, seen }) };
    });
}
