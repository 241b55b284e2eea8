/**
 * The facts of a request both `decide` and `explain` read the same way, so the two cannot
 * drift: the stated purpose, the relationship that counts, and whether a break-glass grant
 * covers the request.
 */
import type { AccessRequest, Relationship } from './access-request.js';
import type { CompiledAction } from './compiled-policy.js';

/** The stated purpose; an empty string is no purpose. */
export function purposeOf(request: AccessRequest): string | undefined {
  const p = request.purpose;
  return p === undefined || p === '' ? undefined : p;
}

/** The patient named; an empty string is none. */
export function patientOf(request: AccessRequest): string | undefined {
  const p = request.patient;
  return p === undefined || p === '' ? undefined : p;
}

/**
 * The relationship a rule's `relationships` is checked against, or `undefined` when the action
 * concerns no patient. A request that could name a patient and does not (a patientless
 * `model.chat`) has no relationship: it counts as `none`, so leaving the patient out never
 * reaches more than naming one would (minimum necessary, 45 CFR 164.502(b)). A named patient
 * without a stated relationship counts as `none` too.
 */
export function relationshipOf(action: CompiledAction, request: AccessRequest): Relationship | undefined {
  if (action.patient === 'none') return undefined;
  if (patientOf(request) === undefined) return 'none';
  const r = request.relationship;
  return r === 'care-team' || r === 'assigned' ? r : 'none';
}

/**
 * Does the principal's break-glass grant cover this request: same patient, same purpose, and
 * not expired (`now < expiresAt`)? An unreadable time fails closed (45 CFR 164.312(a)(2)(ii):
 * emergency access is time-boxed).
 */
export function grantCovers(request: AccessRequest, purpose: string | undefined): boolean {
  const g = request.breakGlass;
  if (g === undefined || purpose === undefined || g.purpose !== purpose) return false;
  const patient = patientOf(request);
  if (patient === undefined || g.patient !== patient) return false;
  return isBefore(request.now, g.expiresAt);
}

/**
 * `a < b` for ISO 8601 instants. Two UTC strings in the fixed `toISOString()` shape
 * (`2026-11-29T10:00:00.000Z`) order as text, which is far cheaper than parsing; any other
 * shape (offsets, other precision) is parsed, and an unreadable time compares false.
 */
export function isBefore(a: string, b: string): boolean {
  if (isCanonicalUtc(a) && isCanonicalUtc(b)) return a < b;
  return Date.parse(a) < Date.parse(b);
}

/** The fixed `toISOString()` shape, in which instants order as text. */
const CANONICAL_UTC = /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$/;

function isCanonicalUtc(s: string): boolean {
  return CANONICAL_UTC.test(s);
}
