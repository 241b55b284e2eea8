/**
 * Trust zones (DESIGN "Trust zones"): where a model runs decides what it may receive.
 * - `on-prem`: inside the organization's walls; minimum-necessary PHI.
 * - `baa`: outside, under a Business Associate Agreement (45 CFR 164.502(e), 164.504(e));
 *   minimum-necessary PHI, each call recorded as a disclosure for the accounting (164.528).
 * - `external`: outside, no agreement; Safe Harbor de-identified text only (164.514(b)(2)), or nothing.
 */
export const TRUST_ZONES = ['on-prem', 'baa', 'external'] as const;
export type TrustZone = (typeof TRUST_ZONES)[number];

/** Higher is stronger (closer to the data). */
const STRENGTH: Record<TrustZone, number> = { 'on-prem': 2, baa: 1, external: 0 };

/** May PHI (minimum necessary, not de-identified) be sent to a model in this zone? */
export function zoneMayReceivePhi(zone: TrustZone): boolean {
  return zone !== 'external';
}

/** Retries and fallback go only to a model of the same or a stronger zone, never a weaker one. */
export function isSameOrStronger(candidate: TrustZone, original: TrustZone): boolean {
  return STRENGTH[candidate] >= STRENGTH[original];
}
