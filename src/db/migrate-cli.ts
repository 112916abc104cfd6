import { ConfigError, loadDotEnv, readConfig, redact } from '../config.ts';
import { createDb, createPool } from './connect.ts';
import { migrateToLatest } from './migrate.ts';

loadDotEnv();
try {
  const { databaseUrl } = readConfig();
  if (!databaseUrl)
    throw new ConfigError('DATABASE_URL is not set (npm start migrates the embedded database itself)');
  const db = createDb(createPool(databaseUrl, 1));
  try {
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
