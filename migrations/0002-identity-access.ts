/**
 * Identity and access: TOTP second factors, login throttling, API keys for service
 * identities, care relationships (the principal's relationship to a patient, an input to
 * every policy decision) and break-glass grants with their review queue.
 * Secrets that must be read back (TOTP seeds, break-glass reasons) are stored sealed
 * (`storage/secret-box.ts`); secrets that only need checking (API keys) are stored hashed.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // Whether the session was opened with a second factor (NIST SP 800-63B AAL2).
  await db.schema.alterTable('session').addColumn('mfa', 'integer', (c) => c.notNull().defaultTo(0)).execute();

  await db.schema
    .createTable('totp_credential')
    .addColumn('account_id', 'text', (c) => c.primaryKey().references('account.id'))
    .addColumn('secret_box', 'text', (c) => c.notNull())
    .addColumn('confirmed', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('confirmed_at', 'text')
    // The RFC 6238 time step of the last accepted code: a code is accepted once (no replay).
    .addColumn('last_step', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();

  // Keyed by the username as typed (lower-cased), so unknown usernames are throttled the same
  // way as real ones and the answer reveals nothing about which exist.
  await db.schema
    .createTable('login_throttle')
    .addColumn('username', 'text', (c) => c.primaryKey())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .addColumn('last_failure_at', 'text', (c) => c.notNull())
    .addColumn('locked_until', 'text')
    .execute();

  await db.schema
    .createTable('api_key')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    .addColumn('service', 'text', (c) => c.notNull())
    .addColumn('roles', 'text', (c) => c.notNull())
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('revoked_at', 'text')
    .addColumn('last_used_at', 'text')
    .addColumn('rotated_from', 'text')
    .execute();
  await db.schema.createIndex('api_key_service').on('api_key').column('service').execute();

  await db.schema
    .createTable('care_relationship')
    .addColumn('principal_id', 'text', (c) => c.notNull())
    .addColumn('patient_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text')
    .addPrimaryKeyConstraint('care_relationship_pk', ['principal_id', 'patient_id', 'kind'])
    .execute();

  await db.schema
    .createTable('break_glass')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('patient_id', 'text', (c) => c.notNull())
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('reason_box', 'text', (c) => c.notNull())
    .addColumn('opened_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('review_status', 'text', (c) => c.notNull())
    .addColumn('reviewer_id', 'text')
    .addColumn('disposition', 'text')
    .addColumn('review_note_box', 'text')
    .addColumn('reviewed_at', 'text')
    .execute();
  await db.schema.createIndex('break_glass_active').on('break_glass').columns(['account_id', 'patient_id', 'expires_at']).execute();
  await db.schema.createIndex('break_glass_queue').on('break_glass').columns(['review_status', 'opened_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['break_glass', 'care_relationship', 'api_key', 'login_throttle', 'totp_credential']) {
    await db.schema.dropTable(t).ifExists().execute();
  }
  await db.schema.alterTable('session').dropColumn('mfa').execute();
}
