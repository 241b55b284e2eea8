/**
 * Account management on both databases: the list (roles, second factor, lock, no secrets),
 * disabling (every session ends in the same audited transaction, sign-in refused) and
 * enabling, person roles only.
 */
import { describe, expect, it } from 'vitest';
import { testDialects } from '../storage/testing/test-databases.js';
import { ADMIN, PASSWORD, authWorldPerTest } from './testing/auth-world.js';
import { totpCodeAt } from './testing/totp-helper.js';

describe.each(testDialects())('AccountService on $name', (dialect) => {
  const world = authWorldPerTest(dialect);

  it('disabling ends every session at once, in the audited transaction, and refuses sign-in', async () => {
    const x = await world();
    const id = await x.account('ana');
    const one = await x.sessions.login('ana', PASSWORD);
    const two = await x.sessions.login('ana', PASSWORD);
    expect(await x.sessions.authenticate(one.token)).toBeDefined();
    expect(await x.accounts.disable('ana', ADMIN, { requestId: 'req-1' })).toEqual({ sessionsRevoked: 2 });
    expect(await x.sessions.authenticate(one.token)).toBeUndefined();
    expect(await x.sessions.authenticate(two.token)).toBeUndefined();
    const revoked = await x.w.t.db.selectFrom('session').select('revoked').execute();
    expect(revoked.map((r) => r.revoked)).toEqual([1, 1]);
    await expect(x.sessions.login('ana', PASSWORD)).rejects.toMatchObject({ code: 'auth.bad_credentials', status: 401 });
    expect(await x.entries('account.disable')).toEqual([
      expect.objectContaining({ who: { id: ADMIN.id, kind: 'person' }, outcome: 'success', resource: { type: 'Account', id }, details: { sessionsRevoked: 2 }, requestId: 'req-1' }),
    ]);
    expect((await x.entries('auth.login')).at(-1)).toMatchObject({ outcome: 'denied', reason: 'auth.account_disabled' });

    await x.accounts.enable('ana', ADMIN, { requestId: 'req-2' });
    // Enabling does not bring old sessions back.
    expect(await x.sessions.authenticate(one.token)).toBeUndefined();
    expect((await x.sessions.login('ana', PASSWORD)).token).toMatch(/^wss_/);
    expect(await x.entries('account.enable')).toEqual([expect.objectContaining({ outcome: 'success', resource: { type: 'Account', id }, requestId: 'req-2' })]);
  });

  it('refuses to disable an unknown account or one\'s own', async () => {
    const x = await world();
    const id = await x.account('ana', ['admin']);
    await expect(x.accounts.disable('nobody', ADMIN)).rejects.toMatchObject({ code: 'account.not_found', status: 404 });
    await expect(x.accounts.enable('nobody', ADMIN)).rejects.toMatchObject({ code: 'account.not_found', status: 404 });
    await expect(x.accounts.disable('ana', { id, kind: 'person', roles: ['admin'] })).rejects.toMatchObject({ code: 'account.disable_self', status: 409 });
    expect((await x.accounts.findByUsername('ana'))?.disabled).toBe(false);
    expect(await x.entries('account.disable')).toEqual([]);
  });

  it('lists accounts with roles, second factor, disabled and lock state, and nothing secret', async () => {
    const x = await world();
    const ana = await x.account('ana', ['clinician', 'coder']);
    const bob = await x.account('bob', ['admin']);
    const cy = await x.account('cy', ['scheduler']);
    const { secret } = await x.mfa.beginTotp(ana, 'ana');
    await x.mfa.confirmTotp(ana, totpCodeAt(secret, x.w.clock.now()));
    await x.accounts.disable('cy', ADMIN);
    for (let i = 0; i < 5; i++) await x.sessions.login('bob', 'wrong password wrong password').catch(() => undefined);
    const now = x.w.clock.now();
    const created = now.toISOString();
    const lockedUntil = new Date(now.getTime() + 15 * 60_000).toISOString();
    const list = await x.accounts.list();
    expect(list).toEqual([
      { id: ana, username: 'ana', roles: ['clinician', 'coder'], mfaEnrolled: true, disabled: false, lockedUntil: null, createdAt: created },
      { id: bob, username: 'bob', roles: ['admin'], mfaEnrolled: false, disabled: false, lockedUntil, createdAt: created },
      { id: cy, username: 'cy', roles: ['scheduler'], mfaEnrolled: false, disabled: true, lockedUntil: null, createdAt: created },
    ]);
    expect(JSON.stringify(list)).not.toMatch(/argon2|sb1\./);
    // An expired lock is not shown.
    x.w.clock.advance(15 * 60_000);
    expect((await x.accounts.list()).find((a) => a.id === bob)?.lockedUntil).toBeNull();
    // A pending (unconfirmed) authenticator is not an enrolled one.
    await x.mfa.beginTotp(bob, 'bob');
    expect((await x.accounts.list()).find((a) => a.id === bob)?.mfaEnrolled).toBe(false);
  });

  it('holds person roles only: a service role is refused at creation and never granted from storage', async () => {
    const x = await world();
    await expect(x.accounts.create({ username: 'robot', roles: ['workflow'] }, ADMIN)).rejects.toMatchObject({ code: 'account.invalid_role', status: 400 });
    const id = await x.account('ana');
    await x.w.t.db.updateTable('account').set({ roles: JSON.stringify(['clinician', 'integration']) }).where('id', '=', id).execute();
    expect((await x.accounts.findById(id))?.roles).toEqual(['clinician']);
    expect((await x.accounts.list())[0]?.roles).toEqual(['clinician']);
    const s = await x.sessions.login('ana', PASSWORD);
    expect(s.principal.roles).toEqual(['clinician']);
    expect((await x.sessions.authenticate(s.token))?.roles).toEqual(['clinician']);
  });
});
