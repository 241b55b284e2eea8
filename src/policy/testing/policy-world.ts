/**
 * Test support (imported by *.test.ts only): the roles Ward knows (as `src/auth/roles.ts`
 * defines them; policy may not import auth), a policy built from rule objects, and requests
 * with sensible defaults.
 */
import type { AccessRequest } from '../access-request.js';
import type { CompiledPolicy } from '../compiled-policy.js';
import { DATA_VIEW_NAMES } from '../data-views.js';
import { parsePolicy } from '../parse-policy.js';

export const TEST_ROLES = ['admin', 'privacy-officer', 'scheduler', 'intake', 'prior-auth', 'coder', 'billing', 'clinician', 'workflow', 'integration'] as const;

export const KNOWN = { roles: TEST_ROLES, views: DATA_VIEW_NAMES };

export const NOW = '2026-11-29T10:00:00.000Z';
export const LATER = '2026-11-29T14:00:00.000Z';
export const EARLIER = '2026-11-29T06:00:00.000Z';

/** A rule with a description filled in, for brevity. */
export function rule(fields: Record<string, unknown>): Record<string, unknown> {
  return { description: 'test rule', ...fields };
}

export function policyText(rules: readonly unknown[], version = 'test.1'): string {
  return JSON.stringify({ format: 'ward.policy.v1', version, rules });
}

export function policyOf(rules: readonly unknown[], version = 'test.1'): CompiledPolicy {
  return parsePolicy(policyText(rules, version), KNOWN);
}

export function request(fields: Partial<AccessRequest> & { roles?: readonly string[] } = {}): AccessRequest {
  const { roles, ...rest } = fields;
  return {
    principal: { id: 'acct_1', kind: 'person', roles: roles ?? ['clinician'] },
    action: 'patient.read',
    purpose: 'TREAT',
    patient: 'pat_1',
    relationship: 'care-team',
    now: NOW,
    ...rest,
  };
}

export function grant(fields: Partial<{ id: string; patient: string; purpose: string; expiresAt: string }> = {}): { id: string; patient: string; purpose: string; expiresAt: string } {
  return { id: 'bg_1', patient: 'pat_1', purpose: 'ETREAT', expiresAt: LATER, ...fields };
}
