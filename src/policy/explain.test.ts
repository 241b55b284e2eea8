import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AccessRequest, Relationship } from './access-request.js';
import { actionCatalog, actionCodes } from './action-catalog.js';
import { decide } from './decide.js';
import { decideByScan, explain, formatExplanation } from './explain.js';
import { coveredActions } from './validate-rule.js';
import { EARLIER, LATER, NOW, grant, policyOf, request, rule } from './testing/policy-world.js';

const ROLES = ['admin', 'clinician', 'coder', 'workflow'] as const;
const PURPOSES = ['TREAT', 'ETREAT', 'BTG', 'HPAYMT', 'HMARKT', 'HOPERAT'] as const;
const RELATIONSHIPS: readonly Relationship[] = ['care-team', 'assigned', 'none'];
const PATTERNS = [...actionCodes, 'patient.*', 'model.*', 'break-glass.*', '*'];
// Most rules and requests draw from a few actions so that rules overlap (several roles, denies
// and permits on one cell): that is where an index can go wrong.
const CORE_ACTIONS = ['patient.read', 'patient.search', 'model.chat', 'account.manage'] as const;
const actionArb = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...CORE_ACTIONS) }, { weight: 1, arbitrary: fc.constantFrom(...actionCodes, 'nope.action') });
const patternArb = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...CORE_ACTIONS, 'patient.*') }, { weight: 1, arbitrary: fc.constantFrom(...PATTERNS.filter((p) => p !== '*')) });

const ruleArb = fc.record({
  effect: fc.constantFrom('permit', 'permit', 'deny'),
  roles: fc.oneof({ weight: 1, arbitrary: fc.constant(['*']) }, { weight: 4, arbitrary: fc.uniqueArray(fc.constantFrom(...ROLES), { minLength: 1, maxLength: 3 }) }),
  actions: fc.oneof({ weight: 1, arbitrary: fc.constant(['*']) }, { weight: 6, arbitrary: fc.uniqueArray(patternArb, { minLength: 1, maxLength: 3 }) }),
  purposes: fc.option(fc.uniqueArray(fc.constantFrom(...PURPOSES), { minLength: 1, maxLength: 3 }), { nil: undefined }),
  relationships: fc.option(fc.uniqueArray(fc.constantFrom(...RELATIONSHIPS), { minLength: 1, maxLength: 2 }), { nil: undefined }),
  breakGlass: fc.boolean(),
  obligations: fc.record({ view: fc.constantFrom('clinical', 'coding'), deidentify: fc.boolean(), humanReview: fc.boolean() }),
});

type RandomRule = typeof ruleArb extends fc.Arbitrary<infer R> ? R : never;

/** Bends a random rule into a valid one (the validator's constraints), keeping its variety. */
function validRule(r: RandomRule, i: number): Record<string, unknown> {
  const out: Record<string, unknown> = { id: `r-${i}`, effect: r.effect, roles: r.roles, actions: r.actions };
  let actions = r.actions;
  const breakGlass = r.effect === 'permit' && r.breakGlass;
  if (breakGlass) {
    actions = coveredActions(actions).filter((a) => actionCatalog[a].patient !== 'none');
    if (actions.length === 0) actions = ['patient.read'];
    out.actions = actions;
    out.breakGlass = true;
    const emergency = (r.purposes ?? []).filter((p) => p === 'ETREAT' || p === 'BTG');
    out.purposes = emergency.length > 0 ? emergency : ['ETREAT'];
  } else if (r.purposes !== undefined) {
    out.purposes = r.purposes;
  } else if (r.effect === 'permit' && coveredActions(actions).some((a) => actionCatalog[a].phi)) {
    out.purposes = ['TREAT'];
  }
  if (r.relationships !== undefined && coveredActions(actions).some((a) => actionCatalog[a].patient !== 'none')) out.relationships = r.relationships;
  if (r.effect === 'deny') out.reason = `policy.test_${i}`;
  else out.obligations = r.obligations;
  return rule(out);
}

/** Rule documents (compiled inside the property, so a counterexample prints as the file would). */
const rulesArb = fc.array(ruleArb, { minLength: 1, maxLength: 14 }).map((rules) => rules.map(validRule));

const mostlyFalse = fc.constantFrom(false, false, false, true);

