import { type Kysely, sql } from 'kysely';

// changedBy on MySQL/MariaDB, as PostgreSQL records it (migrations/2026-11-27T12-00_api-actor.ts):
// writes through the API name the token's subject (`api:alice`), every other session its database
// user. The binary log does not say which session wrote a row, and the capture cannot see session
// variables, so the writer's own session puts the name into what the binary log carries:
// - INSERT and UPDATE: an INVISIBLE column of orders, set by the stamping triggers. It is in every
//   row image of the log (binlog_row_image=FULL), costs the writer one column, and stays out of
//   `SELECT *` and of column-less INSERTs, so the table looks as before to plain SQL.
// - DELETE: the deleted row's image still names its previous writer, so a trigger writes the
//   deleter's name into order_delete_actors and removes it in the same breath: the table stays
//   empty, the log has the row just before the deletion it names (the capture reads it there).
// The API sets @realtime_orders_actor for its write's transaction only (src/orders/mysql-writes.ts);
// other sessions get their user, USER() without the host (CURRENT_USER() would be the trigger's
// definer). INVISIBLE needs MariaDB 10.3 or MySQL 8.0.23.
const ACTOR = sql.raw(
  `LEFT(COALESCE(NULLIF(CAST(@realtime_orders_actor AS CHAR CHARACTER SET utf8mb4), ''),
    SUBSTRING_INDEX(USER(), '@', 1)), 200)`,
);

// The stamping triggers of 2026-11-27T18-00_orders.ts, plus the writer's name. One trigger per
// event rather than a second one: a second BEFORE trigger cost a 100,000-row INSERT 2 s more here
// (it is invoked once per row), the extra line in the first one nothing measurable.
const stampInsert = (actor: boolean) => sql`
  TRIGGER orders_stamp_insert BEFORE INSERT ON orders FOR EACH ROW
  BEGIN
    SET NEW.version = 1;
    SET NEW.created_at = UTC_TIMESTAMP(6);
    SET NEW.updated_at = NEW.created_at;
    ${actor ? sql`SET NEW.changed_by = ${ACTOR};` : sql``}
  END`;
const stampUpdate = (actor: boolean) => sql`
  TRIGGER orders_stamp_update BEFORE UPDATE ON orders FOR EACH ROW
  BEGIN
    IF NEW.id <> OLD.id THEN
      SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'orders.id cannot be changed';
    END IF;
    SET NEW.version = OLD.version + 1;
    SET NEW.created_at = OLD.created_at;
    SET NEW.updated_at = GREATEST(UTC_TIMESTAMP(6), OLD.updated_at);
    ${actor ? sql`SET NEW.changed_by = ${ACTOR};` : sql``}
  END`;

/**
 * Replaces the stamping triggers without a moment in which writes go unstamped: MariaDB's CREATE
 * OR REPLACE TRIGGER is atomic; MySQL has none, so there the table is locked around DROP and
 * CREATE (migrations run on one connection).
 */
async function replaceStampTriggers(db: Kysely<any>, actor: boolean): Promise<void> {
  const { rows } = await sql<{ v: string }>`SELECT VERSION() AS v`.execute(db);
  if (/mariadb/i.test(rows[0]?.v ?? '')) {
    await sql`CREATE OR REPLACE ${stampInsert(actor)}`.execute(db);
    await sql`CREATE OR REPLACE ${stampUpdate(actor)}`.execute(db);
    return;
  }
  await sql`LOCK TABLES orders WRITE`.execute(db);
  try {
    await sql`DROP TRIGGER orders_stamp_insert`.execute(db);
    await sql`CREATE ${stampInsert(actor)}`.execute(db);
    await sql`DROP TRIGGER orders_stamp_update`.execute(db);
    await sql`CREATE ${stampUpdate(actor)}`.execute(db);
  } finally {
    await sql`UNLOCK TABLES`.execute(db);
  }
}

export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE orders ADD COLUMN changed_by VARCHAR(200) NULL INVISIBLE`.execute(db);
  await sql`
    CREATE TABLE order_delete_actors (
      order_id BIGINT NOT NULL PRIMARY KEY,
      actor VARCHAR(200) NULL
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`.execute(db);
  await replaceStampTriggers(db, true);
  await sql`
    CREATE TRIGGER orders_actor_delete BEFORE DELETE ON orders FOR EACH ROW
    BEGIN
      INSERT INTO order_delete_actors (order_id, actor) VALUES (OLD.id, ${ACTOR});
      DELETE FROM order_delete_actors WHERE order_id = OLD.id;
    END`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TRIGGER orders_actor_delete`.execute(db);
  await replaceStampTriggers(db, false);
  await sql`DROP TABLE order_delete_actors`.execute(db);
  await sql`ALTER TABLE orders DROP COLUMN changed_by`.execute(db);
}
