/**
 * What one audit entry records: who, what, when, why, outcome (45 CFR 164.312(b) audit
 * controls; 164.528 accounting of disclosures reads from it). Entries hold ids and codes only,
 * never PHI values: every string field is constrained to an identifier or code shape (no
 * spaces, bounded length), so a name, a note or an address cannot be stored by accident.
 */
import { z } from 'zod';

/** Opaque ids: `usr_…`, FHIR ids, UUIDs, `Patient/123`. No whitespace, so no free text. */
export const AUDIT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}$/;
/** Dotted action or reason codes: `audit.search`, `policy.denied`. */
export const AUDIT_CODE_PATTERN = /^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*$/;
export const auditIdSchema = z.string().regex(AUDIT_ID_PATTERN, 'must be an identifier (no spaces, at most 128 chars)');
export const auditCodeSchema = z.string().regex(AUDIT_CODE_PATTERN, 'must be a dotted lower-case code').max(96);
const id = auditIdSchema;
const code = auditCodeSchema;
/** The shape of HL7 v3 ActReason PurposeOfUse codes (TREAT, ETREAT, HPAYMT, COVAUTH, HOPERAT, BTG, ...). */
export const AUDIT_PURPOSE_PATTERN = /^[A-Z][A-Z0-9_-]{1,31}$/;
const purpose = z.string().regex(AUDIT_PURPOSE_PATTERN, 'must be a PurposeOfUse code');
const clientAddress = z.union([z.ipv4(), z.ipv6()]);
/** A disclosed element as `Type.path` (`Patient.name`, `Coverage.payor`): a name, never a value. */
export const AUDIT_FIELD_PATTERN = /^[A-Z][A-Za-z]{1,63}(\.[a-z][A-Za-z0-9]{0,63}){1,6}$/;
const field = z.string().regex(AUDIT_FIELD_PATTERN, 'must be a Type.path element name');

export const principalKinds = ['person', 'service', 'system'] as const;
export type PrincipalKind = (typeof principalKinds)[number];

export const outcomes = ['success', 'denied', 'error'] as const;
export type AuditOutcome = (typeof outcomes)[number];

export const auditEntryInputSchema = z
  .object({
    who: z.object({ id, kind: z.enum(principalKinds) }).strict(),
    action: code,
    resource: z.object({ type: z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/), id: id.optional() }).strict().optional(),
    patient: id.optional(),
    purpose: purpose.optional(),
    breakGlass: id.optional(),
    /** The data view a read went through (minimum necessary, 45 CFR 164.514(d)). */
    view: code.optional(),
    /** The elements disclosed by a read, for the accounting of disclosures (164.528). */
    disclosed: z.array(field).max(512).optional(),
    outcome: z.enum(outcomes),
    reason: code.optional(),
    requestId: id.optional(),
    client: clientAddress.optional(),
    details: z.record(z.string().regex(/^[a-zA-Z][a-zA-Z0-9_]{0,63}$/), z.union([id, z.number().int(), z.boolean()])).optional(),
  })
  .strict();

/** What a caller supplies; the log adds `v`, `seq` and `time`. */
export type AuditEntryInput = z.infer<typeof auditEntryInputSchema>;

/** A stored entry: the input plus format version, gap-free sequence number and server time. */
export interface AuditEntry extends AuditEntryInput {
  v: 1;
  seq: number;
  time: string;
}

export interface AuditReceipt {
  seq: number;
  /** Chain hash after this entry (hex). */
  chainHash: string;
}