const requestSeedArb = fc.record(
  {
    roles: fc.uniqueArray(fc.constantFrom(...ROLES, 'visitor'), { maxLength: 3 }),
    scopes: fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.uniqueArray(fc.constantFrom(...PATTERNS), { maxLength: 2 }) }),
    action: actionArb,
    purpose: fc.option(fc.constantFrom(...PURPOSES, 'BOGUS'), { nil: undefined, freq: 6 }),
    patient: fc.option(fc.constantFrom('pat_1', 'pat_2'), { nil: undefined, freq: 5 }),
    relationship: fc.option(fc.constantFrom(...RELATIONSHIPS), { nil: undefined }),
    // Grants mostly fit the request (same patient and purpose, not expired); the rest probe
    // each way a grant can fail to fit.
    grant: fc.option(fc.record({ otherPatient: mostlyFalse, otherPurpose: mostlyFalse, expired: mostlyFalse }), { nil: undefined, freq: 3 }),
    // Half the requests are aimed at one rule (its role, an action, purpose and relationship it
    // names), so permits, denies and break-glass rules are met often, not by luck.
    aim: fc.option(fc.nat(), { nil: undefined, freq: 2 }),
  },
  { requiredKeys: ['roles', 'action'] },
);
type RequestSeed = typeof requestSeedArb extends fc.Arbitrary<infer R> ? R : never;

function pick<T>(list: readonly T[] | undefined, n: number): T | undefined {
  return list === undefined || list.length === 0 ? undefined : list[n % list.length];
}

function toRequest(seed: RequestSeed, rules: readonly Record<string, unknown>[]): AccessRequest {
  let roles: readonly string[] = seed.roles;
  let action: string = seed.action;
  let purpose: string | undefined = seed.purpose;
  let relationship: Relationship | undefined = seed.relationship;
  const target = seed.aim === undefined ? undefined : rules[seed.aim % rules.length];
  if (target !== undefined && seed.aim !== undefined) {
    const n = seed.aim;
    const role = pick(target.roles as string[], n);
    if (role !== undefined && role !== '*' && !roles.includes(role)) roles = [...roles, role];
    action = pick(coveredActions(target.actions as string[]), n) ?? action;
    purpose = pick(target.purposes as string[] | undefined, n) ?? purpose;
    relationship = pick(target.relationships as Relationship[] | undefined, n) ?? relationship;
  }
  const patient = seed.patient;
  return {
    principal: { id: 'p', kind: 'person', roles, ...(seed.scopes !== undefined ? { scopes: seed.scopes } : {}) },
    action,
    ...(purpose !== undefined ? { purpose } : {}),
    ...(patient !== undefined ? { patient } : {}),
    ...(relationship !== undefined ? { relationship } : {}),
    ...(seed.grant !== undefined
      ? {
          breakGlass: {
            id: 'bg_9',
            patient: seed.grant.otherPatient ? 'pat_other' : (patient ?? 'pat_1'),
            purpose: seed.grant.otherPurpose ? 'TREAT' : (purpose ?? 'ETREAT'),
            expiresAt: seed.grant.expired ? EARLIER : LATER,
          },
        }
      : {}),
    now: NOW,
  };
}

describe('explain agrees with decide', () => {
  it('on random policies and requests: the same decision, reasons included (index vs scan)', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(rulesArb, fc.array(requestSeedArb, { minLength: 1, maxLength: 8 }), (rules, seeds) => {
        const policy = policyOf(rules);
        for (const req of seeds.map((seed) => toRequest(seed, rules))) {
          const fast = decide(policy, req);
          const { decision, trace } = explain(policy, req);
          expect(decision).toEqual(fast);
          expect(decideByScan(policy, req)).toEqual(fast);
          seen.add(fast.effect === 'permit' ? (fast.breakGlass !== undefined ? 'permit-bg' : 'permit') : fast.code.startsWith('policy.test_') ? 'rule-deny' : fast.code);
          // The trace backs the decision: a permit's rule matched and no deny did.
          if (fast.effect === 'permit') {
            expect(trace.find((t) => t.ruleId === fast.ruleId)).toEqual({ ruleId: fast.ruleId, effect: 'permit', matched: true });
            expect(trace.some((t) => t.matched && t.effect === 'deny')).toBe(false);
          }
        }
      }),
      { numRuns: 600 },
    );
    // The generators reach every kind of outcome, so agreement was tested on each.
    expect([...seen].sort()).toEqual(['permit', 'permit-bg', 'policy.break_glass_required', 'policy.no_matching_rule', 'policy.patient_required', 'policy.purpose_required', 'policy.scope_missing', 'policy.unknown_action', 'policy.unknown_purpose', 'rule-deny']);
  });
});

