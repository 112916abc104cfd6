import { type Kysely, sql } from 'kysely';

// Who made each change: the writing session's application_name (psql, realtime-orders, another
// service) and database user. A column default is evaluated in the writer's session, inside the
// capture trigger, so the triggers need no change.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE FUNCTION order_change_actor() RETURNS text LANGUAGE sql STABLE AS $$
      SELECT coalesce(nullif(current_setting('application_name', true), '') || ' as ', '') || session_user
    $$`.execute(db);
  await sql`ALTER TABLE order_changes ADD COLUMN actor text DEFAULT order_change_actor()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE order_changes DROP COLUMN actor`.execute(db);
  await sql`DROP FUNCTION order_change_actor`.execute(db);
}
