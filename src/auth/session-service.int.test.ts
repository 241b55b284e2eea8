/**
 * Sessions on both databases: the work a login does does not depend on whether the account
 * exists or is disabled, a password change ends every session in its own audited transaction,
 * a token resolves with one read, password verifications are capped, idle and absolute
 * timeouts end sessions (45 CFR 164.312(a)(2)(iii)), logout ends one, a client that fails too
 * often is throttled, and no credential ever reaches the audit log.
 */
import { describe, expect, it, vi } from 'vitest';
import { testDialects } from '../storage/testing/test-databases.js';
import { ApiKeyService } from './api-key-service.js';
import { PASSWORD, SYSTEM, authWorldPerTest } from './testing/auth-world.js';
import type { AuthWorld } from './testing/auth-world.js';
import { totpCodeAt } from './testing/totp-helper.js';

describe.each(testDialects())('SessionService on $name', (dialect) => {
  const authWorld = authWorldPerTest(dialect);
  const world = (limits = { maxInFlight: 4, maxQueued: 32 }, clientLimit?: number): Promise<AuthWorld> =>
    authWorld({ creator: SYSTEM, verifications: limits, clientThrottle: clientLimit === undefined ? {} : { maxFailures: clientLimit } });

  it('verifies a password once per login attempt: enabled, disabled and unknown accounts alike', async () => {
    const x = await world();
    const id = await x.account('ana');
    await x.sessions.login('ana', PASSWORD);
    expect(x.verifications.runs).toBe(1);
    await x.w.t.db.updateTable('account').set({ disabled: 1 }).where('id', '=', id).execute();
    await expect(x.sessions.login('ana', PASSWORD)).rejects.toMatchObject({ code: 'auth.bad_credentials', status: 401 });
    expect(x.verifications.runs).toBe(2);
    await expect(x.sessions.login('nobody', PASSWORD)).rejects.toMatchObject({ code: 'auth.bad_credentials', status: 401 });
    expect(x.verifications.runs).toBe(3);
    const denied = await x.entries('auth.login');
    expect(denied.filter((e) => e.outcome === 'denied').map((e) => e.reason)).toEqual(['auth.account_disabled', 'auth.bad_credentials']);
  });

  it('ends every session of the account in the password change transaction, and records it', async () => {
    const x = await world();
    const id = await x.account('ana');
    const one = await x.sessions.login('ana', PASSWORD);
    const two = await x.sessions.login('ana', PASSWORD);
    expect(await x.sessions.authenticate(one.token)).toBeDefined();
    await x.accounts.changePassword(id, PASSWORD, `${PASSWORD} again`, { requestId: 'req-1' });
    expect(await x.sessions.authenticate(one.token)).toBeUndefined();
    expect(await x.sessions.authenticate(two.token)).toBeUndefined();
    const changes = await x.entries('account.password_change');
    // The first change (one-time password) had no sessions; the second ended two.
    expect(changes.map((e) => e.details)).toEqual([{ sessionsRevoked: 0 }, { sessionsRevoked: 2 }]);
    expect(changes[1]).toMatchObject({ outcome: 'success', requestId: 'req-1', resource: { type: 'Account', id } });
  });

  it('does not end sessions when the password change is refused', async () => {
    const x = await world();
    const id = await x.account('ana');
    const s = await x.sessions.login('ana', PASSWORD);
    await expect(x.accounts.changePassword(id, 'not the current password', `${PASSWORD} again`)).rejects.toMatchObject({ code: 'auth.bad_credentials' });
    expect(await x.sessions.authenticate(s.token)).toBeDefined();
  });

  it('revokeAll ends every session and audits it in the same transaction', async () => {
    const x = await world();
    const id = await x.account('ana');
    const s = await x.sessions.login('ana', PASSWORD);
    expect(await x.sessions.revokeAll(id, SYSTEM, { requestId: 'req-2' })).toBe(1);
    expect(await x.sessions.authenticate(s.token)).toBeUndefined();
    const revoked = await x.entries('auth.sessions_revoked');
    expect(revoked).toHaveLength(1);
    expect(revoked[0]).toMatchObject({ who: { id: 'ward', kind: 'system' }, outcome: 'success', resource: { type: 'Account', id }, details: { sessionsRevoked: 1 }, requestId: 'req-2' });
  });

  it('resolves a token from the session joined with its account, without another lookup', async () => {
    const x = await world();
    const id = await x.account('ana', ['clinician', 'coder']);
    const s = await x.sessions.login('ana', PASSWORD);
    // A role Ward no longer knows is dropped, never granted.
    await x.w.t.db.updateTable('account').set({ roles: JSON.stringify(['coder', 'wizard']) }).where('id', '=', id).execute();
    const findById = vi.spyOn(x.accounts, 'findById');
    expect(await x.sessions.authenticate(s.token)).toEqual({ id, kind: 'person', roles: ['coder'], mustChangePassword: false, mfaEnrollmentRequired: true, authn: 'session' });
    expect(findById).not.toHaveBeenCalled();
    await x.w.t.db.updateTable('account').set({ disabled: 1 }).where('id', '=', id).execute();
    expect(await x.sessions.authenticate(s.token)).toBeUndefined();
  });

  it('refuses logins beyond the verification cap with auth.busy (429) instead of queueing without bound', async () => {
    const x = await world({ maxInFlight: 1, maxQueued: 0 });
    await x.account('ana');
    x.verifications.runs = 0;
    const results = await Promise.allSettled([x.sessions.login('ana', PASSWORD), x.sessions.login('ana', PASSWORD), x.sessions.login('ana', PASSWORD)]);
    expect(results.filter((r) => r.status === 'fulfilled').length).toBeGreaterThanOrEqual(1);
    const refused: unknown[] = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    expect(refused.length).toBeGreaterThanOrEqual(1);
    for (const e of refused) expect(e).toMatchObject({ code: 'auth.busy', status: 429 });
    expect((await x.sessions.login('ana', PASSWORD)).token).toMatch(/^wss_/);
  });

  it('ends a session idle for longer than the idle timeout, and keeps one in use', async () => {
    const x = await world();
    await x.account('ana');
    const s = await x.sessions.login('ana', PASSWORD);
    const idle = 15 * 60_000;
    x.w.clock.advance(idle - 1);
    expect(await x.sessions.authenticate(s.token)).toMatchObject({ authn: 'session' });
    // Use restarts the idle clock: the limit counts from the last request.
    x.w.clock.advance(idle - 1);
    expect(await x.sessions.authenticate(s.token)).toBeDefined();
    x.w.clock.advance(idle + 1);
    expect(await x.sessions.authenticate(s.token)).toBeUndefined();
  });

  it('ends a session at its absolute lifetime however active it is', async () => {
    const x = await world();
    await x.account('ana');
    const s = await x.sessions.login('ana', PASSWORD);
    const lifetime = 8 * 3_600_000;
    expect(Date.parse(s.expiresAt) - x.w.clock.now().getTime()).toBe(lifetime);
    for (let elapsed = 0; elapsed + 14 * 60_000 < lifetime; elapsed += 14 * 60_000) {
      x.w.clock.advance(14 * 60_000);
      expect(await x.sessions.authenticate(s.token)).toBeDefined();
    }
    x.w.clock.set(new Date(Date.parse(s.expiresAt) - 1));
    expect(await x.sessions.authenticate(s.token)).toBeDefined();
    x.w.clock.advance(1);
    expect(await x.sessions.authenticate(s.token)).toBeUndefined();
  });

  it('logout ends that session only, and is audited', async () => {
    const x = await world();
    const id = await x.account('ana');
    const one = await x.sessions.login('ana', PASSWORD);
    const two = await x.sessions.login('ana', PASSWORD);
    const p = await x.sessions.authenticate(one.token);
    await x.sessions.logout(one.token, p!, { requestId: 'req-3' });
    expect(await x.sessions.authenticate(one.token)).toBeUndefined();
    expect(await x.sessions.authenticate(two.token)).toBeDefined();
    // Someone else's principal cannot end a session that is not theirs.
    await x.account('bob');
    const bob = await x.sessions.login('bob', PASSWORD);
    await x.sessions.logout(two.token, bob.principal);
    expect(await x.sessions.authenticate(two.token)).toBeDefined();
    expect(await x.entries('auth.logout')).toContainEqual(expect.objectContaining({ who: { id, kind: 'person' }, outcome: 'success', requestId: 'req-3' }));
  });

  it('marks a person without a second factor as needing enrollment, on login and on every request', async () => {
    const x = await world();
    await x.account('ana');
    const s = await x.sessions.login('ana', PASSWORD);
    expect(s.principal).toMatchObject({ mfaEnrollmentRequired: true, authn: 'session' });
    expect(await x.sessions.authenticate(s.token)).toMatchObject({ mfaEnrollmentRequired: true });
    const row = await x.w.t.db.selectFrom('session').select('mfa').executeTakeFirstOrThrow();
    expect(row.mfa).toBe(0);
    const ok = await x.entries('auth.login');
    expect(ok.at(-1)).toMatchObject({ outcome: 'success', details: { mfa: false } });
  });

  it('throttles a client that fails too often across usernames (password spraying), with the same answer for every username', async () => {
    const x = await world({ maxInFlight: 4, maxQueued: 32 }, 3);
    await x.account('ana');
    const sprayer = { client: '203.0.113.7' };
    for (const u of ['bob', 'carol', 'ana']) {
      await expect(x.sessions.login(u, 'Summer2026!Summer2026!', sprayer)).rejects.toMatchObject({ code: 'auth.bad_credentials' });
    }
    const runs = x.verifications.runs;
    for (const u of ['ana', 'dave']) {
      // Even the right password: the client is refused before any password work.
      const e = await x.sessions.login(u, PASSWORD, sprayer).catch((err: unknown) => err);
      expect(e).toMatchObject({ code: 'auth.throttled', status: 429, extra: { retryAfterSeconds: 600 } });
    }
    expect(x.verifications.runs).toBe(runs);
    // Another client, and the audit context's address when no client is given, are separate.
    expect((await x.sessions.login('ana', PASSWORD, { client: '203.0.113.8' })).token).toMatch(/^wss_/);
    await expect(x.sessions.login('ana', PASSWORD, {}, { client: '203.0.113.7' })).rejects.toMatchObject({ code: 'auth.throttled' });
    x.w.clock.advance(10 * 60_000 + 1);
    expect((await x.sessions.login('ana', PASSWORD, sprayer)).token).toMatch(/^wss_/);
    const denied = (await x.entries('auth.login')).filter((e) => e.outcome === 'denied').map((e) => e.reason);
    expect(denied.filter((r) => r === 'auth.throttled')).toHaveLength(3);
  });

  it('keeps every password, second-factor secret and code, and API key secret out of the audit log', async () => {
    const x = await world();
    const canaries: string[] = [PASSWORD];
    const id = await x.account('ana');
    // A password typed into the username field is a classic leak: it must not be recorded either.
    const typedAsUsername = 'my-Secret-Password-In-The-Username-Box';
    canaries.push(typedAsUsername);
    await expect(x.sessions.login(typedAsUsername, 'whatever it is 1234')).rejects.toMatchObject({ code: 'auth.bad_credentials' });
    for (let i = 0; i < 5; i++) {
      const wrong = `wrong-password-canary-${i}-xyz`;
      canaries.push(wrong);
      await x.sessions.login('ana', wrong).catch(() => undefined);
    }
    x.w.clock.advance(15 * 60_000);
    const enrolling = await x.sessions.login('ana', PASSWORD);
    const { secret, uri } = await x.mfa.beginTotp(id, 'ana', { requestId: 'req-canary' });
    canaries.push(secret, uri);
    const now = x.w.clock.now();
    const valid = new Set([-1, 0, 1].map((d) => totpCodeAt(secret, new Date(now.getTime() + d * 30_000))));
    const wrongCode = ['000000', '111111', '222222'].find((c) => !valid.has(c))!;
    canaries.push(wrongCode);
    await expect(x.mfa.confirmTotp(id, wrongCode)).rejects.toMatchObject({ code: 'mfa.code_invalid' });
    const code = totpCodeAt(secret, now);
    canaries.push(code);
    await x.mfa.confirmTotp(id, code);
    expect(await x.sessions.authenticate(enrolling.token)).toBeUndefined();
    x.w.clock.advance(30_000);
    const next = totpCodeAt(secret, x.w.clock.now());
    canaries.push(next);
    await x.sessions.login('ana', PASSWORD, { totp: next });
    await expect(x.sessions.login('ana', PASSWORD, { totp: next })).rejects.toMatchObject({ code: 'auth.bad_credentials' });
    const keys = new ApiKeyService(x.w.t.db, x.w.log, x.w.clock);
    const issued = await keys.create({ service: 'scheduler-app', roles: ['workflow'], scopes: ['model.chat', 'patient.*'] }, SYSTEM);
    const rotated = await keys.rotate(issued.record.id, SYSTEM, { graceHours: 1 });
    for (const k of [issued.key, rotated.key]) canaries.push(k, k.slice(-43));
    await keys.authenticate(`wak_${issued.record.id}_${'A'.repeat(43)}`);

    await x.w.log.flush();
    const bodies = (await x.w.t.db.selectFrom('audit_entry').select('body').execute()).map((r) => r.body);
    expect(bodies.length).toBeGreaterThan(15);
    for (const c of canaries) {
      for (const b of bodies) expect(b.includes(c), 'a credential reached the audit log').toBe(false);
    }
    // The events themselves are all there, by id and code.
    const actions = new Set(bodies.map((b) => (JSON.parse(b) as { action: string }).action));
    for (const a of ['auth.login', 'auth.lockout', 'mfa.totp_begin', 'mfa.totp_confirm', 'api-key.create', 'api-key.rotate']) expect(actions).toContain(a);
  });
});
