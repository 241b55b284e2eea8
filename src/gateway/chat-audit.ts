/**
 * The audit entry of one model call (45 CFR 164.312(b)): who, purpose, patient, model and trust
 * zone, the PHI categories found, whether the prompt was de-identified (and the answer
 * re-identified), keyed hashes of prompt and response (never their text: a plain SHA-256 of a
 * short prompt can be reversed by guessing, an HMAC cannot without the key), token counts,
 * latency and outcome. A `baa` call that carried PHI is marked as a disclosure to the business
 * associate named by the agreement, so it appears in the patient's accounting (164.528).
 */
import type { AuditEntryInput } from '../audit/audit-entry.js';
import type { AuditContext } from '../audit/audit-entry-of.js';
import { auditEntryOf } from '../audit/audit-entry-of.js';
import type { PhiType } from '../deid/phi-type.js';
import type { TrustZone } from '../models/trust-zone.js';

export interface ChatAuditFacts {
  who: AuditEntryInput['who'];
  auditFields: Pick<AuditEntryInput, 'purpose' | 'patient' | 'breakGlass'>;
  context: AuditContext;
  /** The model asked for (and the one that answered, when a fallback did). */
  model: string;
  answeredBy?: { id: string; zone: TrustZone; baa?: string };
  zone?: TrustZone;
  outcome: AuditEntryInput['outcome'];
  reason?: string;
  categories: readonly PhiType[];
  deidentified: boolean;
  reidentified: boolean;
  promptHash?: string;
  sentHash?: string;
  responseHash?: string;
  promptTokens: number;
  completionTokens: number;
  latencyMs: number;
  stream: boolean;
  attempts: number;
  /** A streamed answer that stopped before its end (cancelled, blocked, failed). */
  partial: boolean;
  /** Identifiers in the answer that belong to no patient Ward holds (reported, not blocking). */
  unresolvedIdentifiers: number;
}

export function chatAuditEntry(f: ChatAuditFacts): AuditEntryInput {
  const details: Record<string, string | number | boolean> = {
    model: f.answeredBy?.id ?? f.model,
    phi: f.categories.length === 0 ? 'none' : f.categories.join('+'),
    deidentified: f.deidentified,
    reidentified: f.reidentified,
    promptTokens: f.promptTokens,
    completionTokens: f.completionTokens,
    latencyMs: Math.round(f.latencyMs),
    stream: f.stream,
    attempts: f.attempts,
    partial: f.partial,
    unresolvedIds: f.unresolvedIdentifiers,
  };
  const zone = f.answeredBy?.zone ?? f.zone;
  if (zone !== undefined) details.zone = zone;
  if (f.answeredBy !== undefined && f.answeredBy.id !== f.model) details.requestedModel = f.model;
  if (f.promptHash !== undefined) details.promptHmac = f.promptHash;
  if (f.sentHash !== undefined && f.sentHash !== f.promptHash) details.sentHmac = f.sentHash;
  if (f.responseHash !== undefined) details.responseHmac = f.responseHash;
  const baa = f.answeredBy?.baa;
  if (zone === 'baa' && baa !== undefined && f.categories.length > 0 && !f.deidentified && f.attempts > 0) {
    details.disclosure = 'business-associate';
    details.baa = baa;
  }
  return auditEntryOf(f.who, 'model.chat', f.outcome, {
    ...f.auditFields,
    resource: { type: 'Model', id: f.answeredBy?.id ?? f.model },
    ...(f.reason !== undefined ? { reason: f.reason } : {}),
    details,
  }, f.context);
}
