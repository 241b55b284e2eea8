import { describe, expect, it } from 'vitest';
import type { AccessDecision } from './access-decision.js';
import { decide } from './decide.js';
import { EARLIER, grant, policyOf, request, rule } from './testing/policy-world.js';

const policy = policyOf([
  rule({ id: 'no-marketing', effect: 'deny', roles: ['*'], actions: ['*'], purposes: ['HMARKT'], reason: 'policy.marketing_prohibited' }),
  rule({ id: 'no-sysadmin-phi', effect: 'deny', roles: ['admin'], actions: ['patient.*'], reason: 'policy.admin_no_phi' }),
  rule({ id: 'clinician-read', effect: 'permit', roles: ['clinician'], actions: ['patient.read', 'patient.search'], purposes: ['TREAT'], relationships: ['care-team', 'assigned'], obligations: { view: 'clinical' } }),
  rule({ id: 'clinician-read-later', effect: 'permit', roles: ['clinician'], actions: ['patient.*'], purposes: ['TREAT'], relationships: ['care-team'], obligations: { view: 'intake' } }),
  rule({ id: 'clinician-chat', effect: 'permit', roles: ['clinician'], actions: ['model.chat'], purposes: ['TREAT'], relationships: ['care-team'], obligations: { view: 'clinical', humanReview: true } }),
  rule({ id: 'coder-read', effect: 'permit', roles: ['coder'], actions: ['patient.read'], purposes: ['HPAYMT'], relationships: ['assigned'], obligations: { view: 'coding', deidentify: true } }),
  rule({ id: 'emergency-read', effect: 'permit', roles: ['clinician'], actions: ['patient.read'], purposes: ['ETREAT', 'BTG'], breakGlass: true, obligations: { view: 'clinical' } }),
  rule({ id: 'everyone-models', effect: 'permit', roles: ['*'], actions: ['model.list'] }),
  rule({ id: 'admin-accounts', effect: 'permit', roles: ['admin'], actions: ['account.manage'] }),
  rule({ id: 'no-export-for-services', effect: 'deny', roles: ['workflow'], actions: ['patient.export'], relationships: ['none'], reason: 'policy.export_people_only' }),
  rule({ id: 'workflow-export', effect: 'permit', roles: ['workflow'], actions: ['patient.export'], purposes: ['TREAT'] }),
  rule({ id: 'coder-read-treat', effect: 'permit', roles: ['coder'], actions: ['patient.read'], purposes: ['TREAT'], relationships: ['assigned'], obligations: { view: 'coding' } }),
]);

function summary(d: AccessDecision): string {
  return d.effect === 'permit' ? `permit ${d.ruleId}${d.breakGlass !== undefined ? ` grant ${d.breakGlass}` : ''}` : `deny ${d.code}${d.ruleId !== undefined ? ` ${d.ruleId}` : ''}`;
}

describe('decide: refusals before the rules, in order', () => {
  it.each([
    ['unknown action', request({ action: 'patient.steal' }), 'deny policy.unknown_action'],
    ['pattern as action', request({ action: 'patient.*' }), 'deny policy.unknown_action'],
    ['PHI action without purpose', request({ purpose: undefined }), 'deny policy.purpose_required'],
    ['empty purpose counts as none', request({ purpose: '' }), 'deny policy.purpose_required'],
    ['unknown purpose', request({ purpose: 'TREATMENT' }), 'deny policy.unknown_purpose'],
    ['unknown purpose on a non-PHI action', request({ action: 'model.list', purpose: 'NOPE' }), 'deny policy.unknown_purpose'],
    ['missing patient', request({ patient: undefined }), 'deny policy.patient_required'],
    ['purpose checked before patient', request({ patient: undefined, purpose: undefined }), 'deny policy.purpose_required'],
    ['scopes not covering the action', request({ principal: { id: 'k1', kind: 'service', roles: ['clinician'], scopes: ['model.*'] } }), 'deny policy.scope_missing'],
    ['empty scopes cover nothing', request({ principal: { id: 'k1', kind: 'service', roles: ['clinician'], scopes: [] } }), 'deny policy.scope_missing'],
  ])('%s', (_name, req, expected) => {
    expect(summary(decide(policy, req))).toBe(expected);
  });
  it('a non-PHI action needs no purpose and no patient', () => {
    expect(summary(decide(policy, request({ action: 'model.list', purpose: undefined, patient: undefined })))).toBe('permit everyone-models');
  });
  it('scopes that cover the action let the rules decide', () => {
    const scoped = request({ principal: { id: 'k1', kind: 'service', roles: ['clinician'], scopes: ['model.*', 'patient.*'] } });
    expect(summary(decide(policy, scoped))).toBe('permit clinician-read');
  });
});

