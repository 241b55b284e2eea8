/**
 * The policy's answer. Both outcomes are values: a permit names the rule and the obligations
 * the rest of the request must honour; a deny names a stable code (the engine's own, or the
 * `reason` of the deny rule that matched) and short reasons made of ids and codes, never PHI,
 * since they reach audit entries and HTTP problem documents.
 */

/** What a permit obliges the request to do (minimum necessary, 45 CFR 164.502(b)). */
export interface Obligations {
  /** The data view records are read through; absent: the rule names none. */
  readonly view?: string;
  /** De-identify (Safe Harbor) whatever leaves the trust boundary or reaches the model. */
  readonly deidentify: boolean;
  /** A person reviews the output before it is used (anything near a clinical decision). */
  readonly humanReview: boolean;
}

/** Denials decided by the engine itself, before or after the rules. */
export const engineDenyCodes = [
  'policy.unknown_action',
  'policy.purpose_required',
  'policy.unknown_purpose',
  'policy.patient_required',
  'policy.scope_missing',
  'policy.break_glass_required',
  'policy.no_matching_rule',
] as const;
export type EngineDenyCode = (typeof engineDenyCodes)[number];

/** An engine code, or the dotted `reason` a deny rule gives (`policy.marketing_prohibited`). */
export type DenyCode = EngineDenyCode | `${string}.${string}`;

export interface PermitDecision {
  effect: 'permit';
  policyVersion: string;
  ruleId: string;
  obligations: Obligations;
  /** Id of the break-glass grant the permit rests on, when the rule is a break-glass rule. */
  breakGlass?: string;
}

export interface DenyDecision {
  effect: 'deny';
  policyVersion: string;
  /** The deny rule that matched, or the break-glass rule that would have with a grant. */
  ruleId?: string;
  code: DenyCode;
  reasons: string[];
}

export type AccessDecision = PermitDecision | DenyDecision;
