/**
 * The shipped policy (`data/policy/default-policy.json`) parses, and the principles it exists
 * for hold over the whole matrix of roles x actions x purposes x relationships x grants.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { AccessRequest, Relationship } from './access-request.js';
import type { AccessDecision } from './access-decision.js';
import { actionCatalog, actionCodes } from './action-catalog.js';
import { decide } from './decide.js';
import { decideByScan, explain } from './explain.js';
import { parsePolicy } from './parse-policy.js';
import { purposesOfUse } from './purpose-of-use.js';
import { KNOWN, LATER, EARLIER, NOW, TEST_ROLES } from './testing/policy-world.js';

const text = readFileSync(new URL('../../data/policy/default-policy.json', import.meta.url), 'utf8');
const policy = parsePolicy(text, KNOWN);
const RELS: readonly (Relationship | undefined)[] = ['care-team', 'assigned', 'none', undefined];
type GrantCase = 'no grant' | 'grant' | 'expired grant';
const GRANTS: readonly GrantCase[] = ['no grant', 'grant', 'expired grant'];

function ask(role: string, action: string, purpose: string | undefined, relationship?: Relationship, grantCase: GrantCase = 'no grant'): AccessRequest {
  const patient = actionCatalog[action as keyof typeof actionCatalog]?.patient === 'none' ? undefined : 'pat_1';
  return {
    principal: { id: 'acct_1', kind: role === 'workflow' || role === 'integration' ? 'service' : 'person', roles: [role] },
    action,
    ...(purpose !== undefined ? { purpose } : {}),
    ...(patient !== undefined ? { patient } : {}),
    ...(relationship !== undefined ? { relationship } : {}),
    ...(grantCase !== 'no grant' && purpose !== undefined ? { breakGlass: { id: 'bg_1', patient: 'pat_1', purpose, expiresAt: grantCase === 'grant' ? LATER : EARLIER } } : {}),
    now: NOW,
  };
}

/** Every request of the matrix, for one role. */
function* matrix(role: string): Generator<AccessRequest> {
  for (const action of actionCodes) for (const purpose of [...purposesOfUse, undefined]) for (const rel of RELS) for (const g of GRANTS) yield ask(role, action, purpose, rel, g);
}

const permitsOf = (role: string): { req: AccessRequest; d: Extract<AccessDecision, { effect: 'permit' }> }[] =>
  [...matrix(role)].flatMap((req) => {
    const d = decide(policy, req);
    return d.effect === 'permit' ? [{ req, d }] : [];
  });

