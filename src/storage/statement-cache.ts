/**
 * Prepared statements kept for reuse on the SQLite connection. Kysely's SQLite driver prepares
 * every statement on every execution; on the model gateway's path (authentication, the access
 * decision, two audit transactions, an index look-up: about 15 statements a call) `prepare` was
 * 8.6% of the server's profile (`npm run bench:gateway` with `WARD_BENCH_PROFILE=1`), 0.7% with
 * this cache; the CPU per call moved by less than the machine's noise (1.79 vs 1.88 ms in one
 * same-conditions pair of runs), so treat it as a small saving, not a fix.
 *
 * A statement busy with an unfinished `iterate` (a streamed query) cannot run again until it
 * finishes, so a busy one is never handed out twice: a fresh statement is prepared instead.
 * SQLite re-prepares a cached statement by itself after a schema change (a migration).
 */
import type Database from 'better-sqlite3';
import type { SqliteDatabase } from 'kysely';
import { LruMap } from '../shared/lru-map.js';

export function withStatementCache(raw: Database.Database, maxStatements = 512): SqliteDatabase {
  const cache = new LruMap<string, Database.Statement>(maxStatements);
  return {
    close() {
      cache.clear();
      raw.close();
    },
    prepare(sql: string) {
      const cached = cache.get(sql);
      if (cached !== undefined) return cached.busy ? raw.prepare(sql) : cached;
      const statement = raw.prepare(sql);
      cache.set(sql, statement);
      return statement;
    },
  };
}
