/**
 * Authentication for routes: a preHandler that resolves the request's bearer token (header
 * or session cookie) to a Principal, or answers 401. Unknown, expired, idle, revoked tokens
 * and disabled accounts all look the same to the caller.
 */
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { SessionService } from '../auth/session-service.js';
import type { Role } from '../auth/roles.js';
import type { AuditLog } from '../audit/audit-log.js';
import { auditEntryOf } from '../audit/audit-entry-of.js';
import { WardError } from '../shared/ward-error.js';
import { auditContextOf } from './http-context.js';
import './http-context.js';

export function tokenOf(req: FastifyRequest): string | undefined {
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && auth.startsWith('Bearer ')) return auth.slice(7).trim();
  const cookie = req.headers.cookie;
  if (typeof cookie === 'string') {
    const m = /(?:^|;\s*)ward_session=([A-Za-z0-9_-]+)/.exec(cookie);
    if (m?.[1]) return m[1];
  }
  return undefined;
}

export interface AuthenticateOptions {
  sessions: SessionService;
  /** Allow a principal whose one-time password is not yet changed (only the password route). */
  allowPasswordChangePending?: boolean;
}

export function authenticate(options: AuthenticateOptions): preHandlerAsyncHookHandler {
  return async function authenticateRequest(req: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const token = tokenOf(req);
    const principal = token === undefined ? undefined : await options.sessions.authenticate(token);
    if (principal === undefined || token === undefined) {
      throw new WardError('auth.unauthenticated', 'sign in first', { status: 401 });
    }
    if (principal.mustChangePassword && !options.allowPasswordChangePending) {
      throw new WardError('auth.password_change_required', 'change the one-time password first', { status: 403 });
    }
    req.principal = principal;
    req.sessionToken = token;
  };
}

/** Deny (403, audited) unless the principal holds one of `roles`. */
export async function requireRole(req: FastifyRequest, audit: AuditLog, roles: readonly Role[], action: string): Promise<void> {
  const p = req.principal;
  if (p === undefined) throw new WardError('auth.unauthenticated', 'sign in first', { status: 401 });
  if (p.roles.some((r) => roles.includes(r))) return;
  await audit.append(auditEntryOf(p, action, 'denied', { reason: 'policy.denied' }, auditContextOf(req)));
  throw new WardError('policy.denied', 'your role does not permit this', { status: 403 });
}
