import { userInfo } from 'node:os';
import type { AuditEntryInput } from '../audit/audit-entry.js';
import type { Principal } from '../auth/principal.js';

/**
 * The person at the console, as an audit principal: `os:<login name>`. Commands an operator
 * runs by hand (adding accounts, exporting the audit trail) are attributed to that person,
 * not to Ward itself, so the trail says who did it. The name is reduced to characters the
 * audit id format allows; an account with no passwd entry (some containers) becomes
 * `os:uid-<n>` rather than failing the command.
 */
export function consoleUser(): AuditEntryInput['who'] {
  return { id: `os:${loginName()}`, kind: 'person' };
}

function loginName(): string {
  try {
    return userInfo().username.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 60) || 'unknown';
  } catch {
    return typeof process.getuid === 'function' ? `uid-${process.getuid()}` : 'unknown';
  }
}

/** The person at the console as the actor of an administrative change (no Ward roles). */
export function consoleActor(): Principal {
  return { ...consoleUser(), roles: [] };
}
