import type { WardRuntime } from '../main.js';
import type { Principal } from '../auth/principal.js';
import { WardError } from '../shared/ward-error.js';
import { AUDIT_ID_PATTERN } from '../audit/audit-entry.js';

/**
 * A principal named on the command line: a local username, `svc:<service>` for a service
 * identity (its roles and scopes are the union over its live API keys), or `oidc:<id>` for a
 * single sign-on identity as the audit log names it.
 */
export async function resolvePrincipal(rt: WardRuntime, spec: string): Promise<Principal & { disabled?: boolean }> {
  if (spec.startsWith('svc:')) {
    const service = spec.slice(4);
    const keys = (await rt.apiKeys.list()).filter((k) => k.service === service && k.status === 'active');
    if (keys.length === 0) throw new WardError('cli.unknown_principal', `no live API key for service ${JSON.stringify(service)}`);
    return {
      id: spec, kind: 'service',
      roles: [...new Set(keys.flatMap((k) => k.roles))],
      scopes: [...new Set(keys.flatMap((k) => k.scopes))],
    };
  }
  if (spec.startsWith('oidc:')) {
    // A single sign-on identity: its roles come with each token, so give them with --role.
    if (!AUDIT_ID_PATTERN.test(spec)) throw new WardError('cli.unknown_principal', 'an oidc: principal must be an identifier (as shown in the audit log)');
    return { id: spec, kind: 'person', roles: [] };
  }
  const account = await rt.accounts.findByUsername(spec);
  if (!account) throw new WardError('cli.unknown_principal', 'no account with that username');
  return { id: account.id, kind: 'person', roles: account.roles, disabled: account.disabled };
}
