import { type Kysely, sql } from 'kysely';

// One page of one transaction's changes, in seq order. Right after a bulk statement the table has
// no statistics yet, and the planner then prefers a bitmap scan of the whole transaction plus a
// sort, for every page: 100k rows read 200 times. The SET clauses leave it only the ordered index
// scan of (txid, seq), which reads just the page.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE FUNCTION read_order_changes(p_txid xid8, p_after bigint, p_limit integer)
    RETURNS SETOF order_changes LANGUAGE sql STABLE
    SET enable_seqscan = off SET enable_bitmapscan = off SET enable_sort = off
    AS $$
      SELECT * FROM order_changes WHERE txid = p_txid AND seq > p_after ORDER BY seq LIMIT p_limit
    $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP FUNCTION read_order_changes`.execute(db);
}
