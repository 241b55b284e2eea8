/**
 * The question put to the policy: who asks, to do what, for which purpose of use, about which
 * patient, and the facts the caller resolved beforehand (the principal's relationship to that
 * patient, an open break-glass grant, the current time). The decision does no I/O, so every
 * fact arrives here.
 */

/** The principal's relationship to the patient of a request (`none`: no current relationship). */
export const relationships = ['care-team', 'assigned', 'none'] as const;
export type Relationship = (typeof relationships)[number];

export function isRelationship(v: string): v is Relationship {
  return v === 'care-team' || v === 'assigned' || v === 'none';
}

/** An open emergency-access grant of the requesting principal (45 CFR 164.312(a)(2)(ii)). */
export interface BreakGlassGrant {
  id: string;
  patient: string;
  purpose: string;
  /** ISO 8601 instant; the grant is active while `now < expiresAt`. */
  expiresAt: string;
}

export interface AccessRequest {
  principal: {
    id: string;
    kind: 'person' | 'service' | 'system';
    roles: readonly string[];
    /** API key scopes (action patterns); absent means limited by the policy alone. */
    scopes?: readonly string[];
  };
  action: string;
  /** HL7 v3 PurposeOfUse code (see `purpose-of-use.ts`). */
  purpose?: string;
  patient?: string;
  /** The principal's relationship to `patient`, resolved by the caller; absent means `none`. */
  relationship?: Relationship;
  /** An active grant of this principal, if any. */
  breakGlass?: BreakGlassGrant;
  /** ISO 8601 instant, to check the grant's expiry without a clock. */
  now: string;
}
