import { type Kysely, sql } from 'kysely';

// Change capture lives in the database so that no writer can bypass it (DESIGN.md).
//
// order_changes holds one row per changed order, stamped with the writing transaction's id.
// change_ticks holds snapshots taken one after another by a single ticker; the batch of tick N
// is every change whose transaction is visible in tick N's snapshot and not in tick N-1's (PgQ).
// NOTIFY is only a wake-up with an empty payload, which PostgreSQL folds to one per transaction.
export async function up(db: Kysely<any>): Promise<void> {
  // CACHE 1: values must be handed out in time order across sessions, or the in-batch order
  // (transactions by their last seq) would not follow commit order.
  await sql`CREATE SEQUENCE order_changes_seq CACHE 1`.execute(db);
  await sql`
    CREATE TABLE order_changes (
      seq bigint PRIMARY KEY DEFAULT nextval('order_changes_seq'),
      txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
      op text NOT NULL CHECK (op IN ('INSERT', 'UPDATE', 'DELETE')),
      order_id bigint NOT NULL,
      old_row jsonb,
      new_row jsonb
    )`.execute(db);
  await sql`ALTER SEQUENCE order_changes_seq OWNED BY order_changes.seq`.execute(db);
  await sql`CREATE INDEX order_changes_txid_seq ON order_changes (txid, seq)`.execute(db);

  await sql`
    CREATE TABLE change_ticks (
      tick_id bigint PRIMARY KEY,
      snapshot pg_snapshot NOT NULL,
      created_at timestamptz NOT NULL DEFAULT clock_timestamp()
    )`.execute(db);
  await sql`INSERT INTO change_ticks (tick_id, snapshot) VALUES (1, pg_current_snapshot())`.execute(db);

  // Statement-level triggers with transition tables: a 100k-row statement costs one INSERT ... SELECT
  // and one NOTIFY, not 100k trigger calls.
  await sql`
    CREATE FUNCTION orders_capture_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO order_changes (op, order_id, new_row)
        SELECT 'INSERT', n.id, to_jsonb(n) FROM new_rows n ORDER BY n.id;
      IF FOUND THEN PERFORM pg_notify('order_changes', ''); END IF;
      RETURN NULL;
    END $$`.execute(db);
  await sql`
    CREATE FUNCTION orders_capture_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO order_changes (op, order_id, old_row, new_row)
        SELECT 'UPDATE', n.id, to_jsonb(o), to_jsonb(n)
        FROM new_rows n JOIN old_rows o ON o.id = n.id ORDER BY n.id;
      IF FOUND THEN PERFORM pg_notify('order_changes', ''); END IF;
      RETURN NULL;
    END $$`.execute(db);
  await sql`
    CREATE FUNCTION orders_capture_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO order_changes (op, order_id, old_row)
        SELECT 'DELETE', o.id, to_jsonb(o) FROM old_rows o ORDER BY o.id;
      IF FOUND THEN PERFORM pg_notify('order_changes', ''); END IF;
      RETURN NULL;
    END $$`.execute(db);
  // TRUNCATE fires no row triggers; record it as the deletes it is.
  await sql`
    CREATE FUNCTION orders_capture_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO order_changes (op, order_id, old_row)
        SELECT 'DELETE', o.id, to_jsonb(o) FROM orders o ORDER BY o.id;
      IF FOUND THEN PERFORM pg_notify('order_changes', ''); END IF;
      RETURN NULL;
    END $$`.execute(db);
  await sql`CREATE TRIGGER orders_capture_insert AFTER INSERT ON orders
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION orders_capture_insert()`.execute(
    db,
  );
  await sql`CREATE TRIGGER orders_capture_update AFTER UPDATE ON orders
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION orders_capture_update()`.execute(db);
  await sql`CREATE TRIGGER orders_capture_delete AFTER DELETE ON orders
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION orders_capture_delete()`.execute(
    db,
  );
  await sql`CREATE TRIGGER orders_capture_truncate BEFORE TRUNCATE ON orders
    FOR EACH STATEMENT EXECUTE FUNCTION orders_capture_truncate()`.execute(db);

  // One tick: the current snapshot, recorded only when it makes a non-empty batch. Called by the
  // single ticker (advisory lock), so tick ids follow commit order.
  await sql`
    CREATE FUNCTION make_change_tick() RETURNS bigint LANGUAGE plpgsql AS $$
    DECLARE
      snap pg_snapshot := pg_current_snapshot();
      last_tick change_ticks;
      next_id bigint;
    BEGIN
      SELECT * INTO last_tick FROM change_ticks ORDER BY tick_id DESC LIMIT 1;
      IF NOT EXISTS (
        SELECT 1 FROM order_changes
        WHERE txid >= pg_snapshot_xmin(last_tick.snapshot) AND txid < pg_snapshot_xmax(snap)
          AND pg_visible_in_snapshot(txid, snap) AND NOT pg_visible_in_snapshot(txid, last_tick.snapshot)
      ) THEN
        RETURN NULL;
      END IF;
      INSERT INTO change_ticks (tick_id, snapshot) VALUES (last_tick.tick_id + 1, snap)
        RETURNING tick_id INTO next_id;
      PERFORM pg_notify('order_ticks', next_id::text);
      RETURN next_id;
    END $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const op of ['insert', 'update', 'delete', 'truncate']) {
    await sql.raw(`DROP TRIGGER orders_capture_${op} ON orders`).execute(db);
    await sql.raw(`DROP FUNCTION orders_capture_${op}`).execute(db);
  }
  await sql`DROP FUNCTION make_change_tick`.execute(db);
  await sql`DROP TABLE change_ticks`.execute(db);
  await sql`DROP TABLE order_changes`.execute(db);
}
