import { type Kysely, sql } from 'kysely';

// TRUNCATE is DDL on MySQL/MariaDB: the binary log has the statement but no rows, so the capture
// cannot deliver the deletes it made, and they were silently lost (PostgreSQL records them as one
// DELETE per row). InnoDB refuses to TRUNCATE a table that a foreign key references, so an empty
// table referencing orders turns that silent loss into an error; DELETE FROM orders is captured.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE orders_truncate_guard (
      order_id BIGINT NULL,
      CONSTRAINT orders_truncate_guard_order FOREIGN KEY (order_id) REFERENCES orders (id)
    ) ENGINE=InnoDB`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE orders_truncate_guard`.execute(db);
}
