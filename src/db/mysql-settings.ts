import { type Kysely, sql } from 'kysely';
import { ConfigError } from '../config.ts';
import type { Database } from './database.ts';

/**
 * The change feed on MySQL/MariaDB reads the binary log (README, "MySQL and MariaDB"): it needs
 * it on, in ROW format with whole row images. Checked before anything else, so that a server
 * without them fails the start with one line naming the setting, not a feed that misses changes.
 */
export async function checkMysqlSettings(db: Kysely<Database>): Promise<void> {
  const { rows } = await sql<{ Variable_name: string; Value: string }>`
    SHOW GLOBAL VARIABLES WHERE Variable_name IN
      ('log_bin', 'binlog_format', 'binlog_row_image', 'log_bin_trust_function_creators')`.execute(db);
  const value = (name: string) => rows.find((r) => r.Variable_name === name)?.Value?.toUpperCase();
  const required: [string, string, string][] = [
    ['log_bin', 'ON', 'the change feed reads the binary log: start the server with log_bin'],
    ['binlog_format', 'ROW', 'set binlog_format=ROW'],
    ['binlog_row_image', 'FULL', 'set binlog_row_image=FULL'],
  ];
  for (const [name, wanted, hint] of required) {
    if (value(name) !== wanted)
      throw new ConfigError(`MySQL setting ${name} is ${value(name) ?? 'unset'}, must be ${wanted}: ${hint}`);
  }
  // Creating triggers with binary logging on needs SUPER, or this; only asked while they are due.
  const { rows: pending } = await sql<{ n: number }>`
    SELECT count(*) AS n FROM information_schema.TRIGGERS
    WHERE TRIGGER_SCHEMA = DATABASE() AND TRIGGER_NAME = 'orders_stamp_update'`.execute(db);
  if (Number(pending[0]?.n ?? 0) === 0 && value('log_bin_trust_function_creators') !== 'ON') {
    const { rows: grants } = await sql<Record<string, string>>`SHOW GRANTS`.execute(db);
    const superUser = grants.some((g) =>
      /GRANT (ALL PRIVILEGES ON \*\.\*|.*\bSUPER\b.* ON \*\.\*)/.test(Object.values(g)[0] ?? ''),
    );
    if (!superUser)
      throw new ConfigError(
        'MySQL setting log_bin_trust_function_creators is OFF, must be ON: the migrations create triggers while binary logging is on',
      );
  }
}
