import { type Kysely, sql } from 'kysely';

// The captured rows are kept as json (their text) rather than jsonb. Nothing queries inside them
// but a few ->> in tests and by hand, which json has too; the feed only writes them at capture and
// reads them back as text. jsonb paid on both sides: building it (to_jsonb) cost a 100,000-row
// INSERT ~1.2 s of its backend's CPU against ~0.7 s for row_to_json, and a page of 500 changes read
// back cost 6–8 ms against ~3 ms, the difference being jsonb's conversion to text (jsonb_out, ~3 µs
// a row); both measured beside the same statement without capture, on the shared 2-core machine
// (test/bench/notes.md). The readers' JSON is the same but for the order of keys (row_to_json
// keeps the table's column order; the service reads the rows by name).
// The column change rewrites order_changes under an exclusive lock (about 8 s for 1.3 million
// changes here): writers to orders wait for it, so a deployment with a long history should prune
// first or run it at a quiet moment.
// The capture functions are those of 2026-11-27T01-00 with row_to_json in place of to_jsonb.
const CAPTURE: Record<string, { body: (toJson: string) => string; settings?: string }> = {
  insert: {
    body: (toJson) => `INSERT INTO order_changes (op, order_id, new_row)
        SELECT 'INSERT', n.id, ${toJson}(n) FROM new_rows n ORDER BY n.id;`,
  },
  update: {
    settings: 'SET enable_nestloop = off SET enable_mergejoin = off',
    body: (toJson) => `INSERT INTO order_changes (op, order_id, old_row, new_row)
        SELECT 'UPDATE', n.id, ${toJson}(o), ${toJson}(n)
        FROM new_rows n JOIN old_rows o ON o.id = n.id ORDER BY n.id;`,
  },
  delete: {
    body: (toJson) => `INSERT INTO order_changes (op, order_id, old_row)
        SELECT 'DELETE', o.id, ${toJson}(o) FROM old_rows o ORDER BY o.id;`,
  },
  truncate: {
    body: (toJson) => `INSERT INTO order_changes (op, order_id, old_row)
        SELECT 'DELETE', o.id, ${toJson}(o) FROM orders o ORDER BY o.id;`,
  },
};

function capture(op: string, toJson: string) {
  const { body, settings = '' } = CAPTURE[op] as (typeof CAPTURE)[string];
  return sql.raw(`
    CREATE OR REPLACE FUNCTION orders_capture_${op}() RETURNS trigger LANGUAGE plpgsql ${settings}
    AS $$
    BEGIN
      ${body(toJson)}
      IF FOUND AND (SELECT last_value FROM change_ticker_awake) = 0 THEN PERFORM pg_notify('order_changes', ''); END IF;
      RETURN NULL;
    END $$`);
}

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE order_changes
      ALTER COLUMN old_row TYPE json USING old_row::json,
      ALTER COLUMN new_row TYPE json USING new_row::json`.execute(db);
  for (const op of Object.keys(CAPTURE)) await capture(op, 'row_to_json').execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const op of Object.keys(CAPTURE)) await capture(op, 'to_jsonb').execute(db);
  await sql`
    ALTER TABLE order_changes
      ALTER COLUMN old_row TYPE jsonb USING old_row::jsonb,
      ALTER COLUMN new_row TYPE jsonb USING new_row::jsonb`.execute(db);
}
