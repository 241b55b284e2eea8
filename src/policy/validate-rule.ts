/**
 * The checks a well-shaped rule must still pass against what Ward knows: roles, actions,
 * purposes of use, relationships and data views that exist, and the combinations that make a
 * rule mean what its author thinks. Each problem is `field: message`; `parse-policy.ts` puts
 * the rule's index and id in front.
 */
import { actionCatalog, actionCodes, actionMatches } from './action-catalog.js';
import type { ActionCode } from './action-catalog.js';
import { engineDenyCodes } from './access-decision.js';
import { isRelationship, relationships } from './access-request.js';
import { BREAK_GLASS_PURPOSES, isBreakGlassPurpose, isPurposeOfUse, purposesOfUse } from './purpose-of-use.js';
import type { PolicyRule } from './policy-document.js';

/** What the caller knows beyond the policy module: the role names and data view names. */
export interface PolicyKnowns {
  roles: readonly string[];
  /** When given, a permit's `obligations.view` must be one of these. */
  views?: readonly string[];
}

/** The catalog actions a list of patterns covers, in catalog order. */
export function coveredActions(patterns: readonly string[]): ActionCode[] {
  return actionCodes.filter((a) => patterns.some((p) => actionMatches(p, a)));
}

function duplicates(values: readonly string[]): string[] {
  return values.filter((v, i) => values.indexOf(v) !== i);
}

function listProblems(field: string, values: readonly string[], isKnown: (v: string) => boolean, what: string, known: readonly string[]): string[] {
  const problems: string[] = [];
  for (const v of values) {
    if (!isKnown(v)) problems.push(`${field}: unknown ${what} "${v}"; ${field} are: ${known.join(', ')}`);
  }
  for (const d of new Set(duplicates(values))) problems.push(`${field}: "${d}" is listed twice`);
  return problems;
}

export function validateRule(rule: PolicyRule, known: PolicyKnowns): string[] {
  const problems: string[] = [];
  const roleSet = new Set(known.roles);

  problems.push(...listProblems('roles', rule.roles, (r) => r === '*' || roleSet.has(r), 'role', [...known.roles, '*']));
  if (rule.roles.includes('*') && rule.roles.length > 1) problems.push('roles: "*" already covers every role; list it alone');

  for (const pattern of rule.actions) {
    if (coveredActions([pattern]).length === 0) {
      problems.push(`actions: unknown action "${pattern}"; actions are: ${actionCodes.join(', ')}, or a pattern such as patient.* or *`);
    }
  }
  for (const d of new Set(duplicates(rule.actions))) problems.push(`actions: "${d}" is listed twice`);
  if (rule.actions.includes('*') && rule.actions.length > 1) problems.push('actions: "*" already covers every action; list it alone');
  const covered = coveredActions(rule.actions);

  if (rule.purposes !== undefined) {
    problems.push(...listProblems('purposes', rule.purposes, isPurposeOfUse, 'purpose of use', purposesOfUse));
  }

  if (rule.relationships !== undefined) {
    problems.push(...listProblems('relationships', rule.relationships, isRelationship, 'relationship', relationships));
    // Relationship is a fact about one patient; on actions without one it could never apply.
    if (covered.length > 0 && covered.every((a) => actionCatalog[a].patient === 'none')) {
      problems.push(`relationships: apply only to actions about a patient, and none of ${covered.join(', ')} concerns one; remove the field`);
    }
  }

  const phiActions = covered.filter((a) => actionCatalog[a].phi);
  if (rule.effect === 'permit') {
    // 45 CFR 164.502(b): access to PHI is granted for a purpose, never in general.
    if (phiActions.length > 0 && rule.purposes === undefined) {
      problems.push(`purposes: a permit covering PHI action(s) ${phiActions.join(', ')} must list purposes of use (45 CFR 164.502(b) minimum necessary)`);
    }
    if (rule.reason !== undefined) problems.push('reason: only deny rules give a reason code; say why a permit exists in "description"');
    const view = rule.obligations?.view;
    if (view !== undefined && known.views !== undefined && !known.views.includes(view)) {
      problems.push(`obligations.view: unknown data view "${view}"; views are: ${known.views.join(', ')}`);
    }
  } else {
    if (rule.reason === undefined) problems.push('reason: a deny rule must give a dotted reason code such as policy.marketing_prohibited');
    else if ((engineDenyCodes as readonly string[]).includes(rule.reason)) {
      problems.push(`reason: "${rule.reason}" is a code of the engine itself; choose a code of your own`);
    }
    if (rule.obligations !== undefined) problems.push('obligations: only permit rules carry obligations');
  }

  if (rule.breakGlass === true) {
    if (rule.effect !== 'permit') problems.push('breakGlass: only a permit can rest on a break-glass grant; deny with purposes ETREAT/BTG instead');
    // Emergency access procedure, 45 CFR 164.312(a)(2)(ii): only the emergency purposes open it.
    if (rule.purposes === undefined || !rule.purposes.every(isBreakGlassPurpose)) {
      problems.push(`breakGlass: a break-glass rule must list purposes, all of them among ${BREAK_GLASS_PURPOSES.join(', ')}`);
    }
    const patientless = covered.filter((a) => actionCatalog[a].patient === 'none');
    if (patientless.length > 0) {
      problems.push(`breakGlass: a grant is for one patient, and ${patientless.join(', ')} concerns none`);
    }
  }
  return problems;
}
