import { PostgresAdapter } from 'kysely';
import type { Kysely } from 'kysely';

/** Migrations are dialect-neutral except where a database feature (triggers) differs. */
export function isPostgres(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}
