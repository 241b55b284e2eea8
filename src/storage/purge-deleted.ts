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

export async function purgeDeleted(database: WardDatabase): Promise<void> {
  if (database.dialect === 'sqlite') {
    await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(database.db);
    return;
  }
  await sql`VACUUM FULL data_key`.execute(database.db);
  await sql`VACUUM fhir_resource, patient_index`.execute(database.db);
}
