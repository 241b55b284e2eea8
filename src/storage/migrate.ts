import { Migrator } from 'kysely';
import type { Kysely, MigrationResultSet } from 'kysely';
import { migrations } from '../../migrations/index.js';
import { WardError } from '../shared/ward-error.js';

export interface MigrationReport {
  applied: string[];
}

/** Apply every pending migration, in order, each in its own transaction. */
export async function migrateToLatest<DB>(db: Kysely<DB>): Promise<MigrationReport> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(migrations) },
    migrationTableName: 'ward_migration',
    migrationLockTableName: 'ward_migration_lock',
  });
  const result: MigrationResultSet = await migrator.migrateToLatest();
  if (result.error !== undefined) {
    if ((result.results ?? []).length === 0) {
      // No migration even started: the database itself is unreachable or refused the lock table.
      throw new WardError('storage.unavailable', 'cannot reach the database to migrate it', { cause: result.error, status: 503 });
    }
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new WardError('storage.migration_failed', `migration ${failed} failed`, { cause: result.error, status: 503 });
  }
  return { applied: (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
}
