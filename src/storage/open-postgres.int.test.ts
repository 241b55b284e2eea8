/**
 * Durability on PostgreSQL does not depend on server settings: every pooled connection commits
 * with `synchronous_commit=on` even when the database default (or the URL) says `off`, and the
 * URL's own startup options still apply.
 */
import { afterEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { sql } from 'kysely';
import { createTestPgDatabase, testDialects } from './testing/test-databases.js';
import { openPostgres } from './open-postgres.js';
import type { WardDatabase } from './ward-database.js';

const onPostgres = testDialects().some((d) => d.name === 'postgres');

async function setting(database: WardDatabase, name: 'synchronous_commit' | 'default_transaction_read_only'): Promise<string> {
  const r = await sql<Record<string, string>>`select current_setting(${name}) as value`.execute(database.db);
  return r.rows[0]?.value ?? '';
}

function withQuery(url: string, key: string, value: string): string {
  const u = new URL(url);
  u.searchParams.set(key, value);
  return u.toString();
}

describe.runIf(onPostgres)('openPostgres', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('commits with synchronous_commit=on even when the database default is off', async () => {
    const { url, drop } = await createTestPgDatabase();
    cleanup.push(drop);
    const name = new URL(url).pathname.slice(1);
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query(`alter database ${name} set synchronous_commit = off`);
    } finally {
      await admin.end();
    }
    // Control: a plain connection really gets the unsafe default.
    const plain = new pg.Client({ connectionString: url });
    await plain.connect();
    try {
      expect((await plain.query<{ synchronous_commit: string }>('show synchronous_commit')).rows[0]?.synchronous_commit).toBe('off');
    } finally {
      await plain.end();
    }

    const opened = openPostgres({ url, maxConnections: 3 });
    cleanup.push(() => opened.close());
    // Several at once, so more than one pooled connection is checked.
    expect(await Promise.all([1, 2, 3].map(() => setting(opened, 'synchronous_commit')))).toEqual(['on', 'on', 'on']);
    const shown = await sql<{ synchronous_commit: string }>`show synchronous_commit`.execute(opened.db);
    expect(shown.rows[0]?.synchronous_commit).toBe('on');
  });

  it('keeps the URL\'s startup options but not one that turns durability off', async () => {
    const { url, drop } = await createTestPgDatabase();
    cleanup.push(drop);
    const readOnly = openPostgres({ url: withQuery(url, 'options', '-c default_transaction_read_only=on') });
    cleanup.push(() => readOnly.close());
    expect(await setting(readOnly, 'default_transaction_read_only')).toBe('on');
    expect(await setting(readOnly, 'synchronous_commit')).toBe('on');
    const unsafe = openPostgres({ url: withQuery(url, 'options', '-c synchronous_commit=off') });
    cleanup.push(() => unsafe.close());
    expect(await setting(unsafe, 'synchronous_commit')).toBe('on');
  });
});
