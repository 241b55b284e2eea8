/**
 * After an erasure: make the database let go of deleted bytes now rather than eventually.
 * SQLite (with `secure_delete` on, see open-sqlite.ts) zeroes freed pages; a TRUNCATE
 * checkpoint then copies the WAL into the file and cuts the WAL to zero bytes, so older page
 * images holding the erased rows are gone from it. PostgreSQL keeps dead tuples until vacuum:
 * `VACUUM FULL` rewrites the (small) data-key table into new files, and a plain VACUUM
 * reclaims the record rows. PostgreSQL's own WAL and any backups still hold old wrapped keys
 * until they age out; they are wrapped under the KEK, which `ward keys rotate` replaces.
 */
import { sql } from 'kysely';
import type { WardDatabase } from './ward-database.js';
import { WardError } from '../shared/ward-error.js';

export async function purgeDeleted(database: WardDatabase, options: { attempts?: number; delayMs?: number } = {}): Promise<void> {
  if (database.dialect === 'sqlite') {
    // A reader in another process (the server) can keep the checkpoint from finishing: retry,
    // and say so if it never does, rather than report a purge that did not happen.
    // Each attempt already waits up to the busy timeout (5 s) inside SQLite.
    const attempts = options.attempts ?? 3;
    for (let i = 0; i < attempts; i++) {
      const { rows } = await sql<{ busy: number; log: number; checkpointed: number }>`PRAGMA wal_checkpoint(TRUNCATE)`.execute(database.db);
      if (rows[0]?.busy === 0) return;
      await new Promise((r) => setTimeout(r, options.delayMs ?? 500));
    }
    throw new WardError('storage.purge_incomplete', 'the erasure is committed, but another process keeps the database from dropping the old page images now; the database drops them at its next checkpoint (the data key is already gone)', { status: 503 });
  }
  await sql`VACUUM FULL data_key`.execute(database.db);
  // The blind-index digests would still let a known name + birth date be tested: rewrite that
  // table too. The record rows are ciphertext under the destroyed key; a plain VACUUM will do.
  await sql`VACUUM FULL patient_index`.execute(database.db);
  await sql`VACUUM fhir_resource`.execute(database.db);
}
