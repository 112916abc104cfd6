import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely';
import { isMysqlDb } from './dialect.ts';

export const migrationFolder = fileURLToPath(new URL('../../migrations', import.meta.url));
/** MySQL and MariaDB have migrations of their own: the SQL differs throughout. */
export const mysqlMigrationFolder = path.join(migrationFolder, 'mysql');

/**
 * Kysely's FileMigrationProvider imports from inside node_modules, where TypeScript files cannot be
 * loaded under a test runner's transform; importing from here works under tsx and vitest alike.
 */
class FolderMigrationProvider implements MigrationProvider {
  constructor(private readonly folder: string) {}

  async getMigrations(): Promise<Record<string, Migration>> {
    const files = (await fs.readdir(this.folder)).filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith('.d.ts'));
    const entries = await Promise.all(
      files.map(async (file) => {
        const module = (await import(pathToFileURL(path.join(this.folder, file)).href)) as Migration;
        return [file.replace(/\.(ts|js)$/, ''), module] as const;
      }),
    );
    return Object.fromEntries(entries);
  }
}

export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: new FolderMigrationProvider(isMysqlDb(db) ? mysqlMigrationFolder : migrationFolder),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`migration ${failed ?? ''} failed: ${reason}`, { cause: error });
  }
  return (results ?? []).map((r) => r.migrationName);
}
