import { type Kysely, sql } from 'kysely';

// NOTIFY makes every committing transaction that sent one take a global lock on the notification
// queue, one after another: with a wake-up in every writing transaction, 8 writers lost half their
// throughput. So a writer sends the wake-up only while the ticker sleeps. While changes keep
// coming, the ticker polls at a short interval instead and marks itself awake here; when it has
// seen none for a while it marks itself asleep, then keeps polling until every transaction that
// could have read "awake" has ended, so no change waits for the slow safety-net poll (see
// src/changes/ticker.ts).
// A sequence is the flag because its value is not transactional: a writer reads the ticker's
// latest word, whatever its snapshot. Reading it costs a writer about as much as reading a row.
const CAPTURE: Record<string, { body: string; settings?: string }> = {
  insert: {
    body: `INSERT INTO order_changes (op, order_id, new_row)
        SELECT 'INSERT', n.id, to_jsonb(n) FROM new_rows n ORDER BY n.id;`,
  },
  update: {
    // Kept from 2026-11-27T00-00: a hash join at every statement size.
    settings: 'SET enable_nestloop = off SET enable_mergejoin = off',
    body: `INSERT INTO order_changes (op, order_id, old_row, new_row)
        SELECT 'UPDATE', n.id, to_jsonb(o), to_jsonb(n)
        FROM new_rows n JOIN old_rows o ON o.id = n.id ORDER BY n.id;`,
  },
  delete: {
    body: `INSERT INTO order_changes (op, order_id, old_row)
        SELECT 'DELETE', o.id, to_jsonb(o) FROM old_rows o ORDER BY o.id;`,
  },
  truncate: {
    body: `INSERT INTO order_changes (op, order_id, old_row)
        SELECT 'DELETE', o.id, to_jsonb(o) FROM orders o ORDER BY o.id;`,
  },
};

function capture(op: string, wakeUp: string) {
  const { body, settings = '' } = CAPTURE[op] as { body: string; settings?: string };
  return sql.raw(`
    CREATE OR REPLACE FUNCTION orders_capture_${op}() RETURNS trigger LANGUAGE plpgsql ${settings}
    AS $$
    BEGIN
      ${body}
      IF FOUND${wakeUp} THEN PERFORM pg_notify('order_changes', ''); END IF;
      RETURN NULL;
    END $$`);
}

export async function up(db: Kysely<any>): Promise<void> {
  // 0: asleep, writers wake it; 1: awake, polling.
  await sql`CREATE SEQUENCE change_ticker_awake MINVALUE 0 MAXVALUE 1 START 0`.execute(db);
  await sql`GRANT SELECT ON change_ticker_awake TO PUBLIC`.execute(db);
  for (const op of Object.keys(CAPTURE)) {
    await capture(op, ' AND (SELECT last_value FROM change_ticker_awake) = 0').execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const op of Object.keys(CAPTURE)) await capture(op, '').execute(db);
  await sql`DROP SEQUENCE change_ticker_awake`.execute(db);
}