describe('the default policy', () => {
  it('parses, with at least 50 rules over the 10 roles', () => {
    expect(policy.version).toMatch(/^\d{4}-\d{2}-\d{2}\.\d+$/);
    expect(policy.rules.length).toBeGreaterThanOrEqual(50);
    const named = new Set(policy.rules.flatMap((r) => r.roles));
    for (const role of TEST_ROLES) expect(named.has(role), role).toBe(true);
  });

  it('gives administrators accounts and the policy, and no PHI action for any purpose', () => {
    expect(decide(policy, ask('admin', 'account.manage', undefined))).toMatchObject({ effect: 'permit', ruleId: 'admin-accounts' });
    expect(decide(policy, ask('admin', 'policy.read', undefined))).toMatchObject({ effect: 'permit' });
    const phiPermits = permitsOf('admin').filter(({ req }) => actionCatalog[req.action as keyof typeof actionCatalog].phi);
    expect(phiPermits.map(({ req }) => `${req.action}/${req.purpose}`)).toEqual([]);
    for (const purpose of purposesOfUse) {
      for (const rel of RELS) expect(decide(policy, ask('admin', 'patient.read', purpose, rel, 'grant')).effect, purpose).toBe('deny');
    }
  });

  it('permits nothing for marketing, research or training, to anyone', () => {
    for (const role of TEST_ROLES) {
      for (const action of actionCodes) {
        for (const [purpose, code] of [['HMARKT', 'policy.marketing_prohibited'], ['HRESCH', 'policy.research_not_offered'], ['TRAIN', 'policy.training_use_prohibited']] as const) {
          expect(decide(policy, ask(role, action, purpose, 'care-team', 'grant')), `${role} ${action} ${purpose}`).toMatchObject({ effect: 'deny', code });
        }
      }
    }
  });

  it('lets clinicians read their own patients, and others only through break-glass', () => {
    expect(decide(policy, ask('clinician', 'patient.read', 'TREAT', 'care-team'))).toMatchObject({ effect: 'permit', ruleId: 'clinician-read', obligations: { view: 'clinical' } });
    expect(decide(policy, ask('clinician', 'patient.read', 'TREAT', 'none'))).toMatchObject({ effect: 'deny', code: 'policy.no_matching_rule' });
    expect(decide(policy, ask('clinician', 'patient.read', 'TREAT', undefined))).toMatchObject({ effect: 'deny', code: 'policy.no_matching_rule' });
    // Without a relationship: open break-glass, then read under the grant.
    expect(decide(policy, ask('clinician', 'break-glass.open', 'ETREAT', 'none'))).toMatchObject({ effect: 'permit', ruleId: 'clinician-break-glass-open' });
    expect(decide(policy, ask('clinician', 'patient.read', 'ETREAT', 'none'))).toMatchObject({ effect: 'deny', code: 'policy.break_glass_required' });
    expect(decide(policy, ask('clinician', 'patient.read', 'BTG', 'none', 'grant'))).toMatchObject({ effect: 'permit', ruleId: 'clinician-emergency-read', breakGlass: 'bg_1' });
    expect(decide(policy, ask('clinician', 'patient.read', 'ETREAT', 'none', 'expired grant'))).toMatchObject({ effect: 'deny', code: 'policy.break_glass_required' });
    // With a relationship: normal access, no break-glass.
    expect(decide(policy, ask('clinician', 'break-glass.open', 'ETREAT', 'care-team'))).toMatchObject({ effect: 'deny', code: 'policy.break_glass_not_needed' });
    expect(decide(policy, ask('clinician', 'patient.read', 'ETREAT', 'assigned'))).toMatchObject({ effect: 'permit', ruleId: 'clinician-emergency-with-relationship' });
    // Emergency access reads; it does not export.
    expect(decide(policy, ask('clinician', 'patient.export', 'ETREAT', 'none', 'grant'))).toMatchObject({ effect: 'deny', code: 'policy.emergency_access_read_only' });
  });

  it('lets only clinicians open break-glass, and only privacy officers review it', () => {
    const openers = TEST_ROLES.filter((role) => [...matrix(role)].some((req) => req.action === 'break-glass.open' && decide(policy, req).effect === 'permit'));
    expect(openers).toEqual(['clinician']);
    const reviewers = TEST_ROLES.filter((role) => [...matrix(role)].some((req) => req.action === 'break-glass.review' && decide(policy, req).effect === 'permit'));
    expect(reviewers).toEqual(['privacy-officer']);
    expect(decide(policy, ask('privacy-officer', 'break-glass.review', 'HCOMPL'))).toMatchObject({ effect: 'permit', obligations: { view: 'audit' } });
    expect(decide(policy, ask('privacy-officer', 'audit.search', 'TREAT'))).toMatchObject({ effect: 'deny' });
  });

  it('lets only a privacy officer erase, for a legal order or the patient\'s request', () => {
    const erasures = TEST_ROLES.flatMap((role) => permitsOf(role).filter(({ req }) => req.action === 'patient.erase').map(({ req }) => `${role}/${req.purpose}`));
    expect([...new Set(erasures)].sort()).toEqual(['privacy-officer/HLEGAL', 'privacy-officer/PATRQT']);
  });

  it('keeps services from approving drafts, exporting or breaking the glass', () => {
    for (const role of ['workflow', 'integration']) {
      const actions = new Set(permitsOf(role).map(({ req }) => req.action));
      for (const a of ['review.decide', 'patient.export', 'patient.erase', 'break-glass.open', 'break-glass.review', 'account.manage']) expect(actions.has(a), `${role} ${a}`).toBe(false);
    }
  });

  it('reads patient records only through a data view, and reviews clinical drafts by a person', () => {
    for (const role of TEST_ROLES) {
      for (const { req, d } of permitsOf(role)) {
        const where = `${role} ${req.action} ${req.purpose} -> ${d.ruleId}`;
        if (req.action === 'patient.read') expect(d.obligations.view, where).toBeDefined();
        // Anything a model drafts from the clinical view could inform a clinical decision.
        if ((req.action === 'model.chat' || req.action === 'workflow.run') && d.obligations.view === 'clinical' && !d.obligations.deidentify) {
          expect(d.obligations.humanReview, where).toBe(true);
        }
      }
    }
  });

  it('decides every cell of the matrix as the rule-by-rule scan of explain does', () => {
    let cells = 0;
    const disagreements: string[] = [];
    for (const role of [...TEST_ROLES, 'visitor']) {
      for (const req of matrix(role)) {
        // decideByScan is explain without the trace: same verdict per rule, file order.
        const [fast, scan] = [JSON.stringify(decide(policy, req)), JSON.stringify(decideByScan(policy, req))];
        if (fast !== scan) disagreements.push(`${JSON.stringify(req)}: ${fast} vs ${scan}`);
        cells++;
      }
    }
    expect(disagreements.slice(0, 5)).toEqual([]);
    expect(cells).toBe(11 * actionCodes.length * (purposesOfUse.length + 1) * RELS.length * GRANTS.length);
  });

  it('explains a break-glass read for `ward policy explain`', () => {
    const { decision, trace } = explain(policy, ask('clinician', 'patient.read', 'ETREAT', 'none', 'grant'));
    expect(decision).toMatchObject({ effect: 'permit', ruleId: 'clinician-emergency-read' });
    expect(trace).toHaveLength(policy.rules.length);
    expect(trace.find((t) => t.ruleId === 'clinician-read')).toEqual({ ruleId: 'clinician-read', effect: 'permit', matched: false, mismatch: 'purpose' });
    expect(trace.find((t) => t.ruleId === 'clinician-emergency-with-relationship')).toEqual({ ruleId: 'clinician-emergency-with-relationship', effect: 'permit', matched: false, mismatch: 'relationship' });
  });
});
