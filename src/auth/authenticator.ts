/**
 * One front door for bearer credentials (45 CFR 164.312(d), person or entity authentication):
 * a session token (`wss_…`), an API key of a service identity (`wak_…`) or a JWT from the
 * configured OIDC issuer. The credential's shape picks the verifier; nothing else about the
 * token is trusted. Every refusal is audited with a reason code (never the token), and the
 * caller sees one answer for all of them.
 */
import type { AuditLog } from '../audit/audit-log.js';
import type { AuditContext } from '../audit/audit-entry-of.js';
import { auditEntryOf } from '../audit/audit-entry-of.js';
import type { AuthenticationMethod, Principal } from './principal.js';

export type CredentialCheck = { ok: true; principal: Principal } | { ok: false; reason: string };

/**
 * What the connection proved about the caller besides the bearer credential. A credential
 * bound to a client certificate (RFC 8705 section 3) is accepted only with that certificate.
 */
export interface CredentialChannel {
  /** SHA-256 (lower-case hex) of the client certificate the TLS layer verified, if any. */
  clientCertificateSha256?: string;
}

export interface CredentialVerifier {
  verify(token: string, channel: CredentialChannel): Promise<CredentialCheck>;
}

export interface AuthenticatorParts {
  sessions: CredentialVerifier;
  apiKeys: CredentialVerifier;
  /** Absent when no OIDC issuer is configured: JWTs are then refused. */
  oidc?: CredentialVerifier;
}

export type Authentication = { ok: true; principal: Principal } | { ok: false; reason: string; method: AuthenticationMethod | 'none' };

/** Anyone who has not (yet) proved who they are, as the audit log records them. */
export const UNAUTHENTICATED = { id: 'unauthenticated', kind: 'person' } as const;

const MAX_TOKEN_CHARS = 16_384;

export function methodOf(token: string): AuthenticationMethod | 'none' {
  if (token.startsWith('wss_')) return 'session';
  if (token.startsWith('wak_')) return 'api-key';
  if (token.split('.').length === 3) return 'oidc';
  return 'none';
}

export class Authenticator {
  constructor(
    private readonly parts: AuthenticatorParts,
    private readonly audit: AuditLog,
  ) {}

  /** Resolve a bearer credential; refusals (including a missing one) are audited. */
  async authenticate(token: string | undefined, context: AuditContext = {}, channel: CredentialChannel = {}): Promise<Authentication> {
    const result = await this.check(token, channel);
    if (!result.ok) {
      await this.audit.append(auditEntryOf(UNAUTHENTICATED, 'auth.authenticate', 'denied', { reason: result.reason, details: { method: result.method } }, context));
    }
    return result;
  }

  private async check(token: string | undefined, channel: CredentialChannel): Promise<Authentication> {
    if (token === undefined || token === '') return { ok: false, reason: 'auth.credential_missing', method: 'none' };
    if (token.length > MAX_TOKEN_CHARS) return { ok: false, reason: 'auth.token_too_large', method: 'none' };
    const method = methodOf(token);
    const verifier = method === 'session' ? this.parts.sessions : method === 'api-key' ? this.parts.apiKeys : method === 'oidc' ? this.parts.oidc : undefined;
    if (verifier === undefined) return { ok: false, reason: method === 'oidc' ? 'auth.oidc_not_configured' : 'auth.credential_unrecognized', method };
    const r = await verifier.verify(token, channel);
    // The verifier that accepted the credential names the method; the shape that chose it agrees.
    return r.ok ? { ok: true, principal: r.principal } : { ok: false, reason: r.reason, method };
  }
}
