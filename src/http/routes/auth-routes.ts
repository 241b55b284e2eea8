import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { AccountService } from '../../auth/account-service.js';
import type { SessionService } from '../../auth/session-service.js';
import { WardError } from '../../shared/ward-error.js';
import { authenticate } from '../authenticate.js';
import { auditContextOf } from '../http-context.js';

const loginBody = z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(256) }).strict();
const passwordBody = z.object({ currentPassword: z.string().min(1).max(256), newPassword: z.string().min(1).max(512) }).strict();

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  // Field names only: a password or username must never be echoed back.
  if (!r.success) throw new WardError('request.invalid', `invalid fields: ${r.error.issues.map((i) => i.path.join('.') || 'body').join(', ')}`, { status: 400 });
  return r.data;
}

function sessionCookie(token: string, maxAgeSeconds: number): string {
  return `ward_session=${token}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=${maxAgeSeconds}`;
}

export const authRoutes: FastifyPluginAsync<{ accounts: AccountService; sessions: SessionService }> = async (app, opts) => {
  app.post('/v1/auth/login', async (req, reply) => {
    const body = parse(loginBody, req.body);
    const s = await opts.sessions.login(body.username, body.password, auditContextOf(req));
    const maxAge = Math.max(0, Math.floor((Date.parse(s.expiresAt) - Date.now()) / 1000));
    void reply.header('set-cookie', sessionCookie(s.token, maxAge));
    return { token: s.token, expiresAt: s.expiresAt, mustChangePassword: s.principal.mustChangePassword ?? false, roles: s.principal.roles };
  });

  app.post('/v1/auth/logout', { preHandler: authenticate({ sessions: opts.sessions, allowPasswordChangePending: true }) }, async (req, reply) => {
    await opts.sessions.logout(req.sessionToken as string, req.principal!, auditContextOf(req));
    void reply.header('set-cookie', sessionCookie('', 0));
    return reply.status(204).send();
  });

  app.post('/v1/auth/password', { preHandler: authenticate({ sessions: opts.sessions, allowPasswordChangePending: true }) }, async (req, reply) => {
    const body = parse(passwordBody, req.body);
    // Every session of the account (this one included) ends with the old password, in the
    // same transaction as the change; the caller signs in again.
    await opts.accounts.changePassword(req.principal!.id, body.currentPassword, body.newPassword, auditContextOf(req));
    void reply.header('set-cookie', sessionCookie('', 0));
    return reply.status(204).send();
  });

  app.get('/v1/auth/me', { preHandler: authenticate({ sessions: opts.sessions, allowPasswordChangePending: true }) }, async (req) => {
    const p = req.principal!;
    return { id: p.id, kind: p.kind, roles: p.roles, mustChangePassword: p.mustChangePassword ?? false };
  });
};
