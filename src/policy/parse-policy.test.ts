import { describe, expect, it } from 'vitest';
import { isWardError } from '../shared/ward-error.js';
import { MAX_REPORTED_PROBLEMS, parsePolicy } from './parse-policy.js';
import { KNOWN, policyOf, policyText, rule } from './testing/policy-world.js';

/** The problem lines of the policy.invalid error `text` raises. */
function problemsOf(text: string, known: Parameters<typeof parsePolicy>[1] = KNOWN): string[] {
  try {
    parsePolicy(text, known);
  } catch (e) {
    if (!isWardError(e)) throw e;
    expect(e.code).toBe('policy.invalid');
    return e.message.replace(/^the policy is invalid \(\d+ problems?\): /, '').split(' | ');
  }
  throw new Error('the policy was accepted');
}

const readRule = rule({ id: 'clinician-read', effect: 'permit', roles: ['clinician'], actions: ['patient.read'], purposes: ['TREAT'], relationships: ['care-team'], obligations: { view: 'clinical' } });
const oneRule = (fields: Record<string, unknown>): string[] => problemsOf(policyText([rule(fields)]));

describe('parsePolicy accepts', () => {
  it('a valid policy, keeping version, order and obligations with defaults', () => {
    const p = policyOf([readRule, rule({ id: 'no-marketing', effect: 'deny', roles: ['*'], actions: ['*'], purposes: ['HMARKT'], reason: 'policy.marketing_prohibited' })], '2026-11-29.1');
    expect(p.version).toBe('2026-11-29.1');
    expect(p.rules.map((r) => r.id)).toEqual(['clinician-read', 'no-marketing']);
    expect(p.rules[0]?.obligations).toEqual({ view: 'clinical', deidentify: false, humanReview: false });
    expect(p.rules[1]?.reason).toBe('policy.marketing_prohibited');
    expect(Object.isFrozen(p.rules[0]?.obligations)).toBe(true);
  });
  it('a permit of non-PHI actions without purposes, and any view when no views are known', () => {
    const text = policyText([rule({ id: 'admin-accounts', effect: 'permit', roles: ['admin'], actions: ['account.manage'], obligations: { view: 'anything' } })]);
    expect(parsePolicy(text, { roles: KNOWN.roles }).rules).toHaveLength(1);
  });
});

