/**
 * Sessions for people: an opaque 256-bit bearer token, stored only as its SHA-256 hash, with
 * an idle timeout and an absolute lifetime (automatic logoff, 45 CFR 164.312(a)(2)(iii);
 * NIST SP 800-63B 7.1). A disabled account's sessions stop working at once because every
 * request re-reads the account (joined with the session).
 *
 * Sign-in, in order (NIST SP 800-63B 5.2.2 rate limiting, then 164.312(d) authentication):
 * the client address's failure budget, the username's lock, the password, the second factor.
 * A locked or throttled attempt is refused before any argon2id work. Otherwise the failure
 * message and the work done (one argon2id verification) are the same for an unknown user, a
 * disabled account and a wrong password. Every success and refusal is audited, with the
 * reason code and never the password, code or username.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { WardSchema } from '../storage/schema.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { AuditEntryInput } from '../audit/audit-entry.js';
import type { Clock } from '../shared/clock.js';
import { WardError } from '../shared/ward-error.js';
import { verifyPassword, hashPassword } from './password-hasher.js';
import type { AccountService } from './account-service.js';
import type { AuditContext } from '../audit/audit-entry-of.js';
import { auditEntryOf } from '../audit/audit-entry-of.js';
import type { Principal } from './principal.js';
import { isPersonRole, parseRoles } from './roles.js';
import { BoundedConcurrency } from './bounded-concurrency.js';
import { PASSWORD_VERIFICATION_LIMITS } from './password-limits.js';
import { revokeSessionsOf } from './revoke-sessions.js';
import type { MfaService } from './mfa-service.js';
import { LoginThrottle, loginKeyOf } from './login-throttle.js';
import { ClientThrottle } from './client-throttle.js';

export interface SessionPolicy {
  idleMinutes: number;
  absoluteHours: number;
}

/** What a sign-in carries besides the username and password. */
export interface LoginOptions {
  /** The six-digit code of the account's authenticator, when it has one. */
  totp?: string;
  /** The client address, for the per-client failure budget (defaults to `context.client`). */
  client?: string;
}

/** The collaborators a SessionService checks a sign-in with. */
export interface SessionServiceParts {
  mfa: MfaService;
  /** Per-username lockout (default: 5 failures, 15 minutes, over the same database). */
  loginThrottle?: LoginThrottle;
  /** Per-client failure budget (default: 30 failures per 10 minutes). */
  clientThrottle?: ClientThrottle;
  /** Cap on argon2id verifications in flight (default `PASSWORD_VERIFICATION_LIMITS`). */
  verifications?: BoundedConcurrency;
}

export interface LoginResult {
  token: string;
  principal: Principal;
  expiresAt: string;
  /** Seconds until `expiresAt` on the server's clock (the session cookie's Max-Age). */
  maxAgeSeconds: number;
}

export const SESSION_TOKEN_PREFIX = 'wss_';


/** Who a refused sign-in names in the audit log when the username matches no account. */
const UNKNOWN_USER = 'unknown-user';

function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

const badCredentials = (): WardError => new WardError('auth.bad_credentials', 'username or password is not correct', { status: 401 });

export class SessionService {
  /** A real argon2id hash to verify against when the username is unknown, so timing does not reveal which usernames exist. */
  private dummyHash: Promise<string> | undefined;
  private readonly mfa: MfaService;
  private readonly loginThrottle: LoginThrottle;
  private readonly clientThrottle: ClientThrottle;
  private readonly verifications: BoundedConcurrency;

  constructor(
    private readonly db: Kysely<WardSchema>,
    private readonly audit: AuditLog,
    private readonly accounts: AccountService,
    private readonly clock: Clock,
    private readonly policy: SessionPolicy,
    parts: SessionServiceParts,
  ) {
    this.mfa = parts.mfa;
    this.loginThrottle = parts.loginThrottle ?? new LoginThrottle(db, clock);
    this.clientThrottle = parts.clientThrottle ?? new ClientThrottle(clock);
    this.verifications = parts.verifications ?? new BoundedConcurrency(PASSWORD_VERIFICATION_LIMITS);
  }

