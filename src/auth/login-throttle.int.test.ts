/**
 * Username lockout on both databases (NIST SP 800-63B 5.2.2): five consecutive failures lock
 * the username for fifteen minutes; a locked sign-in is refused before any password work,
 * with the same answer for an unknown username as for a real one; time unlocks it, a success
 * resets the count, and failures older than the window are forgotten.
 */
import { describe, expect, it } from 'vitest';
import { testDialects } from '../storage/testing/test-databases.js';
import { LoginThrottle, loginKeyOf, hashedThrottleKey } from './login-throttle.js';
import { PASSWORD, SYSTEM, authWorldPerTest } from './testing/auth-world.js';
import type { AuthWorld } from './testing/auth-world.js';

const WRONG = 'not the password at all, sorry';
const LOCK_MS = 15 * 60_000;

interface World extends AuthWorld {
  throttle: LoginThrottle;
  fail(username: string, times: number): Promise<void>;
}

describe.each(testDialects())('LoginThrottle on $name', (dialect) => {
  const authWorld = authWorldPerTest(dialect);

  async function world(): Promise<World> {
    const x = await authWorld({ creator: SYSTEM, verifications: { maxInFlight: 4, maxQueued: 32 } });
    return {
      ...x,
      throttle: x.loginThrottle,
      async fail(username, times) {
        for (let i = 0; i < times; i++) {
          await expect(x.sessions.login(username, WRONG)).rejects.toMatchObject({ code: 'auth.bad_credentials', status: 401 });
        }
      },
    };
  }

  const refusal = (e: unknown): Record<string, unknown> => {
    const { code, status, message, extra } = e as { code: string; status: number; message: string; extra: unknown };
    return { code, status, message, extra };
  };

  it('locks a username after five consecutive failures, refusing even the right password without verifying it', async () => {
    const x = await world();
    const id = await x.account('ana');
    await x.fail('ana', 4);
    expect(await x.throttle.lockState('ana')).toEqual({ locked: false });
    await x.fail('ana', 1);
    const runs = x.verifications.runs;
    const e = await x.sessions.login('ana', PASSWORD).catch((err: unknown) => err);
    expect(refusal(e)).toMatchObject({ code: 'auth.locked', status: 429, extra: { retryAfterSeconds: 900 } });
    expect(x.verifications.runs).toBe(runs);
    expect(await x.throttle.lockState('ana')).toMatchObject({ locked: true, retryAfterSeconds: 900 });

    const lockouts = await x.entries('auth.lockout');
    expect(lockouts).toEqual([expect.objectContaining({ who: { id, kind: 'person' }, outcome: 'success', reason: 'auth.too_many_failures', resource: { type: 'Account', id }, details: { failures: 5, lockMinutes: 15 } })]);
    const reasons = (await x.entries('auth.login')).filter((r) => r.outcome === 'denied').map((r) => r.reason);
    expect(reasons).toEqual([...Array<string>(5).fill('auth.bad_credentials'), 'auth.locked']);
    const listed = (await x.accounts.list()).find((a) => a.id === id);
    expect(listed?.lockedUntil).toBe(new Date(x.w.clock.now().getTime() + LOCK_MS).toISOString());
  });

  it('answers an unknown username exactly as a real one: same failures, same lock, same refusal', async () => {
    const x = await world();
    await x.account('ana');
    await x.fail('ana', 5);
    await x.fail('nobody', 5);
    const real = await x.sessions.login('ana', PASSWORD).catch((err: unknown) => err);
    const unknown = await x.sessions.login('nobody', PASSWORD).catch((err: unknown) => err);
    expect(refusal(unknown)).toEqual(refusal(real));
    expect(refusal(real)).toMatchObject({ code: 'auth.locked' });
    const lockouts = await x.entries('auth.lockout');
    expect(lockouts.map((l) => (l.who as { id: string }).id)).toEqual([expect.stringMatching(/^usr_/), 'unknown-user']);
    // The typed username is never recorded (it may be a mistyped password).
    for (const l of lockouts) expect(JSON.stringify(l)).not.toContain('nobody');
  });

  it('counts a username the same however it is capitalized', async () => {
    const x = await world();
    await x.account('ana');
    await x.fail('ANA', 2);
    await x.fail('Ana', 2);
    await x.fail('ana', 1);
    await expect(x.sessions.login('ana', PASSWORD)).rejects.toMatchObject({ code: 'auth.locked' });
    expect(loginKeyOf('AnA')).toBe('ana');
  });

  it('unlocks when the lock time has passed, and not a moment before', async () => {
    const x = await world();
    await x.account('ana');
    await x.fail('ana', 5);
    x.w.clock.advance(LOCK_MS - 1000);
    await expect(x.sessions.login('ana', PASSWORD)).rejects.toMatchObject({ code: 'auth.locked', extra: { retryAfterSeconds: 1 } });
    x.w.clock.advance(1000);
    expect((await x.sessions.login('ana', PASSWORD)).token).toMatch(/^wss_/);
  });

  it('after a lock expires, a new failure starts counting from one', async () => {
    const x = await world();
    await x.account('ana');
    await x.fail('ana', 5);
    x.w.clock.advance(LOCK_MS);
    await x.fail('ana', 4);
    expect((await x.sessions.login('ana', PASSWORD)).token).toMatch(/^wss_/);
  });

  it('a success resets the count', async () => {
    const x = await world();
    await x.account('ana');
    await x.fail('ana', 4);
    await x.sessions.login('ana', PASSWORD);
    expect(await x.w.t.db.selectFrom('login_throttle').selectAll().execute()).toEqual([]);
    await x.fail('ana', 4);
    expect((await x.sessions.login('ana', PASSWORD)).token).toMatch(/^wss_/);
    await x.fail('ana', 5);
    await expect(x.sessions.login('ana', PASSWORD)).rejects.toMatchObject({ code: 'auth.locked' });
  });

  it('forgets failures older than the lock window', async () => {
    const x = await world();
    await x.account('ana');
    await x.fail('ana', 4);
    x.w.clock.advance(LOCK_MS + 1);
    await x.fail('ana', 4);
    expect(await x.throttle.lockState('ana')).toEqual({ locked: false });
    expect(await x.w.t.db.selectFrom('login_throttle').select('failures').executeTakeFirstOrThrow()).toEqual({ failures: 4 });
  });

  it('prunes rows that neither lock nor remember a failure', async () => {
    const x = await world();
    await x.fail('ghost-one', 2);
    await x.fail('ghost-two', 5);
    x.w.clock.advance(LOCK_MS - 1);
    await x.fail('ghost-three', 1);
    expect(await x.throttle.prune(x.w.t.db)).toBe(0);
    x.w.clock.advance(2);
    expect(await x.throttle.prune(x.w.t.db)).toBe(2);
    expect((await x.w.t.db.selectFrom('login_throttle').select('username').execute()).map((r) => r.username)).toEqual([hashedThrottleKey('ghost-three')]);
  });

  it('refuses nonsense settings', async () => {
    const x = await world();
    expect(() => new LoginThrottle(x.w.t.db, x.w.clock, { maxFailures: 0 })).toThrow(expect.objectContaining({ code: 'config.invalid' }));
    expect(() => new LoginThrottle(x.w.t.db, x.w.clock, { lockMinutes: 0 })).toThrow(expect.objectContaining({ code: 'config.invalid' }));
  });
});
