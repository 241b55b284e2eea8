import type { PhiType } from '../phi-type.js';

/**
 * The re-identification vault port: pseudonym -> original, stored encrypted. Re-identification is
 * a disclosure of PHI, so a lookup needs a permission decision (role x purpose of use, from the
 * policy layer once identity and access land) and is audited before the original is returned
 * (fail closed: no audit entry, no original). This file is the contract; the in-memory adapter is
 * in-memory-reidentification-vault.ts, a storage-backed one belongs to the storage layer.
 */
export interface ReidentificationRequest {
  /** Who asks: a principal id (person or service), never a name. */
  readonly principalId: string;
  /** HL7 v3 PurposeOfUse code (TREAT, HOPERAT, ...). */
  readonly purposeOfUse: string;
  readonly reason?: string;
}

export type PermissionCheck = (request: ReidentificationRequest, entry: { readonly type: PhiType }) => boolean | Promise<boolean>;

/** What the audit callback receives: ids and codes only, never the original value. */
export interface ReidentificationAuditEvent {
  readonly action: 'deid.reidentify';
  readonly pseudonym: string;
  readonly principalId: string;
  readonly purposeOfUse: string;
  readonly outcome: 'permitted' | 'denied' | 'not_found';
}

export type ReidentificationAudit = (event: ReidentificationAuditEvent) => void | Promise<void>;

export type ReidentificationResult =
  | { readonly outcome: 'permitted'; readonly type: PhiType; readonly original: string }
  | { readonly outcome: 'denied' }
  | { readonly outcome: 'not_found' };

export interface ReidentificationVault {
  store(pseudonym: string, type: PhiType, original: string): Promise<void>;
  reidentify(pseudonym: string, request: ReidentificationRequest): Promise<ReidentificationResult>;
}
