import pg from 'pg';
import { Kysely, PostgresDialect } from 'kysely';
import type { WardSchema } from './schema.js';
import type { WardDatabase } from './ward-database.js';

export interface PostgresOptions {
  url: string;
  maxConnections?: number;
}

const INT8_OID = 20;

/**
 * PostgreSQL for scale-out. BIGINT columns (sequence numbers) come back as JavaScript numbers:
 * they stay below 2^53 for any realistic log, and a per-pool type parser keeps the global
 * `pg.types` untouched.
 */
export function openPostgres(options: PostgresOptions): WardDatabase {
  const builtin = pg.types.getTypeParser.bind(pg.types) as (oid: number, format?: 'text' | 'binary') => unknown;
  const types = {
    getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
      oid === INT8_OID ? (v: string) => Number(v) : builtin(oid, format)) as typeof pg.types.getTypeParser,
  };
  const { connectionString, startupOptions } = withDurableCommits(options.url);
  const pool = new pg.Pool({ connectionString, options: startupOptions, max: options.maxConnections ?? 10, types });
  // An idle client's network error must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  const db = new Kysely<WardSchema>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    dialect: 'postgres',
    location: `postgres:${redactUrl(options.url)}`,
    connection: { kind: 'postgres', url: options.url },
    close: () => db.destroy(),
  };
}

/**
 * Every connection commits with `synchronous_commit=on`: "an acknowledged audit entry is
 * durable" must not depend on a server, database or role default someone set to `off`
 * (which acknowledges commits before they reach disk). Set as a startup option, it outranks
 * those defaults. pg lets an `options` parameter in the URL replace the pool's, so the URL's
 * own startup options are moved out of it and ours appended after them (the last setting
 * wins, so the URL cannot turn durability off either).
 */
export const DURABLE_COMMIT_OPTION = '-c synchronous_commit=on';

function withDurableCommits(url: string): { connectionString: string; startupOptions: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { connectionString: url, startupOptions: DURABLE_COMMIT_OPTION };
  }
  const given = parsed.searchParams.get('options');
  if (given === null) return { connectionString: url, startupOptions: DURABLE_COMMIT_OPTION };
  parsed.searchParams.delete('options');
  return { connectionString: parsed.toString(), startupOptions: `${given} ${DURABLE_COMMIT_OPTION}` };
}

/** Strip credentials from a connection URL before it reaches a log line. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return `${u.host}${u.pathname}`;
  } catch {
    return '(unparsable url)';
  }
}
