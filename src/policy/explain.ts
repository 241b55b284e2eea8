/**
 * `explain`: the decision for a request together with the verdict of every rule, in file
 * order, so an administrator or privacy officer sees which rule permitted or denied and why
 * the others did not apply (`ward policy explain`). It does not use the index `decide` uses:
 * it reads each rule as written, which makes it an independent check on the index (a property
 * test requires the same effect, rule and code from both).
 */
import type { AccessRequest } from './access-request.js';
import type { AccessDecision } from './access-decision.js';
import { actionMatches } from './action-catalog.js';
import type { CompiledPolicy, CompiledRule } from './compiled-policy.js';
import { denial, describeRequest, permission, reasonFor, ruleDenial } from './decision-values.js';
import { refuseRequest, unknownAction } from './refuse-request.js';
import { grantCovers, purposeOf, relationshipOf } from './request-facts.js';
import type { Explanation, Mismatch, TraceEntry } from './explanation.js';

// The CLI prints what it asks for; both come from here.
export { formatExplanation } from './format-explanation.js';
export type { Explanation, Mismatch, TraceEntry } from './explanation.js';

export function explain(policy: CompiledPolicy, request: AccessRequest): Explanation {
  const trace: TraceEntry[] = [];
  const decision = decideByScan(policy, request, trace);
  return { decision, trace };
}

function mismatchOf(rule: CompiledRule, request: AccessRequest, purpose: string | undefined, relationship: string | undefined, grant: () => boolean): Mismatch | undefined {
  if (!rule.anyRole && !request.principal.roles.some((r) => rule.roles.includes(r))) return 'role';
  if (!rule.actions.some((p) => actionMatches(p, request.action))) return 'action';
  if (rule.purposes !== undefined && (purpose === undefined || !rule.purposes.includes(purpose))) return 'purpose';
  if (relationship !== undefined && rule.relationships !== undefined && !rule.relationships.some((r) => r === relationship)) return 'relationship';
  if (rule.breakGlass && !grant()) return 'break-glass';
  return undefined;
}

/**
 * The decision by a linear scan of every rule, recording each verdict in `trace` when one is
 * given. Also the benchmark's baseline for the index.
 */
export function decideByScan(policy: CompiledPolicy, request: AccessRequest, trace?: TraceEntry[]): AccessDecision {
  const action = policy.actions.get(request.action);
  if (action === undefined) return unknownAction(policy, request);
  const refusal = refuseRequest(policy, request, action);
  // A scope refusal still walks the rules, so the trace shows what the scope kept out.
  const scopeRefused = refusal?.code === 'policy.scope_missing';
  if (refusal !== undefined && !scopeRefused) return refusal;

  const purpose = purposeOf(request);
  const relationship = relationshipOf(action, request);
  let grantChecked: boolean | undefined;
  const grant = (): boolean => (grantChecked ??= grantCovers(request, purpose));

  let deny: CompiledRule | undefined;
  let permit: CompiledRule | undefined;
  let wantsGrant: CompiledRule | undefined;
  for (const rule of policy.rules) {
    let mismatch = mismatchOf(rule, request, purpose, relationship, grant);
    if (mismatch === undefined && scopeRefused) mismatch = 'scope';
    if (trace === undefined && mismatch !== undefined && mismatch !== 'break-glass') continue;
    trace?.push(mismatch === undefined ? { ruleId: rule.id, effect: rule.effect, matched: true } : { ruleId: rule.id, effect: rule.effect, matched: false, mismatch });
    if (mismatch === 'break-glass') wantsGrant ??= rule;
    else if (mismatch !== undefined) continue;
    else if (rule.effect === 'deny') deny ??= rule;
    else permit ??= rule;
    // Without a trace to fill, the first deny settles it (deny overrides).
    if (trace === undefined && deny !== undefined) break;
  }

  if (refusal !== undefined) return refusal;
  if (deny !== undefined) {
    return ruleDenial(policy, deny, request, purpose, relationship);
  }
  if (permit !== undefined) {
    return permission(policy, permit, request);
  }
  if (wantsGrant !== undefined) {
    return denial(policy, 'policy.break_glass_required', reasonFor.breakGlassRequired(wantsGrant, request, purpose), wantsGrant.id);
  }
  return denial(policy, 'policy.no_matching_rule', reasonFor.noMatchingRule(describeRequest(request, purpose, relationship)));
}
