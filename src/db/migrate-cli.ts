import { ConfigError, loadDotEnv, readConfig, redact } from '../config.ts';
import { createDb, createPool } from './connect.ts';
import { migrateToLatest } from './migrate.ts';
import { createMysqlDb, isMysqlUrl } from './mysql.ts';
import { checkMysqlSettings } from './mysql-settings.ts';

loadDotEnv();
try {
  const { databaseUrl } = readConfig();
  if (!databaseUrl)
    throw new ConfigError('DATABASE_URL is not set (npm start migrates the embedded database itself)');
  const mysql = isMysqlUrl(databaseUrl);
  const db = mysql ? createMysqlDb(databaseUrl, 1) : createDb(createPool(databaseUrl, 1));
  try {
    if (mysql) await checkMysqlSettings(db);
    const applied = await migrateToLatest(db);
    console.log(
      applied.length ? `applied ${applied.join(', ')} to ${redact(databaseUrl)}` : 'already up to date',
    );
  } finally {
    await db.destroy();
  }
} catch (error) {
  console.error(`migrate: ${(error as Error).message}`);
  process.exit(1);
}
