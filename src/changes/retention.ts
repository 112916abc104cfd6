import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/database.ts';

/**
 * Drops history older than `retentionMs`. The newest tick older than the cut-off stays as the base
 * that the next batch is computed against; cursors at or before it become CURSOR_EXPIRED.
 */
export async function pruneChangeLog(db: Kysely<Database>, retentionMs: number): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const { rows } = await sql<{ tick_id: string; snapshot: string }>`
      SELECT tick_id, snapshot::text FROM change_ticks
      WHERE created_at < clock_timestamp() - make_interval(secs => ${retentionMs / 1000})
      ORDER BY tick_id DESC LIMIT 1`.execute(trx);
    const base = rows[0];
    if (!base) return 0;
    await sql`DELETE FROM change_ticks WHERE tick_id < ${base.tick_id}`.execute(trx);
    const deleted = await sql`
      DELETE FROM order_changes
      WHERE txid < pg_snapshot_xmax(${base.snapshot}::pg_snapshot)
        AND pg_visible_in_snapshot(txid, ${base.snapshot}::pg_snapshot)`.execute(trx);
    return Number(deleted.numAffectedRows ?? 0);
  });
}
