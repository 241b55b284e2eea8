/**
 * The checks made before any rule is consulted, in this order: the action exists; a PHI action
 * states a purpose of use (every PHI access is for a purpose, 45 CFR 164.502(b)); the purpose
 * is one Ward accepts; a per-patient action names its patient; an API key's scopes cover the
 * action. A request failing one is refused whatever the rules say.
 */
import type { AccessRequest } from './access-request.js';
import type { DenyDecision } from './access-decision.js';
import { actionMatches } from './action-catalog.js';
import type { CompiledAction, CompiledPolicy } from './compiled-policy.js';
import { denial, reasonFor } from './decision-values.js';
import { patientOf, purposeOf } from './request-facts.js';

/** The refusal of the first check, for an action not in the catalog. */
export function unknownAction(policy: CompiledPolicy, request: AccessRequest): DenyDecision {
  return denial(policy, 'policy.unknown_action', reasonFor.unknownAction(request));
}

/** The other checks, for a known action: the refusal, or `undefined` when the rules decide. */
export function refuseRequest(policy: CompiledPolicy, request: AccessRequest, action: CompiledAction): DenyDecision | undefined {
  const purpose = purposeOf(request);
  if (purpose === undefined) {
    if (action.phi) return denial(policy, 'policy.purpose_required', reasonFor.purposeRequired(request));
  } else if (!policy.purposeColumns.has(purpose)) {
    return denial(policy, 'policy.unknown_purpose', reasonFor.unknownPurpose(purpose));
  }
  if (action.patient === 'required' && patientOf(request) === undefined) {
    return denial(policy, 'policy.patient_required', reasonFor.patientRequired(request));
  }
  const scopes = request.principal.scopes;
  if (scopes !== undefined && !scopeCovers(scopes, action.code)) {
    return denial(policy, 'policy.scope_missing', reasonFor.scopeMissing(request, scopes));
  }
  return undefined;
}

function scopeCovers(scopes: readonly string[], action: string): boolean {
  for (let i = 0; i < scopes.length; i++) {
    const s = scopes[i];
    if (s !== undefined && actionMatches(s, action)) return true;
  }
  return false;
}