  /**
   * Sign in. Refusals: 429 `auth.throttled` (this client failed too often), 429 `auth.locked`
   * (this username failed too often; the same for unknown usernames), 401 `auth.bad_credentials`
   * (wrong password, unknown or disabled account, wrong or reused code), 401 `auth.mfa_required`
   * (password right, the account's authenticator code missing), 429 `auth.busy` (too many
   * verifications in flight). A person without a confirmed authenticator gets a session whose
   * principal has `mfaEnrollmentRequired`.
   */
  async login(username: string, password: string, options: LoginOptions = {}, context: AuditContext = {}): Promise<LoginResult> {
    const client = options.client ?? context.client;
    const throttled = this.clientThrottle.attempt(client);
    if (throttled.limited) {
      await this.audit.append(auditEntryOf({ id: UNKNOWN_USER, kind: 'person' }, 'auth.login', 'denied', { reason: 'auth.throttled' }, context));
      throw new WardError('auth.throttled', `too many failed sign-ins from this address; retry in ${throttled.retryAfterSeconds} s`, { status: 429, extra: { retryAfterSeconds: throttled.retryAfterSeconds } });
    }
    const key = loginKeyOf(username);
    const account = await this.accounts.findByUsername(key);
    const who: AuditEntryInput['who'] = { id: account?.id ?? UNKNOWN_USER, kind: 'person' };
    const lock = await this.audit.transact((trx, record) => this.loginThrottle.reserve(trx, record, { username: key, who, ...(account ? { accountId: account.id } : {}), context }));
    if (lock.locked) {
      this.clientThrottle.forgive(client);
      await this.audit.append(auditEntryOf(who, 'auth.login', 'denied', { reason: 'auth.locked' }, context));
      throw new WardError('auth.locked', `too many failed sign-ins for this username; retry in ${lock.retryAfterSeconds} s`, { status: 429, extra: { retryAfterSeconds: lock.retryAfterSeconds } });
    }
    this.dummyHash ??= hashPassword('not-a-real-password-for-timing');
    const storedHash = account?.passwordHash ?? (await this.dummyHash);
    // Verified even when the account is disabled: skipping the work would make a disabled
    // account answer measurably faster than an enabled one.
    let verified: boolean;
    try {
      verified = await this.verifications.run(() => verifyPassword(storedHash, password));
    } catch (e) {
      // Never judged (too busy): the reserved attempt is given back on both counters.
      await this.audit.transact((trx) => this.loginThrottle.release(trx, key));
      this.clientThrottle.forgive(client);
      throw e;
    }
    if (account === undefined || account.disabled || !verified) {
      await this.refuse(who, account?.disabled ? 'auth.account_disabled' : 'auth.bad_credentials', key, account?.id, context);
      throw badCredentials();
    }

    const token = SESSION_TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const now = this.clock.now();
    const expiresAt = new Date(now.getTime() + this.policy.absoluteHours * 3_600_000).toISOString();
    // The code is checked (and its step spent) in the transaction that opens the session, so a
    // second factor confirmed meanwhile is never bypassed and a spent code opens one session.
    const outcome = await this.audit.transact(async (trx, record) => {
      const check = await this.mfa.checkLoginCode(trx, account.id, options.totp, now);
      if (check === 'missing') {
        record(auditEntryOf(who, 'auth.login', 'denied', { reason: 'auth.mfa_required' }, context));
        return { ok: false, reason: 'auth.mfa_required' } as const;
      }
      if (check === 'invalid' || check === 'replayed') {
        const reason = check === 'invalid' ? 'auth.totp_invalid' : 'auth.totp_replayed';
        record(auditEntryOf(who, 'auth.login', 'denied', { reason }, context));
        await this.loginThrottle.recordFailure(trx, record, { username: key, who, accountId: account.id, context });
        return { ok: false, reason } as const;
      }
      const mfa = check === 'accepted';
      await trx
        .insertInto('session')
        .values({ token_hash: tokenHash(token), account_id: account.id, created_at: now.toISOString(), last_seen_at: now.toISOString(), expires_at: expiresAt, revoked: 0, mfa: mfa ? 1 : 0 })
        .execute();
      await this.loginThrottle.recordSuccess(trx, key);
      record(auditEntryOf(who, 'auth.login', 'success', { details: { mfa } }, context));
      return { ok: true, mfa } as const;
    });
    if (!outcome.ok) {
      if (outcome.reason === 'auth.mfa_required') {
        // Only after a correct password, and not a failure: the caller asks for the code.
        await this.audit.transact((trx) => this.loginThrottle.release(trx, key));
        this.clientThrottle.forgive(client);
        throw new WardError('auth.mfa_required', 'enter the code from your authenticator app', { status: 401 });
      }
      throw badCredentials();
    }
    this.clientThrottle.forgive(client);
    const principal: Principal = {
      id: account.id,
      kind: 'person',
      roles: account.roles,
      mustChangePassword: account.mustChangePassword,
      mfaEnrollmentRequired: !outcome.mfa,
      authn: 'session',
    };
    return { token, principal, expiresAt, maxAgeSeconds: this.policy.absoluteHours * 3600 };
  }

