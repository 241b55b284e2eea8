import type { PrincipalKind } from '../audit/audit-entry.js';
import type { Role } from './roles.js';

/** How a principal proved who it is, recorded with every access decision. */
export type AuthenticationMethod = 'session' | 'api-key' | 'oidc' | 'console' | 'system';

/** Who (or what) is asking: the result of authentication, the input to every decision. */
export interface Principal {
  id: string;
  kind: PrincipalKind;
  roles: readonly Role[];
  /** Set while a one-time password has not been replaced: only the password change is allowed. */
  mustChangePassword?: boolean;
  /**
   * Set for a person who has no confirmed second factor yet: only enrolling one (and the
   * password change, sign-out) is allowed. Every person account needs one, because every
   * person role reaches PHI or manages the accounts that do (45 CFR 164.312(d)).
   */
  mfaEnrollmentRequired?: boolean;
  authn?: AuthenticationMethod;
  /** The credential used (an API key id), for the audit trail; never the secret. */
  credentialId?: string;
  /** Action scopes of an API key (`model.*`); absent means limited by policy alone. */
  scopes?: readonly string[];
}
