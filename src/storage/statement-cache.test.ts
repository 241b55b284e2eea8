import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { withStatementCache } from './statement-cache.js';

function database(): Database.Database {
  const raw = new Database(':memory:');
  raw.exec('CREATE TABLE t (n INTEGER)');
  raw.exec('INSERT INTO t VALUES (1), (2), (3)');
  return raw;
}

describe('withStatementCache', () => {
  it('hands out the same prepared statement for the same SQL, and results stay right', () => {
    const db = withStatementCache(database());
    const a = db.prepare('SELECT n FROM t WHERE n > ?');
    const b = db.prepare('SELECT n FROM t WHERE n > ?');
    expect(a).toBe(b);
    expect(a.all([1])).toEqual([{ n: 2 }, { n: 3 }]);
    expect(b.all([2])).toEqual([{ n: 3 }]);
    db.close();
  });

  it('prepares a fresh statement while the cached one is busy iterating', () => {
    const db = withStatementCache(database());
    const sql = 'SELECT n FROM t ORDER BY n';
    const outer = db.prepare(sql).iterate([]);
    const first = outer.next();
    const inner = db.prepare(sql);
    expect(inner.all([])).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(first.value).toEqual({ n: 1 });
    expect([...outer]).toEqual([{ n: 2 }, { n: 3 }]);
    db.close();
  });

  it('keeps at most the configured number of statements, dropping the least recently used', () => {
    const db = withStatementCache(database(), 2);
    const one = db.prepare('SELECT 1');
    db.prepare('SELECT 2');
    expect(db.prepare('SELECT 1')).toBe(one); // touched: now most recent
    db.prepare('SELECT 3'); // evicts SELECT 2
    expect(db.prepare('SELECT 1')).toBe(one);
    const two = db.prepare('SELECT 2');
    expect(db.prepare('SELECT 2')).toBe(two);
    db.close();
  });
});
