import { type Kysely, sql } from 'kysely';

// change_batch read every change of the log older than its tick, once per tick. Its transactions
// were joined to the tick and its predecessor as CTEs, and the planner, which cannot see inside
// them, put the predecessor last: the index scan of (txid, seq) had only the upper bound
// (txid < the tick's xmax), and the lower one was a filter after the heap. With 1.5 million
// changes in the log one tick took 1.2 s (PostgreSQL 15, EXPLAIN ANALYZE; the scan's 1,511,151
// rows for 1 change), and the next statement, planned for 187,499 rows, started parallel workers
// and JIT compilation (62 + 41 ms). So the tick grew with the history kept, and the feed's latency
// with it.
// Here the snapshots are read first into variables, so both bounds reach the index scan as
// parameters, and the batch's transactions are an array the next statement looks up. Plans are
// made for each call's values (plan_cache_mode): a plan kept for the session, generic, estimated
// a range of txids as a fixed share of the log, and 100,000-row ticks in between would otherwise
// leave it whatever suited them. Same output as 2026-11-27T20-00's.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE OR REPLACE FUNCTION change_batch(p_tick bigint, p_max integer) RETURNS text LANGUAGE plpgsql STABLE
    SET plan_cache_mode = force_custom_plan
    AS $$
    DECLARE
      cur change_ticks;
      prev change_ticks;
      transactions json;
      total bigint;
      ids xid8[];
      changes json;
    BEGIN
      SELECT * INTO cur FROM change_ticks WHERE tick_id = p_tick;
      IF NOT FOUND THEN RETURN NULL; END IF;
      SELECT * INTO prev FROM change_ticks WHERE tick_id = p_tick - 1;
      IF NOT FOUND THEN RETURN NULL; END IF;
      SELECT coalesce(json_agg(json_build_array(t.txid::text, t.last, t.count) ORDER BY t.last), '[]'),
             coalesce(sum(t.count), 0), array_agg(t.txid)
        INTO transactions, total, ids
        FROM (
          SELECT txid, max(seq) AS last, count(*) AS count FROM order_changes
          WHERE txid >= pg_snapshot_xmin(prev.snapshot) AND txid < pg_snapshot_xmax(cur.snapshot)
            AND pg_visible_in_snapshot(txid, cur.snapshot) AND NOT pg_visible_in_snapshot(txid, prev.snapshot)
          GROUP BY txid
        ) t;
      IF total <= p_max THEN
        SELECT coalesce(json_agg(
            json_build_array(c.seq, c.txid::text, c.op, c.order_id::text, c.old_row, c.new_row, c.actor)
            ORDER BY c.last, c.seq), '[]')
          INTO changes
          FROM (
            SELECT c.*, max(c.seq) OVER (PARTITION BY c.txid) AS last FROM order_changes c
            WHERE c.txid = ANY (ids)
          ) c;
      END IF;
      RETURN json_build_array(
        cur.tick_id, cur.snapshot::text, floor(extract(epoch FROM cur.created_at) * 1000)::bigint,
        prev.snapshot::text, transactions, changes)::text;
    END $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE OR REPLACE FUNCTION change_batch(p_tick bigint, p_max integer) RETURNS text LANGUAGE plpgsql STABLE AS $$
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
}
