/**
 * A direct, read-only look into the database a `ward` child process wrote, for CLI suites
 * that check what is (and is not) at rest: SQLite opened read-only (so the look itself does
 * not checkpoint or change the files), or PostgreSQL through its URL. Statements use `$1`,
 * `$2`... placeholders on both.
 */
import Database from 'better-sqlite3';
import pg from 'pg';

export type WardDbTarget = { dialect: 'sqlite'; file: string } | { dialect: 'postgres'; url: string };

export async function queryWardDb<T extends object>(target: WardDbTarget, text: string, params: ReadonlyArray<string | number> = []): Promise<T[]> {
  if (target.dialect === 'sqlite') {
    const db = new Database(target.file, { readonly: true, fileMustExist: true });
    try {
      return db.prepare<unknown[], T>(text.replace(/\$\d+/g, '?')).all(...params);
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: target.url });
  await client.connect();
  try {
    return (await client.query<T>(text, [...params])).rows;
  } finally {
    await client.end();
  }
}

/** `select count(*) as n ...` as a number on both databases. */
export async function countWardDb(target: WardDbTarget, text: string, params: ReadonlyArray<string | number> = []): Promise<number> {
  const rows = await queryWardDb<{ n: number | string }>(target, text, params);
  return Number(rows[0]?.n ?? Number.NaN);
}
