import { CompiledQuery, type DatabaseConnection } from 'kysely';

/**
 * Session settings the service sets for itself, so that what a DBA sets on the database or role
 * (`ALTER DATABASE … SET statement_timeout = '50ms'`, say) cannot break it, and what it relies on
 * is written down here rather than inherited.
 *
 * Pooled sessions (requests, and the feed's reads of the log):
 * - statement_timeout 30 s: no request's statement legitimately runs longer (the feed reads
 *   pages of at most a few thousand rows), and one that does must not hold a connection forever;
 *   a DBA's 50 ms would fail the reads of a 20,000-row batch.
 * - lock_timeout off: a writer waits for a lock as any SQL client does (a `LOCK TABLE` held by
 *   someone else), bounded by statement_timeout; a short DBA lock_timeout would fail writes.
 * - idle_in_transaction_session_timeout 60 s: the service never idles inside a transaction, but
 *   a DBA's short value would end sessions between the statements of one transaction.
 * - idle_session_timeout off (PostgreSQL 14+), transaction_timeout off (17+): the pool retires idle
 *   sessions itself; a server that ends them races with checkouts.
 *
 * The feed's own connection (LISTEN, ticks): statements and lock waits shorter than one health
 * check, so that a tick that waits for a lock (`LOCK TABLE order_changes`) gives up and is
 * retried instead of holding up the check behind it and making the connection look dead.
 */
export function sessionOptions(kind: 'pool' | { feedCheckTimeoutMs: number }): string {
  const settings =
    kind === 'pool'
      ? { statement_timeout: 30_000, lock_timeout: 0, idle_in_transaction_session_timeout: 60_000 }
      : {
          statement_timeout: Math.max(500, Math.floor(kind.feedCheckTimeoutMs * 0.8)),
          lock_timeout: Math.max(250, Math.floor(kind.feedCheckTimeoutMs * 0.4)),
          idle_in_transaction_session_timeout: 60_000,
        };
  return Object.entries(settings)
    .map(([name, value]) => `-c ${name}=${value}`)
    .join(' ');
}

/** The settings that older servers do not know, so they cannot go in the startup packet. */
export const VERSIONED_SETTINGS_SQL = `
  SELECT set_config('idle_session_timeout', '0', false) FROM pg_settings WHERE name = 'idle_session_timeout'
  UNION ALL
  SELECT set_config('transaction_timeout', '0', false) FROM pg_settings WHERE name = 'transaction_timeout'`;

export async function setVersionedSettings(connection: DatabaseConnection): Promise<void> {
  await connection.executeQuery(CompiledQuery.raw(VERSIONED_SETTINGS_SQL));
}
