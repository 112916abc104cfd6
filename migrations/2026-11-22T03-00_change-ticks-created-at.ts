import { type Kysely, sql } from 'kysely';

// Expiry is decided by tick age: the newest tick older than the retention is the oldest position
// still resumable, found through this index whether or not pruning has run yet.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE INDEX change_ticks_created_at ON change_ticks (created_at)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX change_ticks_created_at`.execute(db);
}
