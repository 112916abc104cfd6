import { type Kysely, sql } from 'kysely';

// PL/pgSQL plans the capture's INSERT ... SELECT once per session, at its first use, with the
// transition tables' sizes of that moment. After a 1-row UPDATE the cached plan is a nested loop,
// which a later 20,000-row UPDATE on the same session (any pooled connection) runs 20,000 x 20,000
// times: 67 s instead of 0.3 s. A hash join is right at every size, so the function leaves the
// planner nothing else. Measured (npm run bench has the figures): a 1-row statement costs the
// same, within 2 us; planning per call (EXECUTE) would cost twice the statement.
// The transition tables are joined on id, not paired by position: PostgreSQL does not promise
// that old_rows and new_rows list the rows in the same order.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE OR REPLACE FUNCTION orders_capture_update() RETURNS trigger LANGUAGE plpgsql
    SET enable_nestloop = off SET enable_mergejoin = off
    AS $$
    BEGIN
      INSERT INTO order_changes (op, order_id, old_row, new_row)
        SELECT 'UPDATE', n.id, to_jsonb(o), to_jsonb(n)
        FROM new_rows n JOIN old_rows o ON o.id = n.id ORDER BY n.id;
      IF FOUND THEN PERFORM pg_notify('order_changes', ''); END IF;
      RETURN NULL;
    END $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE OR REPLACE FUNCTION orders_capture_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO order_changes (op, order_id, old_row, new_row)
        SELECT 'UPDATE', n.id, to_jsonb(o), to_jsonb(n)
        FROM new_rows n JOIN old_rows o ON o.id = n.id ORDER BY n.id;
      IF FOUND THEN PERFORM pg_notify('order_changes', ''); END IF;
      RETURN NULL;
    END $$`.execute(db);
}