describe('decide: rules', () => {
  it('permits with the first matching permit in file order and its obligations', () => {
    expect(decide(policy, request())).toEqual({ effect: 'permit', policyVersion: 'test.1', ruleId: 'clinician-read', obligations: { view: 'clinical', deidentify: false, humanReview: false } });
    expect(decide(policy, request({ action: 'patient.export' }))).toMatchObject({ effect: 'permit', ruleId: 'clinician-read-later', obligations: { view: 'intake' } });
    expect(decide(policy, request({ roles: ['coder'], purpose: 'HPAYMT', relationship: 'assigned' }))).toMatchObject({ obligations: { view: 'coding', deidentify: true, humanReview: false } });
  });
  it('deny overrides a permit that comes first', () => {
    const d = decide(policy, request({ purpose: 'HMARKT' }));
    expect(d).toEqual({ effect: 'deny', policyVersion: 'test.1', ruleId: 'no-marketing', code: 'policy.marketing_prohibited', reasons: ['rule no-marketing denies role(s) clinician to patient.read for purpose HMARKT with relationship care-team (policy.marketing_prohibited)'] });
  });
  it('deny overrides across roles: a second role cannot lift a deny on the first', () => {
    expect(summary(decide(policy, request({ roles: ['clinician', 'admin'] })))).toBe('deny policy.admin_no_phi no-sysadmin-phi');
    expect(summary(decide(policy, request({ roles: ['admin', 'clinician'] })))).toBe('deny policy.admin_no_phi no-sysadmin-phi');
  });
  it('the first matching deny in file order gives the code when several match', () => {
    expect(summary(decide(policy, request({ roles: ['admin'], purpose: 'HMARKT' })))).toBe('deny policy.marketing_prohibited no-marketing');
  });
  it('with several roles the earliest permit in file order decides, whichever role holds it', () => {
    // coder-read-treat matches too, later in the file: the clinician rule wins in either role order.
    expect(summary(decide(policy, request({ roles: ['coder', 'clinician'], purpose: 'TREAT', relationship: 'assigned' })))).toBe('permit clinician-read');
    expect(summary(decide(policy, request({ roles: ['clinician', 'coder'], purpose: 'TREAT', relationship: 'assigned' })))).toBe('permit clinician-read');
    expect(summary(decide(policy, request({ roles: ['coder'], purpose: 'TREAT', relationship: 'assigned' })))).toBe('permit coder-read-treat');
    expect(summary(decide(policy, request({ roles: ['clinician', 'coder'], purpose: 'HPAYMT', relationship: 'assigned' })))).toBe('permit coder-read');
  });
  it('default deny, with a reason naming roles, action, purpose and relationship', () => {
    const d = decide(policy, request({ roles: ['coder'], relationship: 'none' }));
    expect(d).toEqual({ effect: 'deny', policyVersion: 'test.1', code: 'policy.no_matching_rule', reasons: ['no rule permits role(s) coder to patient.read for purpose TREAT with relationship none'] });
    expect(summary(decide(policy, request({ roles: [] })))).toBe('deny policy.no_matching_rule');
  });
  it('"*" rules reach principals with no roles and with roles no rule names', () => {
    expect(summary(decide(policy, request({ roles: [], action: 'model.list' })))).toBe('permit everyone-models');
    expect(summary(decide(policy, request({ roles: ['visitor'], action: 'model.list' })))).toBe('permit everyone-models');
    expect(summary(decide(policy, request({ roles: ['visitor'], purpose: 'HMARKT' })))).toBe('deny policy.marketing_prohibited no-marketing');
  });
  it('a rule without purposes matches any purpose and none', () => {
    expect(summary(decide(policy, request({ roles: ['admin'], action: 'account.manage', purpose: undefined, patient: undefined })))).toBe('permit admin-accounts');
    expect(summary(decide(policy, request({ roles: ['admin'], action: 'account.manage', purpose: 'HOPERAT' })))).toBe('permit admin-accounts');
  });
  it('a rule with purposes does not match a request without one', () => {
    const p = policyOf([rule({ id: 'admin-policy-ops', effect: 'permit', roles: ['admin'], actions: ['policy.read'], purposes: ['HOPERAT'] })]);
    expect(summary(decide(p, request({ roles: ['admin'], action: 'policy.read', purpose: undefined })))).toBe('deny policy.no_matching_rule');
    expect(summary(decide(p, request({ roles: ['admin'], action: 'policy.read', purpose: 'HOPERAT' })))).toBe('permit admin-policy-ops');
  });
});

