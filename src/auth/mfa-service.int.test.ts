/**
 * The TOTP second factor on both databases: enrollment (begin, confirm, sessions revoked),
 * sign-in with the code (session marked mfa), replay refused (the same code twice, an older
 * step after a newer one, two processes racing), ±1 step drift accepted and ±2 refused, and
 * an administrator's reset.
 */
import { hashPassword } from './password-hasher.js';
import { describe, expect, it } from 'vitest';
import { testDialects } from '../storage/testing/test-databases.js';
import { MfaService } from './mfa-service.js';
import { ADMIN, PASSWORD, authWorldPerTest } from './testing/auth-world.js';
import type { AuthWorld } from './testing/auth-world.js';
import { totpCodeAt } from './testing/totp-helper.js';

const STEP = 30_000;

interface World extends AuthWorld {
  /** Begin and confirm an authenticator now; returns its secret. The confirming code's step is spent. */
  enroll(id: string, username: string): Promise<string>;
}

/** A six-digit code that none of the steps around `at` shows. */
function wrongCodeAt(secret: string, at: Date): string {
  const valid = new Set([-1, 0, 1].map((d) => totpCodeAt(secret, new Date(at.getTime() + d * STEP))));
  return ['000000', '111111', '222222', '333333'].find((c) => !valid.has(c)) ?? '444444';
}

