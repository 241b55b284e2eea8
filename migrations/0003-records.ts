/**
 * Protected records (45 CFR 164.312(a)(2)(iv) encryption at rest, 164.514(d) minimum necessary,
 * 164.528 accounting of disclosures, GDPR Art. 17 erasure):
 * - `data_key`: per-patient (and shared) AES-256 data keys, stored only wrapped by a
 *   key-encryption key from the key provider; destroying a patient's row crypto-shreds them.
 * - `kek_version`: which KEK version wraps new data keys (rotation adds one, rewraps, retires).
 * - `fhir_resource`: one row per FHIR resource; the resource JSON is an AES-256-GCM ciphertext
 *   under its patient's data key, bound to table, row and field. In clear only what is not
 *   PHI: Ward's ids, the resource type and the year of clinical activity (Safe Harbor keeps
 *   years, 164.514(b)(2)(i)(C)), so views can narrow by type and window before decrypting.
 * - `patient_index`: keyed blind indexes (HMAC) for exact-match search; no value in clear.
 * - `patient_state`: erased patients stay erased (tombstone: ids and dates only).
 * - `legal_hold`: holds that stop erasure until released.
 * - `api_key.certificate_sha256`: an API key bound to a client certificate (RFC 8705 style)
 *   is accepted only over mutual TLS with that certificate.
 */
import type { Kysely } from 'kysely';
import { isPostgres } from './dialect-of.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  const bytes = isPostgres(db) ? 'bytea' : 'blob';

  await db.schema
    .createTable('kek_version')
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    // 'active' (wraps new data keys; exactly one), 'retiring' (still wraps some), 'retired'.
    .addColumn('state', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('kek_version_pk', ['provider', 'version'])
    .execute();

  await db.schema
    .createTable('data_key')
    // `patient:<id>`, `directory` (practitioners, organizations...), `blind-index`.
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('kek_provider', 'text', (c) => c.notNull())
    .addColumn('kek_version', 'integer', (c) => c.notNull())
    .addColumn('wrapped', bytes as 'blob', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('rewrapped_at', 'text')
    .addPrimaryKeyConstraint('data_key_pk', ['subject', 'version'])
    .execute();
  await db.schema.createIndex('data_key_kek').on('data_key').columns(['kek_provider', 'kek_version']).execute();

  await db.schema
    .createTable('fhir_resource')
    .addColumn('resource_type', 'text', (c) => c.notNull())
    .addColumn('resource_id', 'text', (c) => c.notNull())
    // The patient whose compartment holds the resource; null for shared resources.
    .addColumn('patient_id', 'text')
    .addColumn('key_subject', 'text', (c) => c.notNull())
    .addColumn('key_version', 'integer', (c) => c.notNull())
    .addColumn('activity_year', 'integer')
    .addColumn('body', bytes as 'blob', (c) => c.notNull())
    .addColumn('imported_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('fhir_resource_pk', ['resource_type', 'resource_id'])
    .execute();
  await db.schema.createIndex('fhir_resource_patient').on('fhir_resource').columns(['patient_id', 'resource_type', 'activity_year']).execute();

  await db.schema
    .createTable('patient_index')
    // 'identifier' or 'name-birthdate'
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('digest', 'text', (c) => c.notNull())
    .addColumn('patient_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('patient_index_pk', ['kind', 'digest', 'patient_id'])
    .execute();
  await db.schema.createIndex('patient_index_patient').on('patient_index').column('patient_id').execute();

  await db.schema
    .createTable('patient_state')
    .addColumn('patient_id', 'text', (c) => c.primaryKey())
    .addColumn('erased_at', 'text', (c) => c.notNull())
    .addColumn('erased_by', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('legal_hold')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('patient_id', 'text', (c) => c.notNull())
    // A code (e.g. `litigation`, `investigation`, `regulator-request`), never free text.
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('placed_at', 'text', (c) => c.notNull())
    .addColumn('placed_by', 'text', (c) => c.notNull())
    .addColumn('released_at', 'text')
    .addColumn('released_by', 'text')
    .execute();
  await db.schema.createIndex('legal_hold_patient').on('legal_hold').column('patient_id').execute();

  await db.schema.alterTable('api_key').addColumn('certificate_sha256', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('api_key').dropColumn('certificate_sha256').execute();
  for (const t of ['legal_hold', 'patient_state', 'patient_index', 'fhir_resource', 'data_key', 'kek_version']) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
