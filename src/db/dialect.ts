import { MysqlAdapter } from 'kysely';

// Apart from mysql.ts so that deciding which database is in use does not load mysql2: a service
// on PostgreSQL never imports it (about 5 MB of heap with the binary-log reader).

/** `mysql://` and `mariadb://` URLs select MySQL/MariaDB; anything else is PostgreSQL. */
export function isMysqlUrl(url: string): boolean {
  return /^(mysql|mariadb):\/\//i.test(url);
}

/** Whether `db` talks to MySQL/MariaDB (made by createMysqlDb, or a transaction or connection of one). */
export function isMysqlDb(db: { getExecutor(): { adapter: unknown } }): boolean {
  return db.getExecutor().adapter instanceof MysqlAdapter;
}
