/**
 * The access decision: pure, no I/O, no clock (the time arrives in the request).
 *
 * 1. Requests that fail a basic check are refused first (`refuse-request.ts`).
 * 2. Deny overrides: if any deny rule matches, the decision is that deny (the first in file
 *    order gives its reason code and id).
 * 3. Otherwise the first matching permit in file order decides, with its obligations. A
 *    `breakGlass: true` rule matches only under an active grant for this patient and purpose
 *    (emergency access procedure, 45 CFR 164.312(a)(2)(ii)), and the permit carries the grant id.
 * 4. No permit, but a break-glass rule would have matched with a grant:
 *    `policy.break_glass_required`. Otherwise default deny: `policy.no_matching_rule`.
 *
 * Rules come from the compiled index: the bucket of each of the principal's roles for this
 * (action, purpose) cell, so only relationship and grant are checked here. `explain` reaches
 * the same decision by scanning every rule; a property test holds the two together.
 */
import type { AccessRequest } from './access-request.js';
import type { AccessDecision } from './access-decision.js';
import { RELATIONSHIP_BITS } from './compiled-policy.js';
import type { CompiledPolicy, CompiledRule, RuleBucket } from './compiled-policy.js';
import { denial, describeRequest, permission, reasonFor, ruleDenial } from './decision-values.js';
import { refuseRequest, unknownAction } from './refuse-request.js';
import { grantCovers, purposeOf, relationshipOf } from './request-facts.js';

const EMPTY: RuleBucket = { denies: [], permits: [] };
const NO_GRANT_CHECKED = 0;
const GRANT_COVERS = 1;
const GRANT_MISSING = 2;

export function decide(policy: CompiledPolicy, request: AccessRequest): AccessDecision {
  const action = policy.actions.get(request.action);
  if (action === undefined) return unknownAction(policy, request);
  const refusal = refuseRequest(policy, request, action);
  if (refusal !== undefined) return refusal;

  const purpose = purposeOf(request);
  // refuseRequest has checked that a stated purpose has a column.
  const column = purpose === undefined ? policy.noPurposeColumn : (policy.purposeColumns.get(purpose) ?? policy.noPurposeColumn);
  const cell = action.row * policy.columnCount + column;
  const relationship = relationshipOf(action, request);
  // 0: the relationship does not apply, every rule passes it.
  const bit = relationship === undefined ? 0 : RELATIONSHIP_BITS[relationship];
  const roles = request.principal.roles;
  // A principal without roles still meets the `*` rules.
  const tables = roles.length === 0 ? 1 : roles.length;

  let deny: CompiledRule | undefined;
  for (let i = 0; i < tables; i++) {
    const bucket = bucketOf(policy, roles[i], cell);
    const denies = bucket.denies;
    for (let j = 0; j < denies.length; j++) {
      const rule = denies[j];
      if (rule === undefined || (deny !== undefined && rule.index >= deny.index)) break;
      if (bit === 0 || (rule.relationshipMask & bit) !== 0) {
        deny = rule;
        break;
      }
    }
  }
  if (deny !== undefined) {
    return ruleDenial(policy, deny, request, purpose, relationship);
  }

  let permit: CompiledRule | undefined;
  let wantsGrant: CompiledRule | undefined;
  let grant = NO_GRANT_CHECKED;
  for (let i = 0; i < tables; i++) {
    const permits = bucketOf(policy, roles[i], cell).permits;
    for (let j = 0; j < permits.length; j++) {
      const rule = permits[j];
      if (rule === undefined || (permit !== undefined && rule.index >= permit.index)) break;
      if (bit !== 0 && (rule.relationshipMask & bit) === 0) continue;
      if (rule.breakGlass) {
        if (grant === NO_GRANT_CHECKED) grant = grantCovers(request, purpose) ? GRANT_COVERS : GRANT_MISSING;
        if (grant === GRANT_MISSING) {
          if (wantsGrant === undefined || rule.index < wantsGrant.index) wantsGrant = rule;
          continue;
        }
      }
      permit = rule;
      break;
    }
  }
  if (permit !== undefined) {
    return permission(policy, permit, request);
  }
  if (wantsGrant !== undefined) {
    return denial(policy, 'policy.break_glass_required', reasonFor.breakGlassRequired(wantsGrant, request, purpose), wantsGrant.id);
  }
  return denial(policy, 'policy.no_matching_rule', reasonFor.noMatchingRule(describeRequest(request, purpose, relationship)));
}

function bucketOf(policy: CompiledPolicy, role: string | undefined, cell: number): RuleBucket {
  const table = role === undefined ? policy.anyRoleTable : (policy.roleTables.get(role) ?? policy.anyRoleTable);
  return table[cell] ?? EMPTY;
}
