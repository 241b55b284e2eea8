import Database from 'better-sqlite3';
import { existsSync, writeFileSync } from 'node:fs';
import { Kysely, SqliteDialect } from 'kysely';
import type { WardSchema } from './schema.js';
import type { WardDatabase } from './ward-database.js';
import { WardError } from '../shared/ward-error.js';
import { withStatementCache } from './statement-cache.js';

export interface SqliteOptions {
  file: string;
  readonly?: boolean;
  /** Refuse to create the file: only `ward init` creates a database. */
  mustExist?: boolean;
  /**
   * Upper bound on the database size in pages (PRAGMA max_page_count). Operators use it as a
   * disk quota; tests use it to stand in for a full disk.
   */
  maxPageCount?: number;
}

/**
 * The embedded default. WAL lets readers run beside the single writer; `synchronous=FULL`
 * makes every commit durable (fsync of the WAL) before it returns, which is what the audit
 * log's acknowledgement promises (45 CFR 164.312(b) audit controls must not lose records).
 */
export function openSqlite(options: SqliteOptions): WardDatabase {
  const missing = options.file !== ':memory:' && !existsSync(options.file);
  if (missing && (options.mustExist || options.readonly)) {
    throw new WardError('storage.database_missing', `the database file ${options.file} does not exist (run \`ward init\`, or restore it from backup)`, { status: 503 });
  }
  let raw: Database.Database;
  try {
    // Create the file ourselves so it is private from the first byte (0600); SQLite gives its
    // -wal and -shm files the database file's permissions.
    if (missing && !options.readonly) writeFileSync(options.file, '', { mode: 0o600, flag: 'wx' });
    raw = new Database(options.file, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
  } catch (cause) {
    throw new WardError('storage.open_failed', 'cannot open the SQLite database', { cause, status: 503 });
  }
  if (!options.readonly) raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = FULL');
  raw.pragma('foreign_keys = ON');
  // Deleted content is overwritten with zeros, so an erased patient's wrapped data key does
  // not linger in free pages of the file (crypto-shredding must leave no copy behind).
  raw.pragma('secure_delete = ON');
  raw.pragma('busy_timeout = 5000');
  if (options.maxPageCount !== undefined) {
    if (!Number.isSafeInteger(options.maxPageCount) || options.maxPageCount < 1) {
      raw.close();
      throw new WardError('storage.invalid_option', 'maxPageCount must be a positive integer');
    }
    raw.pragma(`max_page_count = ${options.maxPageCount}`);
  }
  const db = new Kysely<WardSchema>({ dialect: new SqliteDialect({ database: withStatementCache(raw) }) });
  return {
    db,
    dialect: 'sqlite',
    location: `sqlite:${options.file}`,
    connection: { kind: 'sqlite', file: options.file },
    close: () => db.destroy(),
  };
}
