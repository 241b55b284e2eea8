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
  /** 1 when the session was opened with a second factor. */
  mfa: Generated<number>;
}

export interface TotpCredentialTable {
  account_id: string;
  /** The RFC 6238 shared secret, sealed by `SecretBox` (bound to this account). */
  secret_box: string;
  confirmed: number;
  created_at: string;
  confirmed_at: string | null;
  /** Time step of the last accepted code; only later steps are accepted (no replay). */
  last_step: Generated<number>;
}

export interface LoginThrottleTable {
  username: string;
  failures: number;
  last_failure_at: string;
  locked_until: string | null;
}

export interface ApiKeyTable {
  /** The visible key id (also the key's prefix): `wak_<id>_<secret>`. */
  id: string;
  /** SHA-256 of the secret part (at least 128 random bits, so a fast hash is enough). */
  secret_hash: string;
  /** The service identity the key belongs to (the principal id is `svc:<service>`). */
  service: string;
  /** JSON array of service role codes. */
  roles: string;
  /** JSON array of action scopes (patterns such as `model.*`). */
  scopes: string;
  created_at: string;
  created_by: string;
  expires_at: string;
  revoked_at: string | null;
  /** SHA-256 (hex) of the client certificate the key is bound to; null: not bound. */
  certificate_sha256: string | null;
  last_used_at: string | null;
  rotated_from: string | null;
}

export interface CareRelationshipTable {
  principal_id: string;
  patient_id: string;
  /** `care-team` or `assigned`. */
  kind: string;
  created_at: string;
  created_by: string;
  expires_at: string | null;
}

export interface BreakGlassTable {
  id: string;
  account_id: string;
  patient_id: string;
  purpose: string;
  /** The written reason, sealed: it is free text and may hold PHI, so it never enters the audit log. */
  reason_box: string;
  opened_at: string;
  expires_at: string;
  /** `pending` until a privacy officer closes it with a disposition, then `closed`. */
  review_status: string;
  reviewer_id: string | null;
  disposition: string | null;
  review_note_box: string | null;
  reviewed_at: string | null;
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
  totp_credential: TotpCredentialTable;
  login_throttle: LoginThrottleTable;
  api_key: ApiKeyTable;
  kek_version: KekVersionTable;
  data_key: DataKeyTable;
  fhir_resource: FhirResourceTable;
  patient_index: PatientIndexTable;
  patient_state: PatientStateTable;
  legal_hold: LegalHoldTable;
  care_relationship: CareRelationshipTable;
  break_glass: BreakGlassTable;
}


/** The columns the audit writer stores and the verifier reads: the hashed body and its hashes. */
export interface StoredAuditRow {
  seq: number;
  body: string;
  leaf_hash: string;
  chain_hash: string;
}

export interface KekVersionTable {
  provider: string;
  version: number;
  created_at: string;
  state: 'active' | 'retiring' | 'retired';
}

export interface DataKeyTable {
  subject: string;
  version: number;
  kek_provider: string;
  kek_version: number;
  wrapped: Buffer;
  created_at: string;
  rewrapped_at: string | null;
}

export interface FhirResourceTable {
  resource_type: string;
  resource_id: string;
  patient_id: string | null;
  key_subject: string;
  key_version: number;
  activity_year: number | null;
  body: Buffer;
  imported_at: string;
}

export interface PatientIndexTable {
  kind: string;
  digest: string;
  patient_id: string;
}

export interface PatientStateTable {
  patient_id: string;
  erased_at: string;
  erased_by: string;
}

export interface LegalHoldTable {
  id: string;
  patient_id: string;
  reason: string;
  placed_at: string;
  placed_by: string;
  released_at: string | null;
  released_by: string | null;
}
