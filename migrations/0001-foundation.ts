/**
 * Foundation schema: the audit log (entries, head, checkpoints), accounts and sessions.
 * Dialect-neutral: text timestamps, integer booleans, text JSON. The audit table refuses
 * UPDATE and DELETE through triggers on both databases; that stops mistakes and casual
 * tampering, while `ward audit verify` (hash chain, Merkle tree, signed checkpoints kept
 * outside the database) catches anyone who drops the triggers first.
 */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { isPostgres } from './dialect-of.js';

// Migrations see the database as it was at the time they were written, hence `unknown` schema.
export async function up(db: Kysely<unknown>): Promise<void> {
  // The searchable columns are generated from the entry itself, so they can never disagree
  // with what was hashed: verify checks the body, and search can trust the columns.
  const pg = isPostgres(db);
  const field = (path: string): ReturnType<typeof sql> =>
    pg ? sql.raw(`(body::jsonb #>> '{${path.split('.').join(',')}}')`) : sql.raw(`json_extract(body, '$.${path}')`);
  let table = db.schema
    .createTable('audit_entry')
    // Sequence numbers start at 1; SQLite would otherwise accept text or a 0 that verify never scans.
    .addColumn('seq', 'bigint', (c) => c.primaryKey().check(pg ? sql`seq > 0` : sql`typeof(seq) = 'integer' and seq > 0`))
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('leaf_hash', 'text', (c) => c.notNull())
    .addColumn('chain_hash', 'text', (c) => c.notNull());
  for (const [column, path] of [
    ['ts', 'time'], ['principal_id', 'who.id'], ['principal_kind', 'who.kind'], ['action', 'action'],
    ['resource_type', 'resource.type'], ['resource_id', 'resource.id'], ['patient_id', 'patient'],
    ['purpose', 'purpose'], ['outcome', 'outcome'], ['request_id', 'requestId'],
  ] as const) {
    table = table.addColumn(column, 'text', (c) => {
      const g = c.generatedAlwaysAs(field(path));
      return pg ? g.stored() : g;
    });
  }
  await table.execute();
  await db.schema.createIndex('audit_entry_patient').on('audit_entry').columns(['patient_id', 'seq']).execute();
  await db.schema.createIndex('audit_entry_principal').on('audit_entry').columns(['principal_id', 'seq']).execute();
  await db.schema.createIndex('audit_entry_action').on('audit_entry').columns(['action', 'seq']).execute();
  await db.schema.createIndex('audit_entry_ts').on('audit_entry').columns(['ts']).execute();

  await db.schema
    .createTable('audit_head')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('chain_hash', 'text', (c) => c.notNull())
    .addColumn('frontier', 'text', (c) => c.notNull())
    .execute();
  await sql`insert into audit_head (id, seq, chain_hash, frontier) values (1, 0, ${'0'.repeat(64)}, '[]')`.execute(db);

  await db.schema
    .createTable('audit_checkpoint')
    .addColumn('tree_size', 'bigint', (c) => c.primaryKey())
    .addColumn('ts', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('account')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('username', 'text', (c) => c.notNull().unique())
    .addColumn('roles', 'text', (c) => c.notNull())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('must_change_password', 'integer', (c) => c.notNull())
    .addColumn('disabled', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('session')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('account.id'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_seen_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('revoked', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('session_account').on('session').column('account_id').execute();

  await db.schema
    .createTable('ward_meta')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();

  await createAppendOnlyGuards(db);
}

async function createAppendOnlyGuards(db: Kysely<unknown>): Promise<void> {
  if (isPostgres(db)) {
    await sql`create or replace function ward_audit_append_only() returns trigger language plpgsql as $$
      begin raise exception 'audit.append_only: audit entries cannot be changed or deleted'; end $$`.execute(db);
    await sql`create trigger audit_entry_no_update before update or delete on audit_entry
      for each row execute function ward_audit_append_only()`.execute(db);
    await sql`create trigger audit_entry_no_truncate before truncate on audit_entry
      for each statement execute function ward_audit_append_only()`.execute(db);
  } else {
    await sql`create trigger audit_entry_no_update before update on audit_entry
      begin select raise(abort, 'audit.append_only: audit entries cannot be changed'); end`.execute(db);
    await sql`create trigger audit_entry_no_delete before delete on audit_entry
      begin select raise(abort, 'audit.append_only: audit entries cannot be deleted'); end`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['session', 'account', 'audit_checkpoint', 'audit_head', 'audit_entry', 'ward_meta']) {
    await db.schema.dropTable(t).ifExists().execute();
  }
  if (isPostgres(db)) await sql`drop function if exists ward_audit_append_only()`.execute(db);
}
