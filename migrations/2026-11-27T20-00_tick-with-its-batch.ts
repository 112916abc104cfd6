import { type Kysely, sql } from 'kysely';

// change_batch: a tick's batch as one JSON text, which the service parses once instead of
// decoding a row per change (src/changes/change-log.ts `decodeBatch`):
//   [tick_id, snapshot, created_at as epoch milliseconds, previous tick's snapshot,
//    [[txid, last seq, count], ...] in delivery order (by last seq),
//    [[seq, txid, op, order_id, old_row, new_row, actor], ...] in delivery order, or null]
// The batch's changes are looked up by their transactions' ids in the (txid, seq) index: joined to
// the transactions, a plan kept for the session (with no txid to estimate from, after one 100k-row
// transaction) walked the primary key of the whole table instead, 170 ms for one change.
// PL/pgSQL, not SQL: its plan is kept for the session, where a SQL function is planned at every
// call (0.6 ms, more than running it for a tick of a few changes).
// The changes are left out (null) when the batch has more than p_max of them: readers then read
// it a page at a time. NULL when the tick or its predecessor does not exist (pruned).
// Milliseconds are truncated, as the driver truncates a timestamptz to a Date, so a tick read
// either way has the same time. order_id is text: a bigint may exceed what a JSON number keeps.
//
// make_change_tick_with_batch: the leader's poll makes a tick and, when p_max is not null (some
// subscriber is live), reads its batch in the same round trip, in a statement after the tick's (so with a snapshot that sees
// every transaction the tick's does). The tick commits with the poll, before its batch reaches
// the service.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE FUNCTION change_batch(p_tick bigint, p_max integer) RETURNS text LANGUAGE plpgsql STABLE AS $$
    BEGIN
      RETURN (WITH pair AS (
        SELECT tick_id, snapshot, created_at FROM change_ticks
        WHERE tick_id <= p_tick ORDER BY tick_id DESC LIMIT 2
      ), cur AS (SELECT * FROM pair WHERE tick_id = p_tick), prev AS (SELECT * FROM pair WHERE tick_id = p_tick - 1),
      txs AS (
        SELECT txid, max(seq) AS last, count(*) AS count FROM order_changes, cur, prev
        WHERE txid >= pg_snapshot_xmin(prev.snapshot) AND txid < pg_snapshot_xmax(cur.snapshot)
          AND pg_visible_in_snapshot(txid, cur.snapshot) AND NOT pg_visible_in_snapshot(txid, prev.snapshot)
        GROUP BY txid
      )
      SELECT json_build_array(
        cur.tick_id, cur.snapshot::text, floor(extract(epoch FROM cur.created_at) * 1000)::bigint,
        prev.snapshot::text,
        (SELECT coalesce(json_agg(json_build_array(o.txid::text, o.last, o.count) ORDER BY o.last), '[]')
         FROM txs o),
        CASE WHEN (SELECT coalesce(sum(o.count), 0) FROM txs o) <= p_max THEN
          (SELECT coalesce(json_agg(
              json_build_array(c.seq, c.txid::text, c.op, c.order_id::text, c.old_row, c.new_row, c.actor)
              ORDER BY c.last, c.seq), '[]')
           FROM (
             SELECT c.*, max(c.seq) OVER (PARTITION BY c.txid) AS last FROM order_changes c
             WHERE c.txid = ANY (ARRAY(SELECT txid FROM txs))
           ) c)
        END)::text
      FROM cur CROSS JOIN prev);
    END $$`.execute(db);
  // xmin and xmax of a snapshot taken before the tick's own (the Ticker's drain and pace).
  await sql`
    CREATE FUNCTION make_change_tick_with_batch(
      p_max integer, OUT xmin xid8, OUT xmax xid8, OUT tick bigint, OUT batch text
    ) LANGUAGE plpgsql AS $$
    DECLARE
      before pg_snapshot := pg_current_snapshot();
    BEGIN
      xmin := pg_snapshot_xmin(before);
      xmax := pg_snapshot_xmax(before);
      tick := make_change_tick();
      IF tick IS NOT NULL AND p_max IS NOT NULL THEN
        SELECT change_batch(tick, p_max) INTO batch;
      END IF;
    END $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP FUNCTION make_change_tick_with_batch`.execute(db);
  await sql`DROP FUNCTION change_batch`.execute(db);
}
