/**
 * Roles Ward knows. People hold person roles; service identities (internal apps, workflows:
 * the "what" that queries PHI) hold service roles, through API keys. What a role may do is
 * not written here but in the policy file (`src/policy`): administrators manage accounts but
 * have no PHI access by default (separation of duties); privacy officers read audit trails
 * and review break-glass access.
 */
export const personRoles = ['admin', 'privacy-officer', 'scheduler', 'intake', 'prior-auth', 'coder', 'billing', 'clinician'] as const;
export const serviceRoles = ['workflow', 'integration'] as const;
export const roles = [...personRoles, ...serviceRoles] as const;
export type PersonRole = (typeof personRoles)[number];
export type ServiceRole = (typeof serviceRoles)[number];
export type Role = (typeof roles)[number];

export function isRole(v: string): v is Role {
  return (roles as readonly string[]).includes(v);
}

export function isPersonRole(v: string): v is PersonRole {
  return (personRoles as readonly string[]).includes(v);
}

export function isServiceRole(v: string): v is ServiceRole {
  return (serviceRoles as readonly string[]).includes(v);
}

/** Roles as stored (a JSON array); names Ward no longer knows are dropped, never granted. */
export function parseRoles(stored: string): Role[] {
  const parsed: unknown = JSON.parse(stored);
  return Array.isArray(parsed) ? parsed.filter((r): r is Role => typeof r === 'string' && isRole(r)) : [];
}
