/**
 * Output guard: an answer about one patient must not carry identifiers of another (45 CFR
 * 164.502(b) minimum necessary; a disclosure of another patient's PHI would be an impermissible
 * one, 164.502(a)). The answer is analyzed (deid analyzer), the strong identifiers found in it
 * become candidates, the caller looks each value up in the records index (who owns it?) and this
 * guard decides: blocked when any candidate belongs to a patient other than the one in scope.
 *
 * Pure, two steps so the look-up (I/O) stays with the caller: `identifierCandidates` (text +
 * detections -> normalized values) and `identifierScopeVerdict` (candidates + owners -> verdict).
 * The verdict carries types and a count, never a value: it is logged and audited.
 */
import type { Detection } from '../deid/detection.js';
import { PHI_TYPES, type PhiType } from '../deid/phi-type.js';

/**
 * Types that point at one person by themselves (Safe Harbor (G)-(K), (M), (R)). Names, dates and
 * places are left out on purpose: they are shared by many people, so "owned by another patient"
 * would block ordinary answers (and name matching belongs to the records index, not here).
 */
export const STRONG_IDENTIFIER_TYPES: readonly PhiType[] = ['SSN', 'MRN', 'HEALTH_PLAN', 'ACCOUNT', 'LICENSE', 'DEVICE', 'OTHER_ID'];
const STRONG: ReadonlySet<PhiType> = new Set(STRONG_IDENTIFIER_TYPES);

export interface IdentifierCandidate {
  readonly type: PhiType;
  /** Normalized for look-up (see `normalizeIdentifier`). PHI: never log it. */
  readonly value: string;
  readonly start: number;
  readonly end: number;
}

export type ScopeVerdict =
  | { readonly ok: true; readonly unresolved: number }
  | { readonly ok: false; readonly code: 'guard.out_of_scope_patient'; readonly types: readonly PhiType[]; readonly count: number };

export interface ScopeInput {
  readonly candidates: readonly IdentifierCandidate[];
  /** Candidate value -> ids of the patients owning it, as the records index answered. */
  readonly owners: ReadonlyMap<string, readonly string[]>;
  /** The patient the request is about; absent: the answer may name no known patient at all. */
  readonly scopePatient?: string;
}

/** The strong-identifier detections of `text`, with values normalized for the owner look-up. */
export function identifierCandidates(text: string, detections: readonly Detection[]): IdentifierCandidate[] {
  const out: IdentifierCandidate[] = [];
  for (const d of detections) {
    if (!STRONG.has(d.type)) continue;
    const value = normalizeIdentifier(d.type, text.slice(d.start, d.end));
    if (value !== undefined) out.push({ type: d.type, value, start: d.start, end: d.end });
  }
  return out;
}

/**
 * The form an identifier is stored and looked up in: an SSN as ddd-dd-dddd whatever its
 * separators (`123456789`, `123 45 6789`), anything else as written without surrounding spaces
 * or punctuation (`MRN 12345.` -> the detection's `12345`). Undefined when nothing identifying is
 * left: an empty span, or a masked SSN (`XXX-XX-1234`), which names no one by itself.
 */
export function normalizeIdentifier(type: PhiType, raw: string): string | undefined {
  if (type === 'SSN') {
    const digits = raw.replace(/\D/g, '');
    return digits.length === 9 ? `${digits.slice(0, 3)}-${digits.slice(3, 5)}-${digits.slice(5)}` : undefined;
  }
  const value = raw.trim().replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '');
  return value === '' ? undefined : value;
}

/**
 * Blocked when any candidate is owned by a patient other than `scopePatient` (without a scope
 * patient: by any patient). A shared identifier (a family's health plan number) passes only when
 * the scope patient is among its owners. Candidates nobody owns are counted as `unresolved`
 * (reported, not blocking: the analyzer also flags things that are not identifiers at all).
 */
export function identifierScopeVerdict(input: ScopeInput): ScopeVerdict {
  const blockedTypes = new Set<PhiType>();
  let blocked = 0;
  let unresolved = 0;
  for (const c of input.candidates) {
    const owners = input.owners.get(c.value) ?? [];
    if (owners.length === 0) {
      unresolved++;
      continue;
    }
    if (input.scopePatient !== undefined && owners.includes(input.scopePatient)) continue;
    blocked++;
    blockedTypes.add(c.type);
  }
  if (blocked === 0) return { ok: true, unresolved };
  return { ok: false, code: 'guard.out_of_scope_patient', types: PHI_TYPES.filter((t) => blockedTypes.has(t)), count: blocked };
}
