/**
 * Sessions for people: an opaque 256-bit bearer token, stored only as its SHA-256 hash, with
 * an idle timeout and an absolute lifetime (automatic logoff, 45 CFR 164.312(a)(2)(iii)).
 * A disabled account's sessions stop working at once because every request re-reads the
 * account (joined with the session). Login success and failure are both audited; the failure
 * message and the work done (one argon2id verification) are the same for an unknown user, a
 * disabled account and a wrong password.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { WardSchema } from '../storage/schema.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../shared/clock.js';
import { WardError } from '../shared/ward-error.js';
import { verifyPassword, hashPassword } from './password-hasher.js';
import type { AccountService } from './account-service.js';
import type { AuditContext } from '../audit/audit-entry-of.js';
import { auditEntryOf } from '../audit/audit-entry-of.js';
import type { Principal } from './principal.js';
import { parseRoles } from './roles.js';
import { BoundedConcurrency } from './bounded-concurrency.js';
import { revokeSessionsOf } from './revoke-sessions.js';

export interface SessionPolicy {
  idleMinutes: number;
  absoluteHours: number;
}

export const SESSION_TOKEN_PREFIX = 'wss_';

/**
 * Limits on password verifications in flight: each argon2id verification holds 19 MiB, and
 * login is reachable without credentials, so a flood must queue (briefly) or be refused with
 * 429 rather than exhaust memory. Each SessionService (one per process, built by the
 * composition root) owns its limiter: no state shared through module globals.
 */
export const PASSWORD_VERIFICATION_LIMITS = { maxInFlight: 4, maxQueued: 64 } as const;

function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export class SessionService {
  /** A real argon2id hash to verify against when the username is unknown, so timing does not reveal which usernames exist. */
  private dummyHash: Promise<string> | undefined;

  constructor(
    private readonly db: Kysely<WardSchema>,
    private readonly audit: AuditLog,
    private readonly accounts: AccountService,
    private readonly clock: Clock,
    private readonly policy: SessionPolicy,
    private readonly verifications: BoundedConcurrency = new BoundedConcurrency(PASSWORD_VERIFICATION_LIMITS),
  ) {}

  async login(username: string, password: string, context: AuditContext = {}): Promise<{ token: string; principal: Principal; expiresAt: string }> {
    const account = await this.accounts.findByUsername(username);
    this.dummyHash ??= hashPassword('not-a-real-password-for-timing');
    const storedHash = account?.passwordHash ?? (await this.dummyHash);
    // Verified even when the account is disabled: skipping the work would make a disabled
    // account answer measurably faster than an enabled one.
    const verified = await this.verifications.run(() => verifyPassword(storedHash, password));
    const ok = account !== undefined && !account.disabled && verified;
    if (!ok) {
      await this.audit.append(
        auditEntryOf({ id: account?.id ?? 'unknown-user', kind: 'person' }, 'auth.login', 'denied', { reason: account?.disabled ? 'auth.account_disabled' : 'auth.bad_credentials' }, context),
      );
      throw new WardError('auth.bad_credentials', 'username or password is not correct', { status: 401 });
    }
    const token = SESSION_TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const now = this.clock.now();
    const expiresAt = new Date(now.getTime() + this.policy.absoluteHours * 3_600_000).toISOString();
    const principal: Principal = { id: account.id, kind: 'person', roles: account.roles, mustChangePassword: account.mustChangePassword };
    await this.audit.transact(async (trx, record) => {
      await trx
        .insertInto('session')
        .values({ token_hash: tokenHash(token), account_id: account.id, created_at: now.toISOString(), last_seen_at: now.toISOString(), expires_at: expiresAt, revoked: 0 })
        .execute();
      record(auditEntryOf(principal, 'auth.login', 'success', {}, context));
    });
    return { token, principal, expiresAt };
  }

  /** The principal behind a token, or undefined when the token is unknown, revoked, idle too long, expired, or its account disabled. */
  async authenticate(token: string): Promise<Principal | undefined> {
    if (!token.startsWith(SESSION_TOKEN_PREFIX) || token.length > 128) return undefined;
    const row = await this.db
      .selectFrom('session')
      .innerJoin('account', 'account.id', 'session.account_id')
      .select(['session.token_hash', 'session.last_seen_at', 'session.expires_at', 'session.revoked', 'account.id', 'account.roles', 'account.disabled', 'account.must_change_password'])
      .where('session.token_hash', '=', tokenHash(token))
      .executeTakeFirst();
    if (!row || row.revoked || row.disabled) return undefined;
    const now = this.clock.now();
    if (now.toISOString() >= row.expires_at) return undefined;
    if (now.getTime() - Date.parse(row.last_seen_at) > this.policy.idleMinutes * 60_000) return undefined;
    await this.db.updateTable('session').set({ last_seen_at: now.toISOString() }).where('token_hash', '=', row.token_hash).execute();
    return { id: row.id, kind: 'person', roles: parseRoles(row.roles), mustChangePassword: row.must_change_password === 1 };
  }

  async logout(token: string, principal: Principal, context: AuditContext = {}): Promise<void> {
    await this.audit.transact(async (trx, record) => {
      await trx.updateTable('session').set({ revoked: 1 }).where('token_hash', '=', tokenHash(token)).execute();
      record(auditEntryOf(principal, 'auth.logout', 'success', {}, context));
    });
  }

  /**
   * Revoke every session of an account, audited in the same transaction (for disabling an
   * account; a password change revokes inside its own transaction). Returns how many ended.
   */
  async revokeAll(accountId: string, actor: Principal, context: AuditContext = {}): Promise<number> {
    return this.audit.transact(async (trx, record) => {
      const sessionsRevoked = await revokeSessionsOf(trx, accountId);
      record(auditEntryOf(actor, 'auth.sessions_revoked', 'success', { resource: { type: 'Account', id: accountId }, details: { sessionsRevoked } }, context));
      return sessionsRevoked;
    });
  }
}
