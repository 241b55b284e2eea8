/**
 * The access hook every route passes through (see `route-access.ts`): resolve the bearer
 * credential (Authorization header, or the session cookie for the browser console) to a
 * principal, then, for `policy` routes, ask access control with the stated purpose of use and
 * the patient concerned. Unknown, expired, revoked and malformed credentials all get the same
 * 401; every refusal is audited before the answer leaves.
 */
import { TLSSocket } from 'node:tls';
import type { FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { Authenticator } from '../auth/authenticator.js';
import { UNAUTHENTICATED } from '../auth/authenticator.js';
import type { AccessControl } from '../auth/access-control.js';
import type { Principal } from '../auth/principal.js';
import type { AuditLog } from '../audit/audit-log.js';
import { auditEntryOf } from '../audit/audit-entry-of.js';
import { WardError } from '../shared/ward-error.js';
import { auditContextOf } from './http-context.js';
import { certificateSha256 } from './tls-server-options.js';
import { PURPOSE_HEADER } from './route-access.js';
import type { RouteAccess } from './route-access.js';

const SESSION_COOKIE = /(?:^|;\s*)ward_session=([A-Za-z0-9_-]+)/;
/** RFC 6750 section 2.1: `Bearer 1*SP b64token`; anything else (other schemes, stray characters) is no credential. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

export function tokenOf(req: FastifyRequest): string | undefined {
  const auth = req.headers.authorization;
  if (typeof auth === 'string') return BEARER.exec(auth)?.[1] ?? '';
  const cookie = req.headers.cookie;
  if (typeof cookie === 'string') return SESSION_COOKIE.exec(cookie)?.[1];
  return undefined;
}

/**
 * The client certificate of the connection, as its SHA-256, when the TLS layer verified it
 * against the configured client CA (`socket.authorized`); a certificate that failed
 * verification (possible with `clientCertificates: optional`) counts as none.
 */
export function verifiedClientCertificateOf(req: FastifyRequest): string | undefined {
  const socket = req.raw.socket;
  if (!(socket instanceof TLSSocket) || !socket.authorized) return undefined;
  const peer = socket.getPeerX509Certificate();
  return peer === undefined ? undefined : certificateSha256(peer);
}

/** A state-changing request whose Origin (or Sec-Fetch-Site) says another site sent it. */
function crossSite(req: FastifyRequest): boolean {
  if (req.method === 'GET' || req.method === 'HEAD') return false;
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') return true;
  const origin = req.headers.origin;
  if (origin === undefined) return false;
  try {
    return new URL(origin).host !== req.headers.host;
  } catch {
    return true;
  }
}

/** The stated purpose of use; a repeated header is ambiguous and refused. */
export function purposeOf(req: FastifyRequest): string | undefined {
  const v = req.headers[PURPOSE_HEADER];
  if (Array.isArray(v)) throw new WardError('request.invalid', `send ${PURPOSE_HEADER} once`, { status: 400 });
  return v === undefined || v === '' ? undefined : v.trim();
}

export function accessHook(deps: { authenticator: Authenticator; access: AccessControl; audit: AuditLog }): preHandlerAsyncHookHandler {
  /** Self-service refusals are access decisions too: audited before the 403 leaves. */
  async function refuse(req: FastifyRequest, principal: Principal, code: `${string}.${string}`, message: string): Promise<never> {
    await deps.audit.append(auditEntryOf(principal, 'access.decision', 'denied', { reason: code, details: { route: 'self' } }, auditContextOf(req)));
    throw new WardError(code, message, { status: 403 });
  }

  return async function checkAccess(req: FastifyRequest): Promise<void> {
    if (req.is404) return;
    const access: RouteAccess | undefined = req.routeOptions.config.access;
    // Unreachable for routes built through buildServer (it refuses undeclared routes); kept so
    // a route registered some other way fails closed.
    if (access === undefined) throw new WardError('policy.route_undeclared', 'this route declares no access rule', { status: 403 });
    if (access.kind === 'public') return;
    const token = tokenOf(req);
    if (req.headers.authorization === undefined && token !== undefined && crossSite(req)) {
      // A cookie rides along on requests other sites trigger; SameSite=Strict stops most, a
      // sibling subdomain is still "same site". State changes with the cookie must come from
      // this origin (OWASP CSRF: verify the Origin header).
      await deps.audit.append(auditEntryOf(UNAUTHENTICATED, 'auth.authenticate', 'denied', { reason: 'auth.cross_origin', details: { method: 'session' } }, auditContextOf(req)));
      throw new WardError('auth.cross_origin', 'a request carrying the session cookie must come from this origin', { status: 403 });
    }
    const clientCertificateSha256 = verifiedClientCertificateOf(req);
    const authn = await deps.authenticator.authenticate(token, auditContextOf(req), clientCertificateSha256 !== undefined ? { clientCertificateSha256 } : {});
    if (!authn.ok) throw new WardError('auth.unauthenticated', 'sign in or present a valid credential', { status: 401 });
    const principal = authn.principal;
    req.principal = principal;
    if (principal.authn === 'session') req.sessionToken = token;
    if (access.kind === 'self') {
      if (access.sessionOnly && principal.authn !== 'session') await refuse(req, principal, 'auth.session_required', 'this route is for people signed in with a session');
      if (!access.pending && principal.mustChangePassword) await refuse(req, principal, 'auth.password_change_required', 'change the one-time password first');
      if (!access.pending && principal.mfaEnrollmentRequired) await refuse(req, principal, 'auth.mfa_enrollment_required', 'enroll a second factor (TOTP) first');
      return;
    }
    const patient = access.patient?.(req);
    const purpose = purposeOf(req);
    req.permit = await deps.access.check(
      { principal, action: access.action, ...(purpose !== undefined ? { purpose } : {}), ...(patient !== undefined ? { patient } : {}) },
      auditContextOf(req),
    );
  };
}
