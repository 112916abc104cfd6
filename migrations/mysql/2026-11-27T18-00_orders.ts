import { type Kysely, sql } from 'kysely';

// The orders table on MySQL/MariaDB, as on PostgreSQL (migrations/2026-11-22T00-00_orders.ts):
// the database enforces the contract's limits and owns `version` and `updated_at`, so that plain
// SQL behaves as the API does. Times are UTC DATETIME(6); utf8mb4_bin compares exactly, as
// PostgreSQL's text does (a status 'PENDING' is refused, names compare case-sensitively).
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE orders (
      id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
      customer_name VARCHAR(1000) NOT NULL,
      product_name VARCHAR(1000) NOT NULL,
      quantity INT NOT NULL DEFAULT 1,
      status VARCHAR(20) NOT NULL DEFAULT 'pending',
      version INT NOT NULL DEFAULT 1,
      created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
      updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
      CONSTRAINT orders_customer_name_length CHECK (char_length(trim(customer_name)) BETWEEN 1 AND 200),
      CONSTRAINT orders_product_name_length CHECK (char_length(trim(product_name)) BETWEEN 1 AND 200),
      CONSTRAINT orders_quantity_range CHECK (quantity BETWEEN 1 AND 1000000),
      CONSTRAINT orders_status_known CHECK (status IN ('pending', 'processing', 'shipped', 'delivered', 'cancelled')),
      KEY orders_status_id (status, id)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`.execute(db);

  // Whoever writes, version starts at 1 and rises by one per update; times are the server's UTC.
  await sql`
    CREATE TRIGGER orders_stamp_insert BEFORE INSERT ON orders FOR EACH ROW
    BEGIN
      SET NEW.version = 1;
      SET NEW.created_at = UTC_TIMESTAMP(6);
      SET NEW.updated_at = NEW.created_at;
    END`.execute(db);
  await sql`
    CREATE TRIGGER orders_stamp_update BEFORE UPDATE ON orders FOR EACH ROW
    BEGIN
      IF NEW.id <> OLD.id THEN
        SIGNAL SQLSTATE '23000' SET MESSAGE_TEXT = 'orders.id cannot be changed';
      END IF;
      SET NEW.version = OLD.version + 1;
      SET NEW.created_at = OLD.created_at;
      SET NEW.updated_at = GREATEST(UTC_TIMESTAMP(6), OLD.updated_at);
    END`.execute(db);

  // The change log, written only by the binary-log capture (src/changes/mysql/binlog-capture.ts),
  // one transaction of its own per captured transaction, in binary-log (= commit) order: so `seq`
  // order is commit order and a reader may read `seq > last` (see README, MySQL and MariaDB).
  await sql`
    CREATE TABLE order_changes (
      seq BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
      binlog_pos BIGINT NOT NULL,
      op VARCHAR(6) NOT NULL,
      order_id BIGINT NOT NULL,
      old_row JSON NULL,
      new_row JSON NULL,
      actor VARCHAR(200) NULL,
      committed_at DATETIME(6) NOT NULL
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`.execute(db);

  // Where the capture stands in the binary log, updated in the same transaction as the changes it
  // records, so that after any crash it resumes exactly after the last transaction it recorded.
  // The first position is the log's end now: the orders table was just created, so nothing before
  // it concerns orders.
  const [status] = (await sql<{ File: string; Position: string }>`SHOW MASTER STATUS`.execute(db)).rows;
  await sql`
    CREATE TABLE change_capture (
      id TINYINT NOT NULL PRIMARY KEY,
      binlog_file VARCHAR(255) NOT NULL,
      binlog_pos BIGINT NOT NULL,
      pruned_through BIGINT NOT NULL DEFAULT 0
    ) ENGINE=InnoDB`.execute(db);
  await sql`INSERT INTO change_capture (id, binlog_file, binlog_pos) VALUES (1, ${status?.File ?? ''}, ${Number(status?.Position ?? 4)})`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE change_capture`.execute(db);
  await sql`DROP TABLE order_changes`.execute(db);
  await sql`DROP TABLE orders`.execute(db);
}