  /**
   * The principal behind a token, or undefined when the token is unknown, revoked, idle too
   * long, expired, its account disabled, or opened without the second factor the account now
   * has. One read (session joined with account and authenticator), one write (last seen).
   */
  async authenticate(token: string): Promise<Principal | undefined> {
    if (!token.startsWith(SESSION_TOKEN_PREFIX) || token.length > 128) return undefined;
    const row = await this.db
      .selectFrom('session')
      .innerJoin('account', 'account.id', 'session.account_id')
      .leftJoin('totp_credential', (j) => j.onRef('totp_credential.account_id', '=', 'session.account_id').on('totp_credential.confirmed', '=', 1))
      .select(['session.token_hash', 'session.last_seen_at', 'session.expires_at', 'session.revoked', 'session.mfa', 'account.id', 'account.roles', 'account.disabled', 'account.must_change_password'])
      .select('totp_credential.account_id as totp_account')
      .where('session.token_hash', '=', tokenHash(token))
      .executeTakeFirst();
    if (!row || row.revoked || row.disabled) return undefined;
    const enrolled = row.totp_account !== null;
    if (enrolled && !row.mfa) return undefined;
    const now = this.clock.now();
    if (now.toISOString() >= row.expires_at) return undefined;
    if (now.getTime() - Date.parse(row.last_seen_at) > this.policy.idleMinutes * 60_000) return undefined;
    await this.db.updateTable('session').set({ last_seen_at: now.toISOString() }).where('token_hash', '=', row.token_hash).execute();
    return {
      id: row.id,
      kind: 'person',
      roles: parseRoles(row.roles).filter(isPersonRole),
      mustChangePassword: row.must_change_password === 1,
      mfaEnrollmentRequired: !enrolled,
      authn: 'session',
    };
  }

  /** End this session (the token must belong to the principal), audited. */
  async logout(token: string, principal: Principal, context: AuditContext = {}): Promise<void> {
    await this.audit.transact(async (trx, record) => {
      await trx.updateTable('session').set({ revoked: 1 }).where('token_hash', '=', tokenHash(token)).where('account_id', '=', principal.id).execute();
      record(auditEntryOf(principal, 'auth.logout', 'success', {}, context));
    });
  }

  /**
   * Revoke every session of an account, audited in the same transaction (a password change,
   * a disabled account, a new or reset second factor revoke inside their own transactions).
   * Returns how many ended.
   */
  async revokeAll(accountId: string, actor: Principal, context: AuditContext = {}): Promise<number> {
    return this.audit.transact(async (trx, record) => {
      const sessionsRevoked = await revokeSessionsOf(trx, accountId);
      record(auditEntryOf(actor, 'auth.sessions_revoked', 'success', { resource: { type: 'Account', id: accountId }, details: { sessionsRevoked } }, context));
      return sessionsRevoked;
    });
  }

  /** A failed password check: audited and counted against the username and the client. */
  private async refuse(who: AuditEntryInput['who'], reason: string, key: string, accountId: string | undefined, context: AuditContext): Promise<void> {
    await this.audit.transact(async (trx, record) => {
      record(auditEntryOf(who, 'auth.login', 'denied', { reason }, context));
      await this.loginThrottle.recordFailure(trx, record, { username: key, who, ...(accountId ? { accountId } : {}), context });
    });
  }
}