describe.each(testDialects())('MfaService on $name', (dialect) => {
  const authWorld = authWorldPerTest(dialect);

  async function world(): Promise<World> {
    const x = await authWorld();
    return {
      ...x,
      async enroll(id, username) {
        const { secret } = await x.mfa.beginTotp(id, username);
        await x.mfa.confirmTotp(id, totpCodeAt(secret, x.w.clock.now()));
        return secret;
      },
    };
  }

  it('enrolls: begin stores the secret sealed and unconfirmed, confirm ends every session, then sign-in needs the code', async () => {
    const x = await world();
    const id = await x.account('ana');
    const before = await x.sessions.login('ana', PASSWORD);
    expect(before.principal.mfaEnrollmentRequired).toBe(true);

    const first = await x.mfa.beginTotp(id, 'ana');
    // Beginning again replaces the unconfirmed secret.
    const { secret, uri } = await x.mfa.beginTotp(id, 'ana', { requestId: 'req-1' });
    expect(secret).not.toBe(first.secret);
    expect(uri).toContain('issuer=Ward');
    expect(await x.mfa.status(id)).toEqual({ enrolled: false, pending: true });
    const stored = await x.w.t.db.selectFrom('totp_credential').selectAll().execute();
    expect(stored).toHaveLength(1);
    expect(stored[0]!.secret_box).toMatch(/^sb1\./);
    expect(stored[0]!.secret_box).not.toContain(secret);
    expect(stored[0]!.confirmed).toBe(0);
    // Not enrolled yet: sign-in does not ask for a code.
    expect((await x.sessions.login('ana', PASSWORD)).principal.mfaEnrollmentRequired).toBe(true);

    const now = x.w.clock.now();
    await expect(x.mfa.confirmTotp(id, wrongCodeAt(secret, now), { requestId: 'req-2' })).rejects.toMatchObject({ code: 'mfa.code_invalid', status: 400 });
    expect(await x.sessions.authenticate(before.token)).toBeDefined();
    expect(await x.mfa.confirmTotp(id, totpCodeAt(secret, now), { requestId: 'req-3' })).toEqual({ sessionsRevoked: 2 });
    expect(await x.sessions.authenticate(before.token)).toBeUndefined();
    expect(await x.mfa.status(id)).toMatchObject({ enrolled: true, pending: false, confirmedAt: now.toISOString() });
    await expect(x.mfa.beginTotp(id, 'ana')).rejects.toMatchObject({ code: 'mfa.already_enrolled', status: 409 });
    await expect(x.mfa.confirmTotp(id, totpCodeAt(secret, now))).rejects.toMatchObject({ code: 'mfa.already_enrolled', status: 409 });

    // The password alone is no longer enough; asking for the code is not a failure.
    for (let i = 0; i < 6; i++) {
      await expect(x.sessions.login('ana', PASSWORD)).rejects.toMatchObject({ code: 'auth.mfa_required', status: 401 });
    }
    // The code that confirmed enrollment is spent.
    await expect(x.sessions.login('ana', PASSWORD, { totp: totpCodeAt(secret, now) })).rejects.toMatchObject({ code: 'auth.bad_credentials', status: 401 });
    x.w.clock.advance(STEP);
    const s = await x.sessions.login('ana', PASSWORD, { totp: totpCodeAt(secret, x.w.clock.now()) });
    expect(s.principal).toMatchObject({ id, mfaEnrollmentRequired: false, authn: 'session' });
    expect(await x.sessions.authenticate(s.token)).toMatchObject({ id, mfaEnrollmentRequired: false });
    const row = await x.w.t.db.selectFrom('session').select(['mfa', 'revoked']).where('revoked', '=', 0).execute();
    expect(row).toEqual([{ mfa: 1, revoked: 0 }]);

    expect(await x.entries('mfa.totp_begin')).toHaveLength(2);
    expect(await x.entries('mfa.totp_confirm')).toEqual([
      expect.objectContaining({ outcome: 'denied', reason: 'mfa.code_invalid', requestId: 'req-2', resource: { type: 'Account', id } }),
      expect.objectContaining({ outcome: 'success', requestId: 'req-3', details: { sessionsRevoked: 2 } }),
    ]);
    const logins = await x.entries('auth.login');
    expect(logins.filter((e) => e.reason === 'auth.mfa_required')).toHaveLength(6);
    expect(logins.filter((e) => e.reason === 'auth.totp_replayed')).toHaveLength(1);
    expect(logins.at(-1)).toMatchObject({ outcome: 'success', details: { mfa: true } });
  });

  it('refuses a replayed code: the same code twice, and an older step after a newer one', async () => {
    const x = await world();
    const id = await x.account('ana');
    const secret = await x.enroll(id, 'ana');
    x.w.clock.advance(5 * STEP);
    const now = x.w.clock.now();
    const current = totpCodeAt(secret, now);
    expect((await x.sessions.login('ana', PASSWORD, { totp: current })).token).toMatch(/^wss_/);
    await expect(x.sessions.login('ana', PASSWORD, { totp: current })).rejects.toMatchObject({ code: 'auth.bad_credentials', status: 401 });

    // The next step's code is accepted early (drift); the current one is then older: refused.
    x.w.clock.advance(STEP);
    const later = x.w.clock.now();
    const next = totpCodeAt(secret, new Date(later.getTime() + STEP));
    expect(await x.mfa.verifyLoginCode(x.w.t.db, id, next, later)).toBe(true);
    expect(await x.mfa.verifyLoginCode(x.w.t.db, id, totpCodeAt(secret, later), later)).toBe(false);
    expect(await x.mfa.checkLoginCode(x.w.t.db, id, totpCodeAt(secret, later), later)).toBe('replayed');
    expect(await x.mfa.checkLoginCode(x.w.t.db, id, wrongCodeAt(secret, later), later)).toBe('invalid');
    expect(await x.mfa.checkLoginCode(x.w.t.db, id, undefined, later)).toBe('missing');

    const reasons = (await x.entries('auth.login')).filter((e) => e.outcome === 'denied').map((e) => e.reason);
    expect(reasons).toEqual(['auth.totp_replayed']);
  });

  it('accepts a code one step early or late, not two', async () => {
    const x = await world();
    const id = await x.account('ana');
    const secret = await x.enroll(id, 'ana');
    x.w.clock.advance(10 * STEP);
    const now = x.w.clock.now();
    const at = (steps: number): string => totpCodeAt(secret, new Date(now.getTime() + steps * STEP));
    // Two steps away is not a match at all, not a replay.
    expect(await x.mfa.checkLoginCode(x.w.t.db, id, at(-2), now)).toBe('invalid');
    expect(await x.mfa.checkLoginCode(x.w.t.db, id, at(2), now)).toBe('invalid');
    expect(await x.mfa.verifyLoginCode(x.w.t.db, id, at(-1), now)).toBe(true);
    expect(await x.mfa.verifyLoginCode(x.w.t.db, id, at(1), now)).toBe(true);
    const row = await x.w.t.db.selectFrom('totp_credential').select('last_step').executeTakeFirstOrThrow();
    expect(Number(row.last_step)).toBe(Math.floor(now.getTime() / STEP) + 1);
  });

  it('lets one of two processes racing on the same code win, never both', async () => {
    const x = await world();
    const id = await x.account('ana');
    const secret = await x.enroll(id, 'ana');
    x.w.clock.advance(STEP);
    const now = x.w.clock.now();
    const code = totpCodeAt(secret, now);
    const other = x.w.t.reopen();
    try {
      const otherMfa = new MfaService(other.db, x.w.log, x.box, x.w.clock);
      const results = await Promise.all([x.mfa.verifyLoginCode(x.w.t.db, id, code, now), otherMfa.verifyLoginCode(other.db, id, code, now)]);
      expect(results.filter(Boolean)).toHaveLength(1);
    } finally {
      await other.close();
    }
  });

  it('a wrong or replayed code counts as a failed sign-in towards the lock', async () => {
    const x = await world();
    const id = await x.account('ana');
    const secret = await x.enroll(id, 'ana');
    for (let i = 0; i < 5; i++) {
      x.w.clock.advance(STEP);
      await expect(x.sessions.login('ana', PASSWORD, { totp: wrongCodeAt(secret, x.w.clock.now()) })).rejects.toMatchObject({ code: 'auth.bad_credentials' });
    }
    x.w.clock.advance(STEP);
    await expect(x.sessions.login('ana', PASSWORD, { totp: totpCodeAt(secret, x.w.clock.now()) })).rejects.toMatchObject({ code: 'auth.locked', status: 429 });
    const lockouts = await x.entries('auth.lockout');
    expect(lockouts).toEqual([expect.objectContaining({ who: { id, kind: 'person' }, resource: { type: 'Account', id }, details: { failures: 5, lockMinutes: 15 } })]);
    const reasons = (await x.entries('auth.login')).filter((e) => e.outcome === 'denied').map((e) => e.reason);
    expect(reasons).toEqual([...Array<string>(5).fill('auth.totp_invalid'), 'auth.locked']);
  });

  it('refuses a session opened without the second factor once the account has one, even if it escaped revocation', async () => {
    const x = await world();
    const id = await x.account('ana');
    const s = await x.sessions.login('ana', PASSWORD);
    await x.mfa.beginTotp(id, 'ana');
    // As if a sign-in raced the confirmation: confirmed, but this session not revoked.
    await x.w.t.db.updateTable('totp_credential').set({ confirmed: 1 }).where('account_id', '=', id).execute();
    expect(await x.sessions.authenticate(s.token)).toBeUndefined();
  });

  it('a reset that replaces the password does both in one transaction: the old password no longer signs in', async () => {
    const x = await world();
    const id = await x.account('ana');
    await x.enroll(id, 'ana');
    const fresh = 'a fresh one-time password for ana';
    await x.mfa.resetTotp(id, ADMIN, {}, { replacePasswordHash: await hashPassword(fresh) });
    await expect(x.sessions.login('ana', PASSWORD)).rejects.toMatchObject({ code: 'auth.bad_credentials' });
    const s = await x.sessions.login('ana', fresh);
    expect(s.principal).toMatchObject({ mustChangePassword: true, mfaEnrollmentRequired: true });
    expect(await x.entries('mfa.reset')).toEqual([expect.objectContaining({ details: { removed: true, sessionsRevoked: 0, passwordReplaced: true } })]);
  });

  it('reset removes the authenticator and ends every session, audited; the next sign-in must enroll again', async () => {
    const x = await world();
    const id = await x.account('ana');
    const secret = await x.enroll(id, 'ana');
    x.w.clock.advance(STEP);
    const s = await x.sessions.login('ana', PASSWORD, { totp: totpCodeAt(secret, x.w.clock.now()) });
    expect(await x.mfa.resetTotp(id, ADMIN, { requestId: 'req-9' })).toEqual({ removed: true, sessionsRevoked: 1 });
    expect(await x.sessions.authenticate(s.token)).toBeUndefined();
    expect(await x.mfa.status(id)).toEqual({ enrolled: false, pending: false });
    const again = await x.sessions.login('ana', PASSWORD);
    expect(again.principal.mfaEnrollmentRequired).toBe(true);
    expect(await x.mfa.resetTotp(id, ADMIN)).toEqual({ removed: false, sessionsRevoked: 1 });
    await expect(x.mfa.resetTotp('usr_nobody', ADMIN)).rejects.toMatchObject({ code: 'account.not_found', status: 404 });
    expect(await x.entries('mfa.reset')).toEqual([
      expect.objectContaining({ who: { id: ADMIN.id, kind: 'person' }, outcome: 'success', resource: { type: 'Account', id }, details: { removed: true, sessionsRevoked: 1, passwordReplaced: false }, requestId: 'req-9' }),
      expect.objectContaining({ details: { removed: false, sessionsRevoked: 1, passwordReplaced: false } }),
    ]);
  });

  it('binds the sealed secret to its account: moved to another account it does not open', async () => {
    const x = await world();
    const ana = await x.account('ana');
    const bob = await x.account('bob');
    await x.mfa.beginTotp(ana, 'ana');
    const { secret_box } = await x.w.t.db.selectFrom('totp_credential').select('secret_box').where('account_id', '=', ana).executeTakeFirstOrThrow();
    await x.w.t.db.insertInto('totp_credential').values({ account_id: bob, secret_box, confirmed: 0, created_at: x.w.clock.now().toISOString(), confirmed_at: null }).execute();
    await expect(x.mfa.confirmTotp(bob, '123456')).rejects.toMatchObject({ code: 'storage.unseal_failed' });
  });
});
