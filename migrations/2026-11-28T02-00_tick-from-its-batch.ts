import { type Kysely, sql } from 'kysely';

// The leader's poll made its tick and read the tick's batch in two steps that each started over:
// make_change_tick scanned the log for one new transaction (NOT EXISTS), inserted the tick, and
// change_batch then read the tick and its predecessor back from change_ticks and scanned the same
// range of the log again for the batch's transactions. Here the poll scans that range once: the
// batch's transactions decide whether there is a tick at all, and the two snapshots are those the
// function already holds. Same ticks, same output, one scan and two lookups fewer per poll
// (measured in the commit that added this migration).
// Without a batch to return (no reader would take it from memory), only whether there is one
// matters, and NOT EXISTS stops at the first new transaction instead of counting every change of
// a large tick; that is make_change_tick, unchanged. The two reads whose plans depend on the
// snapshots' bounds and on the batch's size are planned for each call's values, as change_batch's
// are (2026-11-28T01-00, plan_cache_mode). EXECUTE would do the same, but parses them again too:
// on PostgreSQL 17 that made the poll slower than before instead of faster.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE OR REPLACE FUNCTION make_change_tick_with_batch(
      p_max integer, OUT xmin xid8, OUT xmax xid8, OUT tick bigint, OUT batch text
    ) LANGUAGE plpgsql SET plan_cache_mode = force_custom_plan AS $$
    DECLARE
      before pg_snapshot := pg_current_snapshot();
      snap pg_snapshot;
      prev change_ticks;
      created timestamptz;
      transactions json;
      total bigint;
      ids xid8[];
      changes json;
    BEGIN
      xmin := pg_snapshot_xmin(before);
      xmax := pg_snapshot_xmax(before);
      IF p_max IS NULL THEN
        tick := make_change_tick();
        RETURN;
      END IF;
      snap := pg_current_snapshot();
      SELECT * INTO prev FROM change_ticks ORDER BY tick_id DESC LIMIT 1;
      SELECT coalesce(json_agg(json_build_array(t.txid::text, t.last, t.count) ORDER BY t.last), '[]'),
             coalesce(sum(t.count), 0), array_agg(t.txid)
        INTO transactions, total, ids
        FROM (
          SELECT txid, max(seq) AS last, count(*) AS count FROM order_changes
          WHERE txid >= pg_snapshot_xmin(prev.snapshot) AND txid < pg_snapshot_xmax(snap)
            AND pg_visible_in_snapshot(txid, snap) AND NOT pg_visible_in_snapshot(txid, prev.snapshot)
          GROUP BY txid
        ) t;
      IF total = 0 THEN RETURN; END IF;
      INSERT INTO change_ticks (tick_id, snapshot) VALUES (prev.tick_id + 1, snap)
        RETURNING tick_id, created_at INTO tick, created;
      PERFORM pg_notify('order_ticks', tick::text);
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
      batch := json_build_array(
        tick, snap::text, floor(extract(epoch FROM created) * 1000)::bigint,
        prev.snapshot::text, transactions, changes)::text;
    END $$`.execute(db);
}

// The definition of 2026-11-27T20-00.
export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE OR REPLACE FUNCTION make_change_tick_with_batch(
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
