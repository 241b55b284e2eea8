import type { PrincipalKind } from '../audit/audit-entry.js';
import type { Role } from './roles.js';

/** Who (or what) is asking: the result of authentication, the input to every decision. */
export interface Principal {
  id: string;
  kind: PrincipalKind;
  roles: readonly Role[];
  /** Set while a one-time password has not been replaced: only the password change is allowed. */
  mustChangePassword?: boolean;
}
