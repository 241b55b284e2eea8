/**
 * Sessions on both databases: the work a login does does not depend on whether the account
 * exists or is disabled, a password change ends every session in its own audited transaction,
 * a token resolves with one read, and password verifications are capped.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { testDialects } from '../storage/testing/test-databases.js';
import { createAuditWorld } from '../audit/testing/audit-world.js';
import type { AuditWorld } from '../audit/testing/audit-world.js';
import { AccountService } from './account-service.js';
import { SessionService } from './session-service.js';
import { BoundedConcurrency } from './bounded-concurrency.js';
import type { Principal } from './principal.js';

const ADMIN: Principal = { id: 'ward', kind: 'system', roles: [] };
const PASSWORD = 'correct horse battery staple here';

/** Counts the operations it admits: one per argon2id verification. */
class CountingConcurrency extends BoundedConcurrency {
  runs = 0;
  override run<T>(operation: () => Promise<T>): Promise<T> {
    this.runs++;
    return super.run(operation);
  }
}

interface World {
  w: AuditWorld;
  accounts: AccountService;
  sessions: SessionService;
  verifications: CountingConcurrency;
  /** An account whose one-time password is already replaced by PASSWORD. */
  account(username: string, roles?: string[]): Promise<string>;
  entries(action: string): Promise<Record<string, unknown>[]>;
}

describe.each(testDialects())('SessionService on $name', (dialect) => {
  let w: AuditWorld | undefined;
  afterEach(async () => {
    await w?.dispose();
    w = undefined;
  });

  async function world(limits = { maxInFlight: 4, maxQueued: 32 }): Promise<World> {
    w = await createAuditWorld(dialect);
    const aw = w;
    const accounts = new AccountService(aw.t.db, aw.log, aw.clock);
    const verifications = new CountingConcurrency(limits);
    const sessions = new SessionService(aw.t.db, aw.log, accounts, aw.clock, { idleMinutes: 15, absoluteHours: 8 }, verifications);
    return {
      w: aw, accounts, sessions, verifications,
      async account(username, roles = ['clinician']) {
        const { account, oneTimePassword } = await accounts.create({ username, roles }, ADMIN);
        await accounts.changePassword(account.id, oneTimePassword, PASSWORD);
        return account.id;
      },
      async entries(action) {
        await aw.log.flush();
        const rows = await aw.t.db.selectFrom('audit_entry').select('body').where('action', '=', action).orderBy('seq').execute();
        return rows.map((r) => JSON.parse(r.body) as Record<string, unknown>);
      },
    };
  }

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
    expect(await x.sessions.revokeAll(id, ADMIN, { requestId: 'req-2' })).toBe(1);
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
    expect(await x.sessions.authenticate(s.token)).toEqual({ id, kind: 'person', roles: ['coder'], mustChangePassword: false });
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
});
