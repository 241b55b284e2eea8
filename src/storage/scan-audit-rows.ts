/**
 * Fast sequential scans of the stored audit rows (sequence number, body, hashes) for
 * verification, opened from connection info so each verifier thread has its own connection.
 * SQLite uses better-sqlite3's raw row iterator (no per-row objects from Kysely, which is
 * most of the cost on a million rows); PostgreSQL pages by key.
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import type { StoredAuditRow } from './schema.js';
import type { ConnectionInfo } from './ward-database.js';

export interface AuditRowScanner {
  /** Rows with fromExclusive < seq <= toInclusive, in sequence order. */
  scan(fromExclusive: number, toInclusive: number): AsyncIterable<StoredAuditRow>;
  /** The stored chain hash of one entry, if it exists. */
  chainHashAt(seq: number): Promise<string | undefined>;
  close(): Promise<void>;
}

export function openAuditRowScanner(connection: ConnectionInfo): AuditRowScanner {
  return connection.kind === 'sqlite' ? sqliteScanner(connection.file) : postgresScanner(connection.url);
}

function sqliteScanner(file: string): AuditRowScanner {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  const range = db.prepare('select seq, body, leaf_hash, chain_hash from audit_entry where seq > ? and seq <= ? order by seq').raw(true);
  const one = db.prepare('select chain_hash from audit_entry where seq = ?').pluck();
  return {
    async *scan(from, to) {
      // One read transaction per scan: a consistent snapshot even while writers append.
      for (const r of range.iterate(from, to) as IterableIterator<[number, string, string, string]>) {
        yield { seq: r[0], body: r[1], leaf_hash: r[2], chain_hash: r[3] };
      }
    },
    chainHashAt: (seq) => Promise.resolve(one.get(seq) as string | undefined),
    close: () => {
      db.close();
      return Promise.resolve();
    },
  };
}

function postgresScanner(url: string): AuditRowScanner {
  const client = new pg.Client({ connectionString: url });
  // A network error on the connection (server restart, idle disconnect) is emitted as an
  // event; unheard, it would crash the process. The next query fails instead, and says so.
  client.on('error', () => undefined);
  const connected = client.connect();
  // The connection may fail before anyone awaits it (a worker waiting for its first task):
  // mark the rejection handled here; every `await connected` below still sees it.
  connected.catch(() => undefined);
  return {
    async *scan(from, to) {
      await connected;
      let after = from;
      for (;;) {
        const page = await client.query<[string, string, string, string]>({
          text: 'select seq, body, leaf_hash, chain_hash from audit_entry where seq > $1 and seq <= $2 order by seq limit 20000',
          values: [after, to],
          rowMode: 'array',
        });
        for (const r of page.rows) yield { seq: Number(r[0]), body: r[1], leaf_hash: r[2], chain_hash: r[3] };
        if (page.rows.length < 20000) return;
        after = Number((page.rows[page.rows.length - 1] as [string, string, string, string])[0]);
      }
    },
    async chainHashAt(seq) {
      await connected;
      const r = await client.query<{ chain_hash: string }>('select chain_hash from audit_entry where seq = $1', [seq]);
      return r.rows[0]?.chain_hash;
    },
    async close() {
      await connected.catch(() => undefined);
      await client.end();
    },
  };
}
