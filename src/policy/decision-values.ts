/**
 * How `decide` and `explain` spell their results, so both build identical values. Deny
 * reasons are short sentences made of ids and codes only (no PHI). Values a caller supplied (purpose, scopes) are echoed only
 * when they have the shape of a code, since reasons reach audit entries and HTTP responses.
 */
import type { AccessRequest, Relationship } from './access-request.js';
import type { DenyCode, DenyDecision, PermitDecision } from './access-decision.js';
import type { CompiledPolicy, CompiledRule } from './compiled-policy.js';

const CODE_SHAPE = /^[A-Za-z*][A-Za-z0-9.*_-]{0,63}$/;

function shown(v: string): string {
  return CODE_SHAPE.test(v) ? v : '(malformed)';
}

/** Roles as text; one role (the common case) without building an array. */
function rolesText(roles: readonly string[]): string {
  if (roles.length === 0) return '(no roles)';
  if (roles.length === 1) return shown(roles[0] ?? '');
  return roles.map(shown).join(', ');
}

export function denial(policy: CompiledPolicy, code: DenyCode, reason: string, ruleId?: string): DenyDecision {
  return ruleId === undefined ? { effect: 'deny', policyVersion: policy.version, code, reasons: [reason] } : { effect: 'deny', policyVersion: policy.version, ruleId, code, reasons: [reason] };
}

/** A permit by `rule`; a break-glass rule's permit names the grant it rests on. */
export function permission(policy: CompiledPolicy, rule: CompiledRule, request: AccessRequest): PermitDecision {
  return rule.breakGlass && request.breakGlass !== undefined
    ? { effect: 'permit', policyVersion: policy.version, ruleId: rule.id, obligations: rule.obligations, breakGlass: request.breakGlass.id }
    : { effect: 'permit', policyVersion: policy.version, ruleId: rule.id, obligations: rule.obligations };
}

/** The deny of a deny rule: its reason code and id. */
export function ruleDenial(policy: CompiledPolicy, rule: CompiledRule, request: AccessRequest, purpose: string | undefined, relationship: Relationship | undefined): DenyDecision {
  // Validation gives every deny rule a reason; the fallback only keeps the type honest.
  return denial(policy, rule.reason ?? 'policy.denied', reasonFor.denyRule(rule, describeRequest(request, purpose, relationship)), rule.id);
}

/**
 * `role(s) coder to patient.read for purpose TREAT with relationship none`. Only for requests
 * past `refuseRequest`: action and purpose are then codes Ward knows, and only role names
 * (from the credential) still need checking before they are echoed.
 */
export function describeRequest(request: AccessRequest, purpose: string | undefined, relationship: Relationship | undefined): string {
  const roles = rolesText(request.principal.roles);
  const why = purpose === undefined ? 'without a purpose of use' : `for purpose ${purpose}`;
  const rel = relationship === undefined ? '' : ` with relationship ${relationship}`;
  return `role(s) ${roles} to ${request.action} ${why}${rel}`;
}

export const reasonFor = {
  unknownAction: (request: AccessRequest): string => `action ${shown(request.action)} is not in Ward's action catalog`,
  purposeRequired: (request: AccessRequest): string =>
    `${shown(request.action)} may touch PHI: the request must state a purpose of use (HL7 v3 PurposeOfUse)`,
  unknownPurpose: (purpose: string): string => `purpose of use ${shown(purpose)} is not an HL7 v3 PurposeOfUse code Ward accepts`,
  patientRequired: (request: AccessRequest): string => `${shown(request.action)} concerns one patient: the request must name the patient`,
  scopeMissing: (request: AccessRequest, scopes: readonly string[]): string =>
    `no scope of this credential (${scopes.length === 0 ? 'none' : scopes.map(shown).join(', ')}) covers ${shown(request.action)}`,
  denyRule: (rule: CompiledRule, described: string): string => `rule ${rule.id} denies ${described} (${rule.reason ?? 'no reason'})`,
  breakGlassRequired: (rule: CompiledRule, request: AccessRequest, purpose: string | undefined): string =>
    `rule ${rule.id} permits ${request.action} for purpose ${purpose ?? '(none)'} only under an active break-glass grant for this patient and purpose; none is open or it has expired`,
  noMatchingRule: (described: string): string => `no rule permits ${described}`,
};
