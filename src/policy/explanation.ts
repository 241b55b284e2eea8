/**
 * What `explain` returns: the decision and, for every rule in file order, whether it matched
 * and otherwise the first condition it failed.
 */
import type { AccessDecision } from './access-decision.js';

/** The first condition a rule failed, checked in this order. */
export type Mismatch = 'role' | 'action' | 'purpose' | 'relationship' | 'break-glass' | 'scope';

export interface TraceEntry {
  ruleId: string;
  effect: 'permit' | 'deny';
  matched: boolean;
  mismatch?: Mismatch;
}

export interface Explanation {
  decision: AccessDecision;
  /**
   * Every rule in file order. Empty when the request was refused before the rules (unknown
   * action or purpose, missing purpose or patient); when an API key's scopes do not cover the
   * action, rules that would otherwise match show `mismatch: 'scope'`.
   */
  trace: TraceEntry[];
}
