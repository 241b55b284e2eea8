/**
 * Every database Ward supports, for conformance suites: each suite runs once per entry.
 * `WARD_TEST_DIALECTS=sqlite` (or `postgres`) narrows the list for a quick local run; in CI
 * both run, and an unreachable PostgreSQL fails the suite rather than skipping it.
 * PostgreSQL tests get a fresh database each, created from `WARD_TEST_PG_URL`
 * (default: the local trust-auth server on 127.0.0.1:5432).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openSqlite } from '../open-sqlite.js';
import type { SqliteOptions } from '../open-sqlite.js';
import { openPostgres } from '../open-postgres.js';
import { migrateToLatest } from '../migrate.js';
import type { Dialect, WardDatabase } from '../ward-database.js';

export interface TestDatabase extends WardDatabase {
  /** Re-open the same database (a new process would see this). */
  reopen(options?: Partial<SqliteOptions>): WardDatabase;
  /** Close and delete everything the test created. */
  dispose(): Promise<void>;
}

export interface TestDialect {
  name: Dialect;
  create(options?: { migrate?: boolean }): Promise<TestDatabase>;
}

export const testPgUrl = process.env.WARD_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const sqliteDialect: TestDialect = {
  name: 'sqlite',
  async create(options = {}) {
    const dir = mkdtempSync(join(tmpdir(), 'ward-test-'));
    const file = join(dir, 'ward.db');
    const opened = openSqlite({ file });
    if (options.migrate ?? true) await migrateToLatest(opened.db);
    return {
      ...opened,
      reopen: (o = {}) => openSqlite({ file, ...o }),
      async dispose() {
        await opened.close().catch(() => undefined);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

/** A fresh, empty PostgreSQL database on the test server, and a way to drop it. */
export async function createTestPgDatabase(prefix = 'ward_t'): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = async (statement: string): Promise<void> => {
    const c = new pg.Client({ connectionString: testPgUrl });
    await c.connect();
    try {
      await c.query(statement);
    } finally {
      await c.end();
    }
  };
  await admin(`create database ${name}`);
  const url = new URL(testPgUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`drop database if exists ${name} with (force)`) };
}

const postgresDialect: TestDialect = {
  name: 'postgres',
  async create(options = {}) {
    const { url, drop } = await createTestPgDatabase();
    const opened = openPostgres({ url });
    if (options.migrate ?? true) await migrateToLatest(opened.db);
    return {
      ...opened,
      reopen: () => openPostgres({ url }),
      async dispose() {
        await opened.close().catch(() => undefined);
        await drop();
      },
    };
  },
};

export function testDialects(): TestDialect[] {
  const wanted = (process.env.WARD_TEST_DIALECTS ?? 'sqlite,postgres').split(',').map((s) => s.trim());
  return [sqliteDialect, postgresDialect].filter((d) => wanted.includes(d.name));
}
