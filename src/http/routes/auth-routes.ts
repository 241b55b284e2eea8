/**
 * Sign-in, sign-out, password change, the second factor (TOTP, RFC 6238) and "who am I".
 * Sessions travel as a bearer token or an HttpOnly, Secure, SameSite=Strict cookie.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { AccountService } from '../../auth/account-service.js';
import type { SessionService } from '../../auth/session-service.js';
import type { MfaService } from '../../auth/mfa-service.js';
import { WardError } from '../../shared/ward-error.js';
import { auditContextOf } from '../http-context.js';
import { parseInput } from '../parse-input.js';

const totpCode = z.string().regex(/^\d{6}$/);
const loginBody = z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(256), totp: totpCode.optional() }).strict();
const passwordBody = z.object({ currentPassword: z.string().min(1).max(256), newPassword: z.string().min(1).max(512) }).strict();
const confirmBody = z.object({ code: totpCode }).strict();

function sessionCookie(token: string, maxAgeSeconds: number): string {
  return `ward_session=${token}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=${maxAgeSeconds}`;
}

export const authRoutes: FastifyPluginAsync<{ accounts: AccountService; sessions: SessionService; mfa: MfaService }> = async (app, opts) => {
  app.post('/v1/auth/login', { config: { access: { kind: 'public' } } }, async (req, reply) => {
    const body = parseInput(loginBody, req.body);
    const s = await opts.sessions.login(body.username, body.password, { ...(body.totp !== undefined ? { totp: body.totp } : {}), client: req.ip }, auditContextOf(req));
    void reply.header('set-cookie', sessionCookie(s.token, s.maxAgeSeconds));
    return {
      token: s.token, expiresAt: s.expiresAt, roles: s.principal.roles,
      mustChangePassword: s.principal.mustChangePassword ?? false,
      mfaEnrollmentRequired: s.principal.mfaEnrollmentRequired ?? false,
    };
  });

  app.post('/v1/auth/logout', { config: { access: { kind: 'self', pending: true, sessionOnly: true } } }, async (req, reply) => {
    await opts.sessions.logout(req.sessionToken as string, req.principal!, auditContextOf(req));
    void reply.header('set-cookie', sessionCookie('', 0));
    return reply.status(204).send();
  });

  app.post('/v1/auth/password', { config: { access: { kind: 'self', pending: true, sessionOnly: true } } }, async (req, reply) => {
    const body = parseInput(passwordBody, req.body);
    // Every session of the account (this one included) ends with the old password, in the
    // same transaction as the change; the caller signs in again.
    await opts.accounts.changePassword(req.principal!.id, body.currentPassword, body.newPassword, auditContextOf(req));
    void reply.header('set-cookie', sessionCookie('', 0));
    return reply.status(204).send();
  });

  // Enrollment: the secret is shown once, to the signed-in person, over this response only.
  app.post('/v1/auth/mfa/totp', { config: { access: { kind: 'self', pending: true, sessionOnly: true } } }, async (req) => {
    const p = req.principal!;
    if (p.mustChangePassword) throw new WardError('auth.password_change_required', 'change the one-time password first', { status: 403 });
    const account = await opts.accounts.findById(p.id);
    if (!account) throw new WardError('auth.unauthenticated', 'sign in first', { status: 401 });
    const { secret, uri } = await opts.mfa.beginTotp(p.id, account.username, auditContextOf(req));
    return { secret, uri, digits: 6, period: 30, algorithm: 'SHA1' };
  });

  // Confirming ends every session of the account (they were opened without the factor).
  app.post('/v1/auth/mfa/totp/confirm', { config: { access: { kind: 'self', pending: true, sessionOnly: true } } }, async (req, reply) => {
    const body = parseInput(confirmBody, req.body);
    await opts.mfa.confirmTotp(req.principal!.id, body.code, auditContextOf(req));
    void reply.header('set-cookie', sessionCookie('', 0));
    return reply.status(204).send();
  });

  app.get('/v1/auth/me', { config: { access: { kind: 'self', pending: true } } }, async (req) => {
    const p = req.principal!;
    return {
      id: p.id, kind: p.kind, roles: p.roles, authn: p.authn,
      mustChangePassword: p.mustChangePassword ?? false,
      mfaEnrollmentRequired: p.mfaEnrollmentRequired ?? false,
      ...(p.scopes !== undefined ? { scopes: p.scopes } : {}),
    };
  });
};
