/**
 * One-call test world for identity suites: an audit world (migrated database of the given
 * dialect, AuditLog, fixed clock) with the account, second-factor and session services over
 * it, a throwaway SecretBox key, and helpers to make a signed-in-ready account and read audit
 * bodies. Each world must be disposed after its test: `authWorldPerTest` registers that
 * `afterEach` for you, or call `dispose()` yourself.
 */
import { randomBytes } from 'node:crypto';
import { afterEach } from 'vitest';
import type { TestDialect } from '../../storage/testing/test-databases.js';
import { createAuditWorld } from '../../audit/testing/audit-world.js';
import type { AuditWorld } from '../../audit/testing/audit-world.js';
import { SecretBox } from '../../storage/secret-box.js';
import { AccountService } from '../account-service.js';
import { MfaService } from '../mfa-service.js';
import { SessionService } from '../session-service.js';
import { PASSWORD_VERIFICATION_LIMITS } from '../password-limits.js';
import type { SessionPolicy } from '../session-service.js';
import { BoundedConcurrency } from '../bounded-concurrency.js';
import type { BoundedConcurrencyOptions } from '../bounded-concurrency.js';
import { LoginThrottle } from '../login-throttle.js';
import type { LoginThrottleOptions } from '../login-throttle.js';
import { ClientThrottle } from '../client-throttle.js';
import type { ClientThrottleOptions } from '../client-throttle.js';
import type { Principal } from '../principal.js';

/** An administrator person, the usual actor for account and key changes. */
export const ADMIN: Principal = { id: 'usr_admin', kind: 'person', roles: ['admin'] };
/** Ward itself (the CLI or a scheduled job), an actor with no roles. */
export const SYSTEM: Principal = { id: 'ward', kind: 'system', roles: [] };
/** The password every `account()` ends up with. */
export const PASSWORD = 'correct horse battery staple here';

/** Counts the operations it admits: one per argon2id verification. */
export class CountingConcurrency extends BoundedConcurrency {
  runs = 0;
  override run<T>(operation: () => Promise<T>): Promise<T> {
    this.runs++;
    return super.run(operation);
  }
}

export interface AuthWorldOptions {
  /** Who creates the accounts `account()` makes (default ADMIN). */
  creator?: Principal;
  /** Session timeouts (default 15 idle minutes, 8 absolute hours). */
  policy?: SessionPolicy;
  /** Per-username lockout settings (default: the LoginThrottle defaults). */
  loginThrottle?: LoginThrottleOptions;
  /** Per-client failure budget settings (default: the ClientThrottle defaults). */
  clientThrottle?: ClientThrottleOptions;
  /** Limits on password verifications in flight (default `PASSWORD_VERIFICATION_LIMITS`). */
  verifications?: BoundedConcurrencyOptions;
}

export interface AuthWorld {
  w: AuditWorld;
  /** The SecretBox (a random key) sealing second-factor secrets. */
  box: SecretBox;
  accounts: AccountService;
  mfa: MfaService;
  sessions: SessionService;
  loginThrottle: LoginThrottle;
  clientThrottle: ClientThrottle;
  verifications: CountingConcurrency;
  /** An account whose one-time password is already replaced by PASSWORD; returns its id. */
  account(username: string, roles?: string[]): Promise<string>;
  /** The audit bodies recorded for `action`, oldest first (after a flush). */
  entries(action: string): Promise<Record<string, unknown>[]>;
  /** Every audit body as stored (after a flush). */
  bodies(): Promise<string[]>;
  dispose(): Promise<void>;
}

export async function createAuthWorld(dialect: TestDialect, options: AuthWorldOptions = {}): Promise<AuthWorld> {
  const w = await createAuditWorld(dialect);
  const creator = options.creator ?? ADMIN;
  const box = new SecretBox({ activeId: 'kek-1', keys: new Map([['kek-1', randomBytes(32)]]) });
  const accounts = new AccountService(w.t.db, w.log, w.clock);
  const mfa = new MfaService(w.t.db, w.log, box, w.clock);
  const loginThrottle = new LoginThrottle(w.t.db, w.clock, options.loginThrottle);
  const clientThrottle = new ClientThrottle(w.clock, options.clientThrottle);
  const verifications = new CountingConcurrency(options.verifications ?? PASSWORD_VERIFICATION_LIMITS);
  const policy = options.policy ?? { idleMinutes: 15, absoluteHours: 8 };
  const sessions = new SessionService(w.t.db, w.log, accounts, w.clock, policy, { mfa, loginThrottle, clientThrottle, verifications });
  return {
    w, box, accounts, mfa, sessions, loginThrottle, clientThrottle, verifications,
    async account(username, roles = ['clinician']) {
      const { account, oneTimePassword } = await accounts.create({ username, roles }, creator);
      await accounts.changePassword(account.id, oneTimePassword, PASSWORD);
      return account.id;
    },
    async entries(action) {
      await w.log.flush();
      const rows = await w.t.db.selectFrom('audit_entry').select('body').where('action', '=', action).orderBy('seq').execute();
      return rows.map((r) => JSON.parse(r.body) as Record<string, unknown>);
    },
    async bodies() {
      await w.log.flush();
      return (await w.t.db.selectFrom('audit_entry').select('body').execute()).map((r) => r.body);
    },
    dispose: () => w.dispose(),
  };
}

/**
 * Call inside a `describe`: registers an `afterEach` that disposes the world the test made,
 * and returns the function that makes it (one world per test).
 */
export function authWorldPerTest(dialect: TestDialect): (options?: AuthWorldOptions) => Promise<AuthWorld> {
  let current: AuthWorld | undefined;
  afterEach(async () => {
    await current?.dispose();
    current = undefined;
  });
  return async (options) => (current = await createAuthWorld(dialect, options));
}
