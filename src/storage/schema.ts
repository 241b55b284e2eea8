/**
 * The database schema as Kysely sees it. Column types are chosen to behave identically on
 * SQLite and PostgreSQL: timestamps are ISO-8601 UTC text (they sort correctly as text),
 * booleans are 0/1 integers, JSON is text, hashes are lowercase hex.
 */
import type { Generated, GeneratedAlways } from 'kysely';

export interface AuditEntryTable {
  seq: number;
  // Generated from `body` by the database (never written directly), for search.
  ts: GeneratedAlways<string>;
  principal_id: GeneratedAlways<string | null>;
  principal_kind: GeneratedAlways<string | null>;
  action: GeneratedAlways<string>;
  resource_type: GeneratedAlways<string | null>;
  resource_id: GeneratedAlways<string | null>;
  patient_id: GeneratedAlways<string | null>;
  purpose: GeneratedAlways<string | null>;
  outcome: GeneratedAlways<string>;
  request_id: GeneratedAlways<string | null>;
  /** Canonical JSON of the whole entry: the bytes that are hashed. */
  body: string;
  /** RFC 9162 leaf hash: SHA-256(0x00 || body). */
  leaf_hash: string;
  /** SHA-256(previous chain_hash || leaf_hash); the first entry chains from 32 zero bytes. */
  chain_hash: string;
}

export interface AuditHeadTable {
  id: number;
  seq: number;
  chain_hash: string;
  /** JSON array of hex subtree roots: the Merkle frontier (compact range) at `seq`. */
  frontier: string;
}

export interface AuditCheckpointTable {
  tree_size: number;
  ts: string;
  /** Canonical JSON of the signed checkpoint (includes root, chain head, key id, signature). */
  body: string;
}

export interface AccountTable {
  id: string;
  username: string;
  /** JSON array of role codes. */
  roles: string;
  password_hash: string;
  must_change_password: number;
  disabled: number;
  created_at: string;
}

export interface SessionTable {
  /** SHA-256 of the bearer token: the token itself is never stored. */
  token_hash: string;
  account_id: string;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  revoked: number;
}

export interface KvTable {
  key: string;
  value: string;
}

export interface WardSchema {
  audit_entry: AuditEntryTable;
  audit_head: AuditHeadTable;
  audit_checkpoint: AuditCheckpointTable;
  account: AccountTable;
  session: SessionTable;
  ward_meta: KvTable;
}

/** Marker used by Kysely for generated columns; kept for later tables. */
export type { Generated };

/** The columns the audit writer stores and the verifier reads: the hashed body and its hashes. */
export interface StoredAuditRow {
  seq: number;
  body: string;
  leaf_hash: string;
  chain_hash: string;
}
