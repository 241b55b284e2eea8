/**
 * The second factor over HTTP on both databases (issue 3: TOTP for every role that reaches
 * PHI, 45 CFR 164.312(d)): a new account replaces its one-time password, enrolls an
 * authenticator and confirms it; until then only its own account routes answer; confirming
 * ends the sessions opened without the factor; sign-in then needs the code; a confirmed
 * factor cannot be replaced by the user, only reset by an administrator, which ends every
 * session and forces enrollment again. The shared secret never reaches a log or audit body.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { testDialects } from '../storage/testing/test-databases.js';
import { createHttpWorld, SYSTEM_ACTOR } from './testing/http-world.js';
import type { HttpWorld } from './testing/http-world.js';
import { expectProblem, audited, everythingWritten, codeNotValidAt } from './testing/http-assertions.js';
import type { Reply } from './testing/http-assertions.js';
import { totpCodeAt } from '../auth/testing/totp-helper.js';

interface Enrollment {
  secret: string;
  uri: string;
  digits: number;
  period: number;
  algorithm: string;
}

const NEW_PASSWORD = 'a long synthetic passphrase for Zebulon-Quill-canary';
const AUDIT_SEARCH = { url: '/v1/audit/entries', purpose: 'HCOMPL' } as const;

describe.each(testDialects())('TOTP enrollment over HTTP on $name', (dialect) => {
  let w: HttpWorld | undefined;
  afterEach(async () => {
    await w?.dispose();
    w = undefined;
  });

  function world(): HttpWorld {
    if (w === undefined) throw new Error('no world');
    return w;
  }

  const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

  function signIn(username: string, password: string, totp?: string): Promise<Reply> {
    return world().app.inject({ method: 'POST', url: '/v1/auth/login', payload: { username, password, ...(totp !== undefined ? { totp } : {}) } });
  }

  async function tokenOf(res: Promise<Reply>): Promise<string> {
    const r = await res;
    expect(r.statusCode).toBe(200);
    return r.json<{ token: string }>().token;
  }

  const me = (token: string): Promise<Reply> => world().app.inject({ method: 'GET', url: '/v1/auth/me', headers: bearer(token) });
  const auditSearch = (token: string): Promise<Reply> =>
    world().app.inject({ method: 'GET', url: AUDIT_SEARCH.url, headers: { ...bearer(token), 'x-purpose-of-use': AUDIT_SEARCH.purpose } });
  const begin = (token: string): Promise<Reply> => world().app.inject({ method: 'POST', url: '/v1/auth/mfa/totp', headers: bearer(token) });
  const confirm = (token: string, code: string): Promise<Reply> =>
    world().app.inject({ method: 'POST', url: '/v1/auth/mfa/totp/confirm', headers: bearer(token), payload: { code } });

  /**
   * A privacy officer created by an administrator, who has signed in with the one-time
   * password and replaced it over HTTP, then signed in again: not enrolled yet.
   */
  async function newPrivacyOfficer(username: string): Promise<{ id: string; token: string }> {
    const { account, oneTimePassword } = await world().accounts.create({ username, roles: ['privacy-officer'] }, SYSTEM_ACTOR);
    const first = await signIn(username, oneTimePassword);
    expect(first.json()).toMatchObject({ mustChangePassword: true, mfaEnrollmentRequired: true });
    const otpToken = first.json<{ token: string }>().token;
    // Nothing but the password change (and sign-out, "who am I") before the password is replaced.
    expectProblem(await begin(otpToken), 403, 'auth.password_change_required');
    expectProblem(await auditSearch(otpToken), 403, 'auth.password_change_required');
    const changed = await world().app.inject({ method: 'POST', url: '/v1/auth/password', headers: bearer(otpToken), payload: { currentPassword: oneTimePassword, newPassword: NEW_PASSWORD } });
    expect(changed.statusCode).toBe(204);
    const second = await signIn(username, NEW_PASSWORD);
    expect(second.statusCode).toBe(200);
    expect(second.json()).toMatchObject({ mustChangePassword: false, mfaEnrollmentRequired: true });
    return { id: account.id, token: second.json<{ token: string }>().token };
  }

  it('shows the secret once after the password change; until confirmed, policy routes answer 403 auth.mfa_enrollment_required', async () => {
    w = await createHttpWorld(dialect);
    const { id, token } = await newPrivacyOfficer('po-new');
    const started = await begin(token);
    expect(started.statusCode).toBe(200);
    const enrollment = started.json<Enrollment>();
    expect(enrollment).toMatchObject({ digits: 6, period: 30, algorithm: 'SHA1' });
    expect(enrollment.secret).toMatch(/^[A-Z2-7]{32}$/); // 160 bits, base32
    const uri = new URL(enrollment.uri);
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toBe('/Ward:po-new');
    expect(uri.searchParams.get('secret')).toBe(enrollment.secret);
    expect(uri.searchParams.get('issuer')).toBe('Ward');

    const blocked = await auditSearch(token);
    expectProblem(blocked, 403, 'auth.mfa_enrollment_required');
    expect(blocked.body).not.toContain('entries');
    const selfRoute = await world().app.inject({ method: 'POST', url: '/v1/access/evaluate', headers: bearer(token), payload: { action: 'audit.search' } });
    expectProblem(selfRoute, 403, 'auth.mfa_enrollment_required');
    const who = await me(token);
    expect(who.statusCode).toBe(200);
    expect(who.json()).toMatchObject({ id, kind: 'person', roles: ['privacy-officer'], authn: 'session', mustChangePassword: false, mfaEnrollmentRequired: true });

    const decisions = await audited(w, 'access.decision');
    const searches = decisions.filter((e) => e.details?.action === 'audit.search');
    expect(searches.map((e) => [e.who.id, e.outcome, e.reason, e.purpose])).toEqual([
      [id, 'denied', 'auth.password_change_required', 'HCOMPL'],
      [id, 'denied', 'auth.mfa_enrollment_required', 'HCOMPL'],
    ]);
    // The refusal on the account's own route is an access decision too, audited.
    const selfRefusal = decisions.filter((e) => e.requestId === selfRoute.headers['x-request-id']);
    expect(selfRefusal.map((e) => [e.who.id, e.outcome, e.reason])).toEqual([[id, 'denied', 'auth.mfa_enrollment_required']]);
    expect((await audited(w, 'mfa.totp_begin')).map((e) => [e.who.id, e.outcome, e.resource?.id])).toEqual([[id, 'success', id]]);

    // Stored sealed; never written where an operator or auditor reads.
    const stored = await w.t.db.selectFrom('totp_credential').select(['secret_box', 'confirmed']).where('account_id', '=', id).executeTakeFirstOrThrow();
    expect(stored.confirmed).toBe(0);
    expect(stored.secret_box).not.toContain(enrollment.secret);
    const written = await everythingWritten(w);
    expect(written).not.toContain(enrollment.secret);
    expect(written).not.toContain(NEW_PASSWORD);
  });

  it('refuses a wrong code (400 mfa.code_invalid, audited) and a code of a replaced secret; confirming ends every session opened without the factor', async () => {
    w = await createHttpWorld(dialect);
    const { id, token } = await newPrivacyOfficer('po-confirm');
    const otherDevice = await tokenOf(signIn('po-confirm', NEW_PASSWORD));
    const replaced = (await begin(token)).json<Enrollment>().secret;
    // Beginning again replaces the unconfirmed secret: the first one's codes no longer count.
    const { secret } = (await begin(token)).json<Enrollment>();
    expect(secret).not.toBe(replaced);
    const now = w.clock.now();
    const staleCode = totpCodeAt(replaced, now);
    if (staleCode !== totpCodeAt(secret, now)) {
      expectProblem(await confirm(token, staleCode), 400, 'mfa.code_invalid');
    }
    const wrong = await confirm(token, codeNotValidAt(secret, now));
    expectProblem(wrong, 400, 'mfa.code_invalid');
    expectProblem(await confirm(token, '12345'), 400, 'request.invalid');
    // A wrong code changes nothing: the session still works, nothing is confirmed.
    expect((await me(token)).statusCode).toBe(200);
    expect(await w.mfa.status(id)).toEqual({ enrolled: false, pending: true });

    const ok = await confirm(token, totpCodeAt(secret, w.clock.now()));
    expect(ok.statusCode).toBe(204);
    expect(String(ok.headers['set-cookie'])).toMatch(/^ward_session=;.*Max-Age=0/);
    expectProblem(await me(token), 401, 'auth.unauthenticated');
    expectProblem(await me(otherDevice), 401, 'auth.unauthenticated');
    expect(await w.mfa.status(id)).toMatchObject({ enrolled: true, pending: false });

    const confirms = await audited(w, 'mfa.totp_confirm');
    expect(confirms.map((e) => [e.outcome, e.reason])).toEqual([
      ...(staleCode !== totpCodeAt(secret, now) ? [['denied', 'mfa.code_invalid']] : []),
      ['denied', 'mfa.code_invalid'],
      ['success', undefined],
    ]);
    expect(confirms.at(-1)?.details).toMatchObject({ sessionsRevoked: 2 });
    expect(await everythingWritten(w)).not.toContain(secret);
  });

  it('after enrollment: no code is 401 auth.mfa_required, the confirmation code cannot be reused, a fresh code opens policy routes', async () => {
    w = await createHttpWorld(dialect);
    const { id, token } = await newPrivacyOfficer('po-enrolled');
    const { secret } = (await begin(token)).json<Enrollment>();
    const confirmationCode = totpCodeAt(secret, w.clock.now());
    expect((await confirm(token, confirmationCode)).statusCode).toBe(204);

    // Asking for the code is not a failed sign-in: six in a row lock nothing.
    for (let i = 0; i < 6; i++) {
      const noCode = await signIn('po-enrolled', NEW_PASSWORD);
      expectProblem(noCode, 401, 'auth.mfa_required');
      expect(noCode.headers['set-cookie']).toBeUndefined();
      expect(noCode.body).not.toContain('token');
    }
    // The code that confirmed the authenticator is spent.
    expectProblem(await signIn('po-enrolled', NEW_PASSWORD, confirmationCode), 401, 'auth.bad_credentials');
    w.clock.advance(30_000);
    const signedIn = await signIn('po-enrolled', NEW_PASSWORD, totpCodeAt(secret, w.clock.now()));
    expect(signedIn.statusCode).toBe(200);
    expect(signedIn.json()).toMatchObject({ mustChangePassword: false, mfaEnrollmentRequired: false });
    const fresh = signedIn.json<{ token: string }>().token;
    expect((await me(fresh)).json()).toMatchObject({ id, mfaEnrollmentRequired: false });
    const search = await auditSearch(fresh);
    expect(search.statusCode).toBe(200);
    expect(search.json()).toHaveProperty('entries');

    // A working factor is not replaced by its holder.
    expectProblem(await begin(fresh), 409, 'mfa.already_enrolled');
    expectProblem(await confirm(fresh, totpCodeAt(secret, w.clock.now())), 409, 'mfa.already_enrolled');
    expect((await me(fresh)).statusCode).toBe(200);

    const logins = (await audited(w, 'auth.login')).filter((e) => e.who.id === id).map((e) => [e.outcome, e.reason, e.details?.mfa]);
    expect(logins.slice(-8)).toEqual([
      ...Array<unknown[]>(6).fill(['denied', 'auth.mfa_required', undefined]),
      ['denied', 'auth.totp_replayed', undefined],
      ['success', undefined, true],
    ]);
    expect(await audited(w, 'auth.lockout')).toEqual([]);
    expect(await everythingWritten(w)).not.toContain(secret);
  });

  it('an administrator reset removes the factor, ends every session and forces enrollment again', async () => {
    w = await createHttpWorld(dialect);
    const { id, token, password, totpSecret } = await w.userWithToken('po-lost-phone', ['privacy-officer']);
    const second = await w.login('po-lost-phone', password, totpSecret);
    expect((await auditSearch(token)).statusCode).toBe(200);

    expect(await w.mfa.resetTotp(id, SYSTEM_ACTOR)).toEqual({ removed: true, sessionsRevoked: 2 });
    expectProblem(await me(token), 401, 'auth.unauthenticated');
    expectProblem(await me(second), 401, 'auth.unauthenticated');

    // The password alone now opens an enrollment-only session.
    const pending = await signIn('po-lost-phone', password);
    expect(pending.statusCode).toBe(200);
    expect(pending.json()).toMatchObject({ mfaEnrollmentRequired: true });
    const pendingToken = pending.json<{ token: string }>().token;
    expectProblem(await auditSearch(pendingToken), 403, 'auth.mfa_enrollment_required');
    expect((await me(pendingToken)).json()).toMatchObject({ mfaEnrollmentRequired: true });

    const started = await begin(pendingToken);
    expect(started.statusCode).toBe(200);
    const { secret } = started.json<Enrollment>();
    expect(secret).not.toBe(totpSecret);
    // The lost authenticator's codes confirm nothing.
    const lostCode = totpCodeAt(totpSecret, w.clock.now());
    if (lostCode !== totpCodeAt(secret, w.clock.now())) expectProblem(await confirm(pendingToken, lostCode), 400, 'mfa.code_invalid');
    expect((await confirm(pendingToken, totpCodeAt(secret, w.clock.now()))).statusCode).toBe(204);
    w.clock.advance(30_000);
    const back = await tokenOf(signIn('po-lost-phone', password, totpCodeAt(secret, w.clock.now())));
    expect((await auditSearch(back)).statusCode).toBe(200);

    const resets = await audited(w, 'mfa.reset');
    expect(resets.map((e) => [e.who.id, e.resource?.id, e.details?.removed, e.details?.sessionsRevoked])).toEqual([['ward', id, true, 2]]);
    const written = await everythingWritten(w);
    expect(written).not.toContain(secret);
    expect(written).not.toContain(totpSecret);
  });
});
