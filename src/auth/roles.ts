/**
 * Roles Ward knows. Administrators manage the system and accounts but have no PHI access by
 * default (separation of duties); privacy officers read audit trails.
 */
export const roles = ['admin', 'privacy-officer', 'scheduler', 'intake', 'prior-auth', 'coder', 'clinician'] as const;
export type Role = (typeof roles)[number];

export function isRole(v: string): v is Role {
  return (roles as readonly string[]).includes(v);
}

/** Roles as stored (a JSON array); names Ward no longer knows are dropped, never granted. */
export function parseRoles(stored: string): Role[] {
  const parsed: unknown = JSON.parse(stored);
  return Array.isArray(parsed) ? parsed.filter((r): r is Role => typeof r === 'string' && isRole(r)) : [];
}