describe('decide: relationships', () => {
  it('a named patient without a stated relationship counts as none', () => {
    expect(summary(decide(policy, request({ relationship: undefined })))).toBe('deny policy.no_matching_rule');
  });
  it('relationships do not apply when the action concerns no patient', () => {
    expect(summary(decide(policy, request({ action: 'patient.search', patient: undefined, relationship: 'none' })))).toBe('permit clinician-read');
  });
  it('a patientless request of an optional-patient action has no relationship: leaving the patient out never widens access', () => {
    expect(summary(decide(policy, request({ action: 'model.chat', patient: undefined, relationship: undefined })))).toBe('deny policy.no_matching_rule');
    expect(summary(decide(policy, request({ action: 'model.chat', patient: undefined, relationship: 'care-team' })))).toBe('deny policy.no_matching_rule');
    expect(summary(decide(policy, request({ action: 'model.chat', relationship: 'none' })))).toBe('deny policy.no_matching_rule');
    expect(summary(decide(policy, request({ action: 'model.chat', relationship: 'care-team' })))).toBe('permit clinician-chat');
  });
  it('a deny restricted to a relationship applies only to it', () => {
    const svc = { roles: ['workflow'], action: 'patient.export' };
    expect(summary(decide(policy, request({ ...svc, relationship: 'none' })))).toBe('deny policy.export_people_only no-export-for-services');
    expect(summary(decide(policy, request({ ...svc, relationship: 'assigned' })))).toBe('permit workflow-export');
  });
});

describe('decide: break-glass (45 CFR 164.312(a)(2)(ii))', () => {
  const emergency = (fields: Parameters<typeof request>[0] = {}): ReturnType<typeof request> => request({ purpose: 'ETREAT', relationship: 'none', ...fields });
  it('permits under an active grant for this patient and purpose, carrying the grant id', () => {
    expect(decide(policy, emergency({ breakGlass: grant() }))).toEqual({
      effect: 'permit', policyVersion: 'test.1', ruleId: 'emergency-read', obligations: { view: 'clinical', deidentify: false, humanReview: false }, breakGlass: 'bg_1',
    });
  });
  it('asks for break-glass when no grant is open', () => {
    const d = decide(policy, emergency());
    expect(summary(d)).toBe('deny policy.break_glass_required emergency-read');
    expect(d.effect === 'deny' ? d.reasons[0] : '').toMatch(/^rule emergency-read permits patient\.read for purpose ETREAT only under an active break-glass grant/);
  });
  it.each([
    ['expired', grant({ expiresAt: EARLIER })],
    ['expiring exactly now', grant({ expiresAt: '2026-11-29T10:00:00.000Z' })],
    ['for another patient', grant({ patient: 'pat_2' })],
    ['for another purpose', grant({ purpose: 'BTG' })],
    ['with an unreadable expiry', grant({ expiresAt: 'soon' })],
  ])('refuses a grant %s', (_name, g) => {
    expect(summary(decide(policy, emergency({ breakGlass: g })))).toBe('deny policy.break_glass_required emergency-read');
  });
  it('fails closed on an unreadable now', () => {
    expect(summary(decide(policy, emergency({ breakGlass: grant(), now: 'not a time' })))).toBe('deny policy.break_glass_required emergency-read');
  });
  it('compares instants, not strings (offsets)', () => {
    expect(summary(decide(policy, emergency({ breakGlass: grant({ expiresAt: '2026-11-29T11:00:00+02:00' }) })))).toBe('deny policy.break_glass_required emergency-read');
    expect(summary(decide(policy, emergency({ breakGlass: grant({ expiresAt: '2026-11-29T07:00:00-04:00' }) })))).toBe('permit emergency-read grant bg_1');
  });
  it('a normal permit needs no grant and names none, even when one is open', () => {
    expect(summary(decide(policy, request({ breakGlass: grant({ purpose: 'TREAT' }) })))).toBe('permit clinician-read');
  });
  it('a deny still overrides a break-glass permit', () => {
    const p = policyOf([
      rule({ id: 'no-btg-admin', effect: 'deny', roles: ['admin'], actions: ['*'], purposes: ['BTG'], reason: 'policy.no' }),
      rule({ id: 'btg', effect: 'permit', roles: ['*'], actions: ['patient.read'], purposes: ['BTG'], breakGlass: true }),
    ]);
    const req = request({ roles: ['admin'], purpose: 'BTG', breakGlass: grant({ purpose: 'BTG' }) });
    expect(summary(decide(p, req))).toBe('deny policy.no no-btg-admin');
    expect(summary(decide(p, { ...req, principal: { ...req.principal, roles: ['clinician'] } }))).toBe('permit btg grant bg_1');
  });
});

describe('decide: reasons carry codes, never caller text', () => {
  it('does not echo a malformed purpose or action', () => {
    const d = decide(policy, request({ purpose: 'John Smith DOB 1/2/1950' }));
    expect(d.effect === 'deny' ? d.reasons.join(' ') : '').not.toMatch(/Smith|1950/);
    const a = decide(policy, request({ action: 'patient.read for John Smith' }));
    expect(a.effect === 'deny' ? a.reasons.join(' ') : '').not.toMatch(/Smith/);
  });
  it('never names the patient', () => {
    for (const req of [request({ roles: ['coder'] }), request({ purpose: 'HMARKT' }), request({ purpose: 'ETREAT' })]) {
      const d = decide(policy, req);
      expect(d.effect).toBe('deny');
      expect(JSON.stringify(d)).not.toContain('pat_1');
    }
  });
});