describe('explain: the trace', () => {
  const policy = policyOf([
    rule({ id: 'no-marketing', effect: 'deny', roles: ['*'], actions: ['*'], purposes: ['HMARKT'], reason: 'policy.marketing_prohibited' }),
    rule({ id: 'admin-accounts', effect: 'permit', roles: ['admin'], actions: ['account.manage'] }),
    rule({ id: 'coder-read', effect: 'permit', roles: ['clinician'], actions: ['patient.search'], purposes: ['TREAT'] }),
    rule({ id: 'clinician-read', effect: 'permit', roles: ['clinician'], actions: ['patient.read'], purposes: ['TREAT'], relationships: ['care-team'], obligations: { view: 'clinical', humanReview: true } }),
    rule({ id: 'clinician-read-hpaymt', effect: 'permit', roles: ['clinician'], actions: ['patient.read'], purposes: ['HPAYMT'] }),
    rule({ id: 'emergency-read', effect: 'permit', roles: ['clinician'], actions: ['patient.read'], purposes: ['ETREAT'], breakGlass: true }),
  ]);
  it('gives every rule, in file order, its first mismatch', () => {
    expect(explain(policy, request({ relationship: 'none', purpose: 'ETREAT' })).trace).toEqual([
      { ruleId: 'no-marketing', effect: 'deny', matched: false, mismatch: 'purpose' },
      { ruleId: 'admin-accounts', effect: 'permit', matched: false, mismatch: 'role' },
      { ruleId: 'coder-read', effect: 'permit', matched: false, mismatch: 'action' },
      { ruleId: 'clinician-read', effect: 'permit', matched: false, mismatch: 'purpose' },
      { ruleId: 'clinician-read-hpaymt', effect: 'permit', matched: false, mismatch: 'purpose' },
      { ruleId: 'emergency-read', effect: 'permit', matched: false, mismatch: 'break-glass' },
    ]);
    expect(explain(policy, request({ relationship: 'none' })).trace[3]).toEqual({ ruleId: 'clinician-read', effect: 'permit', matched: false, mismatch: 'relationship' });
  });
  it('records every match, including those after the deciding rule', () => {
    const { decision, trace } = explain(policy, request({ purpose: 'HMARKT' }));
    expect(decision).toMatchObject({ effect: 'deny', ruleId: 'no-marketing' });
    expect(trace.filter((t) => t.matched).map((t) => t.ruleId)).toEqual(['no-marketing']);
  });
  it('is empty when the request is refused before the rules', () => {
    expect(explain(policy, request({ purpose: undefined })).trace).toEqual([]);
    expect(explain(policy, request({ action: 'nope.action' })).trace).toEqual([]);
  });
  it('shows scope as the mismatch of rules an API key scope kept out', () => {
    const r = explain(policy, request({ principal: { id: 'k', kind: 'service', roles: ['clinician'], scopes: ['model.*'] } }));
    expect(r.decision).toMatchObject({ effect: 'deny', code: 'policy.scope_missing' });
    expect(r.trace[3]).toEqual({ ruleId: 'clinician-read', effect: 'permit', matched: false, mismatch: 'scope' });
    expect(r.trace[1]).toEqual({ ruleId: 'admin-accounts', effect: 'permit', matched: false, mismatch: 'role' });
  });
});

describe('formatExplanation', () => {
  const policy = policyOf([
    rule({ id: 'clinician-read', effect: 'permit', roles: ['clinician'], actions: ['patient.read'], purposes: ['TREAT'], relationships: ['care-team'], obligations: { view: 'clinical', humanReview: true } }),
    rule({ id: 'emergency-read', effect: 'permit', roles: ['clinician'], actions: ['patient.read'], purposes: ['ETREAT'], breakGlass: true }),
  ]);
  it('prints a permit with obligations and the deciding rule marked', () => {
    expect(formatExplanation(explain(policy, request()))).toBe(
      [
        'PERMIT by rule clinician-read (policy version test.1)',
        '  obligations: view clinical, de-identify no, human review yes',
        'rules in file order (2):',
        '    1  permit  clinician-read  matched  <= decides',
        '    2  permit  emergency-read  no: purpose',
        '',
      ].join('\n'),
    );
  });
  it('prints a break-glass permit with its grant', () => {
    const text = formatExplanation(explain(policy, request({ purpose: 'ETREAT', relationship: 'none', breakGlass: grant() })));
    expect(text.split('\n').slice(0, 3)).toEqual([
      'PERMIT by rule emergency-read (policy version test.1)',
      '  obligations: view (none named), de-identify no, human review no',
      '  under break-glass grant bg_1 (flagged in the audit trail, queued for review)',
    ]);
  });
  it('prints a deny with code and reasons, and says when no rule was evaluated', () => {
    expect(formatExplanation(explain(policy, request({ patient: undefined })))).toBe(
      'DENY policy.patient_required (policy version test.1)\n  patient.read concerns one patient: the request must name the patient\nno rule was evaluated: the request was refused before the rules\n',
    );
    expect(formatExplanation(explain(policy, request({ roles: ['coder'] }))).split('\n')[0]).toBe('DENY policy.no_matching_rule (policy version test.1)');
  });
});
