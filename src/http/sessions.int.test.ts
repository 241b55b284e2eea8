/**
 * Sessions over HTTP on both databases (issue 3, "Prove: Sessions"): idle and absolute
 * timeouts (automatic logoff, 45 CFR 164.312(a)(2)(iii)), logout, a disabled account losing
 * every session at once, brute-force throttling per username and per client address, TOTP
 * replay refused, the session cookie's flags, and every outcome audited with a reason code
 * while no password or code ever reaches a log line, a problem body or an audit body.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { testDialects } from '../storage/testing/test-databases.js';
import { createHttpWorld, SYSTEM_ACTOR } from './testing/http-world.js';
import type { HttpWorld } from './testing/http-world.js';
import { expectProblem, withoutRequestId, audited, everythingWritten, codeNotValidAt } from './testing/http-assertions.js';
import type { Reply } from './testing/http-assertions.js';
import { totpCodeAt } from '../auth/testing/totp-helper.js';

/** A six-digit code standing on its own (not part of a longer run of digits or hex). */
function standalone(code: string): RegExp {
  return new RegExp(`(?<![0-9A-Za-z])${code}(?![0-9A-Za-z])`);
}

const CANARY_PASSWORD = 'Zebulon-Quill-canary-password-4471';
const CANARY_USERNAME = 'zebulon-quill-canary-user';
const HOUR = 3_600_000;
const MINUTE = 60_000;

