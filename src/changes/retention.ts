import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/database.ts';

/** Rows deleted per statement: each a short transaction of its own (a few tens of ms). */
const BATCH = 10_000;

export interface PruneOptions {
  /** Rows per statement (default BATCH). */
  batchSize?: number;
  /** Checked before each statement: true ends the prune there (the rest goes at the next one). */
  stopped?: () => boolean;
}

/**
 * Drops history older than `retentionMs`. The newest tick older than the cut-off stays as the base
 * that the next batch is computed against; cursors at or before it become CURSOR_EXPIRED (decided
 * by tick age in ChangeLog.bounds, whether pruning has run or not).
 *
 * In short transactions, never one long DELETE: millions of expired changes in one statement ran
 * into the pool's statement_timeout and never finished, and a long transaction holds back the
 * xmin that every tick's scan starts from, so the feed's ticks grew slower while it ran (test/bench,
 * history). Ticks go first, oldest first, so the kept ticks never have a hole: a reader of an
 * expired batch finds its predecessor gone and gets CURSOR_EXPIRED; then the changes of the
 * expired batches (visible in the base tick's snapshot) go, in txid order through their index.
 * A prune stopped between two statements has removed a prefix of each, which keeps both true.
 */
export async function pruneChangeLog(
  db: Kysely<Database>,
  retentionMs: number,
  options: PruneOptions = {},
): Promise<number> {
  const batchSize = options.batchSize ?? BATCH;
  const stopped = () => options.stopped?.() === true;
  const { rows } = await sql<{ tick_id: string; snapshot: string }>`
    SELECT tick_id, snapshot::text FROM change_ticks
    WHERE created_at < clock_timestamp() - make_interval(secs => ${retentionMs / 1000})
    ORDER BY tick_id DESC LIMIT 1`.execute(db);
  const base = rows[0];
  if (!base) return 0;
  for (;;) {
    if (stopped()) return 0;
    const deleted = await sql`
      DELETE FROM change_ticks WHERE tick_id IN (
        SELECT tick_id FROM change_ticks WHERE tick_id < ${base.tick_id} ORDER BY tick_id LIMIT ${batchSize})`.execute(
      db,
    );
    if (Number(deleted.numAffectedRows ?? 0) < batchSize) break;
  }
  let removed = 0;
  let from = '0';
  for (;;) {
    if (stopped()) return removed;
    const { rows: done } = await sql<{ count: string; last: string | null }>`
      WITH gone AS (
        DELETE FROM order_changes WHERE seq IN (
          SELECT seq FROM order_changes
          WHERE txid >= ${from}::xid8 AND txid < pg_snapshot_xmax(${base.snapshot}::pg_snapshot)
            AND pg_visible_in_snapshot(txid, ${base.snapshot}::pg_snapshot)
          ORDER BY txid, seq LIMIT ${batchSize})
        RETURNING txid)
      SELECT count(*) AS count, (SELECT txid::text FROM gone ORDER BY txid DESC LIMIT 1) AS last FROM gone`.execute(
      db,
    );
    const count = Number(done[0]?.count ?? 0);
    removed += count;
    if (count < batchSize || !done[0]?.last) return removed;
    from = done[0].last;
  }
}