describe('parsePolicy refuses, naming rule and field', () => {
  it('JSON syntax errors, with line and column', () => {
    const [p] = problemsOf('{\n  "format": "ward.policy.v1",\n  "rules": [\n    {"id": "x",}\n  ]\n}');
    expect(p).toMatch(/^not valid JSON at line 4, column 16/);
  });
  it('a wrong format, a bad version, unknown top-level keys and an empty rule list', () => {
    const problems = problemsOf(JSON.stringify({ format: 'ward.policy.v2', version: 'has space', rulez: [], rules: [] }));
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^format: must be "ward\.policy\.v1"/),
        expect.stringMatching(/^version: must be/),
        expect.stringMatching(/unknown key\(s\) "rulez"/),
        expect.stringMatching(/^rules: must list at least one rule/),
      ]),
    );
  });
  it('a document that is not an object', () => {
    expect(problemsOf('[]')).toEqual(['the policy must be a JSON object']);
  });
  it('unknown keys in a rule and in obligations (strict: a typo must not change access)', () => {
    const problems = problemsOf(policyText([{ ...readRule, purpose: ['TREAT'], obligations: { view: 'clinical', deidentfy: true } }]));
    expect(problems).toEqual([
      'rules[0] (id "clinician-read"): obligations: unknown key(s) "deidentfy"; keys are: view, deidentify, humanReview',
      expect.stringMatching(/^rules\[0\] \(id "clinician-read"\): unknown key\(s\) "purpose"; keys are: id, description/),
    ]);
  });
  it('wrong types, bad ids and a missing description', () => {
    const problems = problemsOf(policyText([{ id: 'Bad_Id', effect: 'allow', roles: 'clinician', actions: [], breakGlass: 'yes' }, 7]));
    expect(problems).toEqual([
      expect.stringMatching(/^rules\[0\] \(id "Bad_Id"\): id: must match/),
      'rules[0] (id "Bad_Id"): description: is required: say why the rule exists',
      'rules[0] (id "Bad_Id"): effect: must be "permit" or "deny"',
      'rules[0] (id "Bad_Id"): roles: must be a list of strings',
      'rules[0] (id "Bad_Id"): actions: must list at least one entry',
      'rules[0] (id "Bad_Id"): breakGlass: must be true or false',
      'rules[1]: a rule must be a JSON object',
    ]);
  });
  it('duplicate ids', () => {
    expect(problemsOf(policyText([readRule, readRule]))).toEqual(['rules[1] (id "clinician-read"): id: "clinician-read" is already the id of rules[0]; ids must be unique']);
  });
  it('unknown roles, listing the known ones', () => {
    expect(oneRule({ id: 'coder-hoperat', effect: 'permit', roles: ['coderr'], actions: ['model.list'] })).toEqual([
      'rules[0] (id "coder-hoperat"): roles: unknown role "coderr"; roles are: admin, privacy-officer, scheduler, intake, prior-auth, coder, billing, clinician, workflow, integration, *',
    ]);
  });
  it('"*" mixed with names, and duplicates', () => {
    expect(oneRule({ id: 'r1', effect: 'permit', roles: ['*', 'admin'], actions: ['model.list', 'model.list'] })).toEqual([
      'rules[0] (id "r1"): roles: "*" already covers every role; list it alone',
      'rules[0] (id "r1"): actions: "model.list" is listed twice',
    ]);
  });
  it('unknown actions and patterns that cover no action', () => {
    const problems = oneRule({ id: 'r1', effect: 'permit', roles: ['admin'], actions: ['patient.reed', 'pt.*', 'account.manage'] });
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^rules\[0\] \(id "r1"\): actions: unknown action "patient\.reed"; actions are: audit\.search, .*, or a pattern such as patient\.\* or \*$/);
    expect(problems[1]).toMatch(/unknown action "pt\.\*"/);
  });
  it('unknown purposes and relationships', () => {
    expect(oneRule({ id: 'r1', effect: 'permit', roles: ['clinician'], actions: ['patient.read'], purposes: ['TREET'], relationships: ['family'] })).toEqual([
      expect.stringMatching(/^rules\[0\] \(id "r1"\): purposes: unknown purpose of use "TREET"; purposes are: TREAT, ETREAT, BTG/),
      'rules[0] (id "r1"): relationships: unknown relationship "family"; relationships are: care-team, assigned, none',
    ]);
  });
  it('relationships on actions that concern no patient', () => {
    expect(oneRule({ id: 'r1', effect: 'permit', roles: ['clinician'], actions: ['patient.search'], purposes: ['TREAT'], relationships: ['care-team'] })).toEqual([
      'rules[0] (id "r1"): relationships: apply only to actions about a patient, and none of patient.search concerns one; remove the field',
    ]);
  });
  it('a PHI permit without purposes (45 CFR 164.502(b))', () => {
    expect(oneRule({ id: 'r1', effect: 'permit', roles: ['clinician'], actions: ['patient.*', 'model.list'] })).toEqual([
      'rules[0] (id "r1"): purposes: a permit covering PHI action(s) patient.search, patient.read, patient.export, patient.erase must list purposes of use (45 CFR 164.502(b) minimum necessary)',
    ]);
  });
  it('obligations on a deny, a deny without reason, a reason on a permit, an engine code as reason', () => {
    expect(oneRule({ id: 'r1', effect: 'deny', roles: ['admin'], actions: ['*'], obligations: { view: 'clinical' } })).toEqual([
      'rules[0] (id "r1"): reason: a deny rule must give a dotted reason code such as policy.marketing_prohibited',
      'rules[0] (id "r1"): obligations: only permit rules carry obligations',
    ]);
    expect(oneRule({ id: 'r1', effect: 'permit', roles: ['admin'], actions: ['policy.read'], reason: 'policy.why' })).toEqual([
      'rules[0] (id "r1"): reason: only deny rules give a reason code; say why a permit exists in "description"',
    ]);
    expect(oneRule({ id: 'r1', effect: 'deny', roles: ['admin'], actions: ['*'], reason: 'policy.no_matching_rule' })).toEqual([
      'rules[0] (id "r1"): reason: "policy.no_matching_rule" is a code of the engine itself; choose a code of your own',
    ]);
    expect(oneRule({ id: 'r1', effect: 'deny', roles: ['admin'], actions: ['*'], reason: 'NoDots' })).toEqual([
      'rules[0] (id "r1"): reason: must be a dotted code such as policy.marketing_prohibited',
    ]);
  });
  it('a view the records layer does not define', () => {
    expect(oneRule({ id: 'r1', effect: 'permit', roles: ['clinician'], actions: ['patient.read'], purposes: ['TREAT'], obligations: { view: 'everything' } })).toEqual([
      'rules[0] (id "r1"): obligations.view: unknown data view "everything"; views are: scheduling, intake, prior-auth, coding, billing, clinical, audit',
    ]);
  });
  it('break-glass rules: permits only, with emergency purposes only, on per-patient actions', () => {
    expect(oneRule({ id: 'r1', effect: 'permit', roles: ['clinician'], actions: ['patient.read', 'patient.search'], purposes: ['ETREAT', 'TREAT'], breakGlass: true })).toEqual([
      'rules[0] (id "r1"): breakGlass: a break-glass rule must list purposes, all of them among ETREAT, BTG',
      'rules[0] (id "r1"): breakGlass: a grant is for one patient, and patient.search concerns none',
    ]);
    expect(oneRule({ id: 'r1', effect: 'deny', roles: ['clinician'], actions: ['patient.read'], purposes: ['BTG'], breakGlass: true, reason: 'policy.x' })).toEqual([
      'rules[0] (id "r1"): breakGlass: only a permit can rest on a break-glass grant; deny with purposes ETREAT/BTG instead',
    ]);
    expect(policyOf([rule({ id: 'r1', effect: 'permit', roles: ['clinician'], actions: ['patient.read'], purposes: ['BTG'], breakGlass: true })]).rules[0]?.breakGlass).toBe(true);
  });
  it(`every problem at once, listing at most ${MAX_REPORTED_PROBLEMS}`, () => {
    const rules = Array.from({ length: 30 }, (_, i) => rule({ id: `r-${i}`, effect: 'permit', roles: ['nobody'], actions: ['model.list'] }));
    let message = '';
    try {
      parsePolicy(policyText(rules), KNOWN);
    } catch (e) {
      message = e instanceof Error ? e.message : '';
    }
    expect(message).toMatch(/^the policy is invalid \(30 problems\):/);
    expect(message.match(/unknown role "nobody"/g)).toHaveLength(MAX_REPORTED_PROBLEMS);
    expect(message).toMatch(/\.\.\. and 10 more$/);
  });
});