describe.each(testDialects())('sessions over HTTP on $name', (dialect) => {
  let w: HttpWorld | undefined;
  afterEach(async () => {
    await w?.dispose();
    w = undefined;
  });

  function world(): HttpWorld {
    if (w === undefined) throw new Error('no world');
    return w;
  }

  function signIn(username: string, password: string, totp?: string, remoteAddress = '127.0.0.1'): Promise<Reply> {
    return world().app.inject({ method: 'POST', url: '/v1/auth/login', remoteAddress, payload: { username, password, ...(totp !== undefined ? { totp } : {}) } });
  }

  /** The code of the next time step, after moving the clock there (a code is good once). */
  function freshCode(secret: string): string {
    world().clock.advance(30_000);
    return totpCodeAt(secret, world().clock.now());
  }

  function me(headers: Record<string, string>): Promise<Reply> {
    return world().app.inject({ method: 'GET', url: '/v1/auth/me', headers });
  }

  const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });
  const cookie = (token: string): Record<string, string> => ({ cookie: `ward_session=${token}` });

  async function httpSession(username: string, password: string, secret: string): Promise<{ token: string; expiresAt: string; setCookie: string }> {
    const res = await signIn(username, password, freshCode(secret));
    expect(res.statusCode).toBe(200);
    const body = res.json<{ token: string; expiresAt: string }>();
    return { token: body.token, expiresAt: body.expiresAt, setCookie: String(res.headers['set-cookie']) };
  }

  it('takes the client address from X-Forwarded-For only through a configured proxy', async () => {
    w = await createHttpWorld(dialect, { trustedProxies: ['10.0.0.0/24'] });
    const attempt = (remoteAddress: string): Promise<{ statusCode: number }> => w!.app.inject({
      method: 'POST', url: '/v1/auth/login', remoteAddress,
      headers: { 'x-forwarded-for': '203.0.113.7' }, payload: { username: 'nobody', password: 'not it, not at all' },
    });
    expect((await attempt('10.0.0.9')).statusCode).toBe(401);
    expect((await attempt('192.0.2.50')).statusCode).toBe(401);
    await w.log.flush();
    const clients = (await w.t.db.selectFrom('audit_entry').select('body').where('action', '=', 'auth.login').orderBy('seq').execute())
      .map((r) => (JSON.parse(r.body) as { client?: string }).client);
    expect(clients).toEqual(['203.0.113.7', '192.0.2.50']);
  });

  it('refuses a state change carrying the session cookie from another origin (CSRF), audited', async () => {
    w = await createHttpWorld(dialect);
    const { token } = await w.userWithToken('po', ['privacy-officer']);
    const cookie = `ward_session=${token}`;
    const evil = await w.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: { cookie, host: 'ward.clinic.example', origin: 'https://evil.clinic.example' } });
    expect(evil.statusCode).toBe(403);
    expect(evil.json()).toMatchObject({ code: 'auth.cross_origin' });
    const fetchSite = await w.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: { cookie, 'sec-fetch-site': 'same-site' } });
    expect(fetchSite.statusCode).toBe(403);
    // Still signed in: neither request reached the route.
    expect((await w.app.inject({ method: 'GET', url: '/v1/auth/me', headers: { cookie, origin: 'https://evil.clinic.example' } })).statusCode).toBe(200);
    const same = await w.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: { cookie, host: 'ward.clinic.example', origin: 'https://ward.clinic.example' } });
    expect(same.statusCode).toBe(204);
    await w.log.flush();
    const refused = (await w.t.db.selectFrom('audit_entry').select('body').where('action', '=', 'auth.authenticate').execute()).map((r) => (JSON.parse(r.body) as { reason: string }).reason);
    expect(refused.filter((r) => r === 'auth.cross_origin')).toHaveLength(2);
  });

  it('never stores a username as typed in the lockout table (people type passwords there)', async () => {
    w = await createHttpWorld(dialect);
    const typed = 'Zebulon-Quill-canary-passw0rd';
    for (let i = 0; i < 2; i++) {
      const res = await w.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { username: typed, password: 'not it, not at all' } });
      expect(res.statusCode).toBe(401);
    }
    const rows = await w.t.db.selectFrom('login_throttle').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.failures).toBe(2);
    expect(rows[0]!.username).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(rows).toLowerCase()).not.toContain('zebulon');
  });

  it('ends a session after 15 minutes idle; every use restarts the idle clock', async () => {
    w = await createHttpWorld(dialect);
    const { password, totpSecret } = await w.userWithToken('idle-nurse', ['clinician']);
    const { token } = await httpSession('idle-nurse', password, totpSecret);
    w.clock.advance(15 * MINUTE - 1_000); // 14:59 after sign-in
    expect((await me(bearer(token))).statusCode).toBe(200);
    w.clock.advance(15 * MINUTE - 1_000); // 14:59 after the last use, 29:58 after sign-in
    expect((await me(bearer(token))).statusCode).toBe(200);
    w.clock.advance(15 * MINUTE); // exactly 15:00 idle is still inside the limit
    expect((await me(bearer(token))).statusCode).toBe(200);
    w.clock.advance(15 * MINUTE + 1); // just over 15 minutes idle
    const idle = await me(bearer(token));
    expectProblem(idle, 401, 'auth.unauthenticated');
    // A refused use does not count as activity: the session stays over.
    expectProblem(await me(bearer(token)), 401, 'auth.unauthenticated');
    expectProblem(await me(cookie(token)), 401, 'auth.unauthenticated');

    const refusals = await audited(w, 'auth.authenticate');
    expect(refusals.map((e) => [e.outcome, e.reason, e.details?.method])).toEqual([
      ['denied', 'auth.session_invalid', 'session'],
      ['denied', 'auth.session_invalid', 'session'],
      ['denied', 'auth.session_invalid', 'session'],
    ]);
    expect(refusals[0]?.requestId).toBe(idle.headers['x-request-id']);
    // Signing in again is the way back.
    const again = await httpSession('idle-nurse', password, totpSecret);
    expect((await me(bearer(again.token))).statusCode).toBe(200);
  });

  it('ends a session 8 hours after sign-in even with continuous activity', async () => {
    w = await createHttpWorld(dialect);
    const { password, totpSecret } = await w.userWithToken('busy-nurse', ['clinician']);
    const { token, expiresAt } = await httpSession('busy-nurse', password, totpSecret);
    const end = Date.parse(expiresAt);
    expect(end - w.clock.now().getTime()).toBe(8 * HOUR);
    let uses = 0;
    while (w.clock.now().getTime() + 14 * MINUTE < end) {
      w.clock.advance(14 * MINUTE);
      expect((await me(bearer(token))).statusCode).toBe(200);
      uses++;
    }
    expect(uses).toBeGreaterThanOrEqual(34);
    w.clock.set(new Date(end - 1));
    expect((await me(bearer(token))).statusCode).toBe(200);
    w.clock.set(new Date(end));
    expectProblem(await me(bearer(token)), 401, 'auth.unauthenticated');
    expectProblem(await me(cookie(token)), 401, 'auth.unauthenticated');
    const refusals = await audited(w, 'auth.authenticate');
    expect(refusals.map((e) => e.reason)).toEqual(['auth.session_invalid', 'auth.session_invalid']);
  });

  it('logout ends that session for the bearer token and the cookie alike, and only that session', async () => {
    w = await createHttpWorld(dialect);
    const { token: other, id, password, totpSecret } = await w.userWithToken('leaving-nurse', ['clinician']);
    const { token } = await httpSession('leaving-nurse', password, totpSecret);
    expect((await me(cookie(token))).statusCode).toBe(200);
    const out = await w.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: cookie(token) });
    expect(out.statusCode).toBe(204);
    // The browser is told to drop the cookie.
    expect(String(out.headers['set-cookie'])).toMatch(/^ward_session=;.*Max-Age=0/);
    expectProblem(await me(bearer(token)), 401, 'auth.unauthenticated');
    expectProblem(await me(cookie(token)), 401, 'auth.unauthenticated');
    expectProblem(await w.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: bearer(token) }), 401, 'auth.unauthenticated');
    // Another session of the same person is untouched.
    expect((await me(bearer(other))).statusCode).toBe(200);

    const logouts = await audited(w, 'auth.logout');
    expect(logouts.map((e) => [e.who.id, e.outcome])).toEqual([[id, 'success']]);
    expect((await audited(w, 'auth.authenticate')).map((e) => e.reason)).toEqual(['auth.session_invalid', 'auth.session_invalid', 'auth.session_invalid']);
  });

  it('a disabled account loses every session at once and cannot sign in; enabling it does not revive old sessions', async () => {
    w = await createHttpWorld(dialect);
    const { token: first, id, password, totpSecret } = await w.userWithToken('gone-nurse', ['clinician']);
    const { token: second } = await httpSession('gone-nurse', password, totpSecret);
    expect((await me(bearer(first))).statusCode).toBe(200);
    expect((await me(cookie(second))).statusCode).toBe(200);

    expect(await w.accounts.disable('gone-nurse', SYSTEM_ACTOR)).toEqual({ sessionsRevoked: 2 });
    expectProblem(await me(bearer(first)), 401, 'auth.unauthenticated');
    expectProblem(await me(bearer(second)), 401, 'auth.unauthenticated');
    expectProblem(await me(cookie(second)), 401, 'auth.unauthenticated');

    // The right password and a valid code are refused exactly like a wrong password.
    const refused = await signIn('gone-nurse', password, freshCode(totpSecret));
    const wrong = await signIn('gone-nurse', CANARY_PASSWORD);
    expectProblem(refused, 401, 'auth.bad_credentials');
    expectProblem(wrong, 401, 'auth.bad_credentials');
    expect(withoutRequestId(refused)).toEqual(withoutRequestId(wrong));
    expect(refused.headers['set-cookie']).toBeUndefined();

    const disables = await audited(w, 'account.disable');
    expect(disables.map((e) => [e.resource?.id, e.details?.sessionsRevoked])).toEqual([[id, 2]]);
    const logins = (await audited(w, 'auth.login')).filter((e) => e.outcome === 'denied');
    expect(logins.map((e) => [e.who.id, e.reason])).toEqual([[id, 'auth.account_disabled'], [id, 'auth.account_disabled']]);

    await w.accounts.enable('gone-nurse', SYSTEM_ACTOR);
    expectProblem(await me(bearer(first)), 401, 'auth.unauthenticated');
    expectProblem(await me(bearer(second)), 401, 'auth.unauthenticated');
    const { token: third } = await httpSession('gone-nurse', password, totpSecret);
    expect((await me(bearer(third))).statusCode).toBe(200);
  });

  it('refuses a live session as soon as its account is marked disabled, even before the sessions are revoked', async () => {
    w = await createHttpWorld(dialect);
    const { token } = await w.userWithToken('half-gone', ['scheduler']);
    expect((await me(bearer(token))).statusCode).toBe(200);
    // Another process disabling the account: the session row itself is still live.
    await w.t.db.updateTable('account').set({ disabled: 1 }).where('username', '=', 'half-gone').execute();
    expectProblem(await me(bearer(token)), 401, 'auth.unauthenticated');
  });

  it('locks a username after 5 failures (429 auth.locked with Retry-After, also for the right password), identically for unknown usernames, for 15 minutes', async () => {
    w = await createHttpWorld(dialect);
    const ana = await w.userWithToken('ana', ['clinician']);
    const from = '10.20.30.40';
    // The username is counted as typed, case-insensitively: changing case gains no guesses.
    for (const typed of ['ana', 'ANA', 'Ana', 'aNa', 'anA']) {
      expectProblem(await signIn(typed, CANARY_PASSWORD, undefined, from), 401, 'auth.bad_credentials');
    }
    const locked = await signIn('ana', CANARY_PASSWORD, undefined, from);
    expectProblem(locked, 429, 'auth.locked');
    expect(locked.headers['retry-after']).toBe('900');
    // The right password and a valid (next-step) code do not get through a lock.
    const nextCode = totpCodeAt(ana.totpSecret, new Date(w.clock.now().getTime() + 30_000));
    const lockedRight = await signIn('ana', ana.password, nextCode, from);
    expectProblem(lockedRight, 429, 'auth.locked');
    expect(lockedRight.headers['retry-after']).toBe('900');
    expect(lockedRight.headers['set-cookie']).toBeUndefined();

    // An unknown username, from another address, at the same moment: the same answers.
    const elsewhere = '10.20.30.41';
    for (let i = 1; i <= 5; i++) {
      expectProblem(await signIn(CANARY_USERNAME, CANARY_PASSWORD, undefined, elsewhere), 401, 'auth.bad_credentials');
    }
    const unknownLocked = await signIn(CANARY_USERNAME, CANARY_PASSWORD, undefined, elsewhere);
    expectProblem(unknownLocked, 429, 'auth.locked');
    expect(withoutRequestId(unknownLocked)).toEqual(withoutRequestId(locked));
    expect(unknownLocked.headers['retry-after']).toBe(locked.headers['retry-after']);

    // One second before the lock ends it still holds, then the right password works again.
    w.clock.advance(15 * MINUTE - 1_000);
    const almost = await signIn('ana', ana.password, totpCodeAt(ana.totpSecret, w.clock.now()), from);
    expectProblem(almost, 429, 'auth.locked');
    expect(almost.headers['retry-after']).toBe('1');
    w.clock.advance(1_000);
    const back = await signIn('ana', ana.password, totpCodeAt(ana.totpSecret, w.clock.now()), from);
    expect(back.statusCode).toBe(200);
    expect((await me(bearer(back.json<{ token: string }>().token))).statusCode).toBe(200);

    const logins = await audited(w, 'auth.login');
    const anaDenied = logins.filter((e) => e.who.id === ana.id && e.outcome === 'denied').map((e) => e.reason);
    expect(anaDenied).toEqual([...Array<string>(5).fill('auth.bad_credentials'), 'auth.locked', 'auth.locked', 'auth.locked']);
    const unknownDenied = logins.filter((e) => e.who.id === 'unknown-user').map((e) => [e.reason, e.client]);
    expect(unknownDenied).toEqual([...Array<[string, string]>(5).fill(['auth.bad_credentials', elsewhere]), ['auth.locked', elsewhere]]);
    const lockouts = await audited(w, 'auth.lockout');
    expect(lockouts.map((e) => [e.who.id, e.reason, e.details?.failures])).toEqual([[ana.id, 'auth.too_many_failures', 5], ['unknown-user', 'auth.too_many_failures', 5]]);
    expect(logins.filter((e) => e.who.id === ana.id && e.outcome === 'success')).toHaveLength(2); // userWithToken's and the one after the lock

    const written = await everythingWritten(w);
    expect(written).not.toContain(CANARY_PASSWORD);
    expect(written).not.toContain(ana.password);
    expect(written).not.toContain(CANARY_USERNAME);
    for (const body of [locked.body, lockedRight.body, unknownLocked.body]) {
      expect(body).not.toContain(CANARY_PASSWORD);
      expect(body).not.toContain(CANARY_USERNAME);
      expect(body).not.toContain('ana');
    }
  });

  it('throttles one client address after 30 failures spread over many usernames (429 auth.throttled), other addresses unaffected', async () => {
    w = await createHttpWorld(dialect);
    const bob = await w.userWithToken('bob', ['scheduler']);
    const sprayer = '203.0.113.7';
    for (let i = 0; i < 30; i++) {
      expectProblem(await signIn(`sprayed-user-${i}`, CANARY_PASSWORD, undefined, sprayer), 401, 'auth.bad_credentials');
    }
    const code = totpCodeAt(bob.totpSecret, new Date(w.clock.now().getTime() + 30_000));
    const throttled = await signIn('bob', bob.password, code, sprayer);
    expectProblem(throttled, 429, 'auth.throttled');
    expect(throttled.headers['retry-after']).toBe('600');
    // No username was locked: the same password and code work from another address.
    const other = await signIn('bob', bob.password, code, '198.51.100.9');
    expect(other.statusCode).toBe(200);
    // The window slides: ten minutes later the address may try again.
    w.clock.advance(10 * MINUTE - 1_000);
    expectProblem(await signIn('bob', bob.password, totpCodeAt(bob.totpSecret, w.clock.now()), sprayer), 429, 'auth.throttled');
    w.clock.advance(1_000);
    expect((await signIn('bob', bob.password, totpCodeAt(bob.totpSecret, w.clock.now()), sprayer)).statusCode).toBe(200);

    const denied = (await audited(w, 'auth.login')).filter((e) => e.outcome === 'denied');
    expect(denied.filter((e) => e.reason === 'auth.bad_credentials' && e.client === sprayer)).toHaveLength(30);
    expect(denied.filter((e) => e.reason === 'auth.throttled').map((e) => e.client)).toEqual([sprayer, sprayer]);
    expect(await audited(w, 'auth.lockout')).toEqual([]);
    const written = await everythingWritten(w);
    expect(written).not.toContain(CANARY_PASSWORD);
    expect(written).not.toContain('sprayed-user');
  });

  it('counts an IPv6 client by its /64: rotating addresses inside it does not reset the budget', async () => {
    w = await createHttpWorld(dialect);
    const hal = await w.userWithToken('hal', ['scheduler']);
    for (let i = 0; i < 30; i++) {
      expectProblem(await signIn(`v6-sprayed-${i}`, CANARY_PASSWORD, undefined, `2001:db8:7:1::${(i + 1).toString(16)}`), 401, 'auth.bad_credentials');
    }
    const code = totpCodeAt(hal.totpSecret, new Date(w.clock.now().getTime() + 30_000));
    expectProblem(await signIn('hal', hal.password, code, '2001:db8:7:1:ffff:1:2:3'), 429, 'auth.throttled');
    expect((await signIn('hal', hal.password, code, '2001:db8:7:2::1')).statusCode).toBe(200);
  });

  it('refuses a TOTP code used twice in its step, and an older step after a newer one, like a wrong password', async () => {
    w = await createHttpWorld(dialect);
    const cara = await w.userWithToken('cara', ['clinician']);
    const code = freshCode(cara.totpSecret);
    const first = await signIn('cara', cara.password, code);
    expect(first.statusCode).toBe(200);
    const replay = await signIn('cara', cara.password, code);
    expectProblem(replay, 401, 'auth.bad_credentials');
    const wrong = await signIn('cara', CANARY_PASSWORD);
    expect(withoutRequestId(replay)).toEqual(withoutRequestId(wrong));

    // The next step's code is accepted early (clock drift); the current step's, unused until
    // now, is older and therefore spent.
    w.clock.advance(30_000);
    const now = w.clock.now().getTime();
    const newer = totpCodeAt(cara.totpSecret, new Date(now + 30_000));
    const older = totpCodeAt(cara.totpSecret, new Date(now));
    expect((await signIn('cara', cara.password, newer)).statusCode).toBe(200);
    const stale = await signIn('cara', cara.password, older);
    expectProblem(stale, 401, 'auth.bad_credentials');
    // A code that was never valid is refused with its own reason.
    expectProblem(await signIn('cara', cara.password, codeNotValidAt(cara.totpSecret, w.clock.now())), 401, 'auth.bad_credentials');

    const denied = (await audited(w, 'auth.login')).filter((e) => e.outcome === 'denied').map((e) => e.reason);
    expect(denied).toEqual(['auth.totp_replayed', 'auth.bad_credentials', 'auth.totp_replayed', 'auth.totp_invalid']);
    const written = await everythingWritten(w);
    for (const c of [code, newer, older]) {
      expect(written).not.toMatch(standalone(c));
      expect(replay.body + stale.body).not.toContain(c);
    }
    expect(written).not.toContain(cara.password);
  });

  it('counts wrong TOTP codes after a right password towards the lock, so codes cannot be guessed online', async () => {
    w = await createHttpWorld(dialect);
    const eve = await w.userWithToken('eve', ['clinician']);
    w.clock.advance(30_000);
    const wrongCode = codeNotValidAt(eve.totpSecret, w.clock.now());
    for (let i = 1; i <= 5; i++) {
      expectProblem(await signIn('eve', eve.password, wrongCode, '10.9.8.7'), 401, 'auth.bad_credentials');
    }
    const locked = await signIn('eve', eve.password, totpCodeAt(eve.totpSecret, w.clock.now()), '10.9.8.7');
    expectProblem(locked, 429, 'auth.locked');
    const denied = (await audited(w, 'auth.login')).filter((e) => e.outcome === 'denied').map((e) => e.reason);
    expect(denied).toEqual([...Array<string>(5).fill('auth.totp_invalid'), 'auth.locked']);
    expect((await audited(w, 'auth.lockout')).map((e) => [e.who.id, e.reason])).toEqual([[eve.id, 'auth.too_many_failures']]);
    expect(await everythingWritten(w)).not.toMatch(standalone(wrongCode));
  });

  it('does not let simultaneous guesses get past the lock: of 20 concurrent wrong passwords at most 5 are checked', async () => {
    w = await createHttpWorld(dialect);
    await w.userWithToken('fay', ['clinician']);
    // From 20 addresses, so the per-address budget plays no part.
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => signIn('fay', `${CANARY_PASSWORD}-${i}`, undefined, `10.66.0.${i + 1}`)));
    const statuses = replies.map((r) => r.statusCode);
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
    for (const r of replies) expectProblem(r, r.statusCode, r.statusCode === 401 ? 'auth.bad_credentials' : 'auth.locked');
    const checked = (await audited(w, 'auth.login')).filter((e) => e.reason === 'auth.bad_credentials');
    expect(checked.length).toBeLessThanOrEqual(5);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(5);
  });

  it('opens one session for one code even when two sign-ins race with it', async () => {
    w = await createHttpWorld(dialect);
    const gil = await w.userWithToken('gil', ['clinician']);
    const code = freshCode(gil.totpSecret);
    const replies = await Promise.all([signIn('gil', gil.password, code), signIn('gil', gil.password, code)]);
    expect(replies.map((r) => r.statusCode).sort()).toEqual([200, 401]);
    const loser = replies.find((r) => r.statusCode === 401);
    if (loser === undefined) throw new Error('no refused sign-in');
    expectProblem(loser, 401, 'auth.bad_credentials');
    expect((await audited(w, 'auth.login')).filter((e) => e.outcome === 'denied').map((e) => e.reason)).toEqual(['auth.totp_replayed']);
  });

  it('sets the session cookie HttpOnly, Secure and SameSite=Strict, and accepts it in place of the bearer token', async () => {
    w = await createHttpWorld(dialect);
    const { id, password, totpSecret } = await w.userWithToken('cookie-nurse', ['clinician']);
    const { token, setCookie } = await httpSession('cookie-nurse', password, totpSecret);
    expect(setCookie.startsWith(`ward_session=${token};`)).toBe(true);
    const attributes = setCookie.split(';').map((a) => a.trim());
    expect(attributes).toEqual(expect.arrayContaining(['HttpOnly', 'Secure', 'SameSite=Strict', 'Path=/']));
    const viaCookie = await me(cookie(token));
    expect(viaCookie.statusCode).toBe(200);
    expect(viaCookie.json()).toMatchObject({ id, kind: 'person', authn: 'session', roles: ['clinician'] });
    expectProblem(await me(cookie('wss_forged-session-token-value')), 401, 'auth.unauthenticated');
    expectProblem(await me({}), 401, 'auth.unauthenticated');
    expect((await audited(w, 'auth.authenticate')).map((e) => e.reason)).toEqual(['auth.session_invalid', 'auth.credential_missing']);
  });

  it('gives the session cookie a Max-Age equal to the session lifetime on the server clock (8 h)', async () => {
    w = await createHttpWorld(dialect);
    const { password, totpSecret } = await w.userWithToken('maxage-nurse', ['clinician']);
    const { setCookie, expiresAt } = await httpSession('maxage-nurse', password, totpSecret);
    expect(Date.parse(expiresAt) - w.clock.now().getTime()).toBe(8 * HOUR);
    expect(setCookie).toContain('Max-Age=28800');
  });

  it('audits every sign-in outcome with its reason code and never the password, code or typed username', async () => {
    w = await createHttpWorld(dialect);
    const dee = await w.userWithToken('dee', ['clinician']);
    const outcomes: [string, Reply][] = [];
    outcomes.push(['wrong password', await signIn('dee', CANARY_PASSWORD)]);
    outcomes.push(['unknown user', await signIn(CANARY_USERNAME, CANARY_PASSWORD)]);
    outcomes.push(['no code', await signIn('dee', dee.password)]);
    const code = freshCode(dee.totpSecret);
    outcomes.push(['ok', await signIn('dee', dee.password, code)]);
    outcomes.push(['replay', await signIn('dee', dee.password, code)]);
    expect(outcomes.map(([label, r]) => [label, r.statusCode])).toEqual([
      ['wrong password', 401], ['unknown user', 401], ['no code', 401], ['ok', 200], ['replay', 401],
    ]);
    expectProblem(outcomes[2]![1], 401, 'auth.mfa_required');
    const logins = await audited(w, 'auth.login');
    // The first success is userWithToken's own sign-in.
    expect(logins.map((e) => [e.who.id, e.outcome, e.reason])).toEqual([
      [dee.id, 'success', undefined],
      [dee.id, 'denied', 'auth.bad_credentials'],
      ['unknown-user', 'denied', 'auth.bad_credentials'],
      [dee.id, 'denied', 'auth.mfa_required'],
      [dee.id, 'success', undefined],
      [dee.id, 'denied', 'auth.totp_replayed'],
    ]);
    // Each HTTP sign-in's entry names its request and client address.
    expect(logins.slice(1).map((e) => e.requestId)).toEqual(outcomes.map(([, r]) => r.headers['x-request-id']));
    expect(logins.slice(1).every((e) => e.client === '127.0.0.1')).toBe(true);
    const written = await everythingWritten(w);
    expect(written).not.toContain(CANARY_PASSWORD);
    expect(written).not.toContain(dee.password);
    expect(written).not.toContain(CANARY_USERNAME);
    expect(written).not.toMatch(standalone(code));
    for (const [, r] of outcomes.filter(([label]) => label !== 'ok')) {
      expect(r.body).not.toContain(CANARY_PASSWORD);
      expect(r.body).not.toContain(dee.password);
      expect(r.body).not.toContain(CANARY_USERNAME);
    }
  });
});
