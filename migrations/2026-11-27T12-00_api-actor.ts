import { type Kysely, sql } from 'kysely';

// Writes made through the API name the token's subject (`api:alice`): the service sets
// `realtime_orders.actor` for the write's transaction only (SET LOCAL semantics, src/orders/scope.ts).
// Every other session, and the service's own writes with authentication off, keep the application
// name and user. Only the actor column's default function changes; the capture triggers do not.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE OR REPLACE FUNCTION order_change_actor() RETURNS text LANGUAGE sql STABLE AS $$
      SELECT coalesce(
        nullif(current_setting('realtime_orders.actor', true), ''),
        coalesce(nullif(current_setting('application_name', true), '') || ' as ', '') || session_user)
    $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE OR REPLACE FUNCTION order_change_actor() RETURNS text LANGUAGE sql STABLE AS $$
      SELECT coalesce(nullif(current_setting('application_name', true), '') || ' as ', '') || session_user
    $$`.execute(db);
}
