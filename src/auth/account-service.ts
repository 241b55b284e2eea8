/**
 * Local accounts for people: creation (with a one-time password shown once), password change,
 * listing, disabling and enabling, lookup. Every change runs in one transaction with its audit
 * entry (`AuditLog.transact`). Disabling ends every session in that same transaction
 * (45 CFR 164.308(a)(3)(ii)(C) termination procedures: access ends at once, not at the next
 * timeout). Accounts hold person roles only; service identities use API keys.
 */
import type { Kysely } from 'kysely';
import type { WardSchema } from '../storage/schema.js';
import type { AuditLog } from '../audit/audit-log.js';
import { auditEntryOf } from '../audit/audit-entry-of.js';
import type { AuditContext } from '../audit/audit-entry-of.js';
import type { Clock } from '../shared/clock.js';
import { newId } from '../shared/ids.js';
import { WardError } from '../shared/ward-error.js';
import { hashPassword, passwordProblem, verifyPassword } from './password-hasher.js';
import { newOneTimePassword } from './one-time-password.js';
import { isPersonRole, parseRoles, personRoles } from './roles.js';
import { revokeSessionsOf } from './revoke-sessions.js';
import { hashedThrottleKey } from './login-throttle.js';
import { BoundedConcurrency } from './bounded-concurrency.js';
import { PASSWORD_VERIFICATION_LIMITS } from './password-limits.js';
import type { ThrottleKeyOf } from './login-throttle.js';
import type { Role } from './roles.js';
import type { Principal } from './principal.js';

export interface AccountRecord {
  id: string;
  username: string;
  roles: Role[];
  mustChangePassword: boolean;
  disabled: boolean;
}

/** One row of the account list: no password hash, no second-factor secret. */
export interface AccountSummary {
  id: string;
  username: string;
  roles: Role[];
  /** A confirmed authenticator (TOTP) is enrolled. */
  mfaEnrolled: boolean;
  disabled: boolean;
  /** Until when sign-in is locked after failed attempts (ISO-8601), or null when it is not. */
  lockedUntil: string | null;
  createdAt: string;
}

const USERNAME = /^[a-z][a-z0-9._-]{1,63}$/;

export class AccountService {
  constructor(
    private readonly db: Kysely<WardSchema>,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    /** How the login throttle stores usernames (to show who is locked). */
    private readonly throttleKeyOf: ThrottleKeyOf = hashedThrottleKey,
    /**
     * The cap on argon2id work in flight, shared with sign-in: a password change runs up to
     * three 19 MiB operations, and any session can ask for one.
     */
    private readonly verifications: BoundedConcurrency = new BoundedConcurrency(PASSWORD_VERIFICATION_LIMITS),
  ) {}

  /** Create an account; returns its one-time password, which is not stored anywhere in clear. */
  async create(input: { username: string; roles: string[] }, actor: Principal, context: AuditContext = {}): Promise<{ account: AccountRecord; oneTimePassword: string }> {
    if (!USERNAME.test(input.username)) {
      throw new WardError('account.invalid_username', 'username must be 2-64 characters: lower-case letters, digits, . _ -', { status: 400 });
    }
    const bad = input.roles.find((r) => !isPersonRole(r));
    if (bad !== undefined || input.roles.length === 0) {
      throw new WardError('account.invalid_role', `unknown or missing role; roles for people are: ${personRoles.join(', ')}`, { status: 400 });
    }
    const oneTimePassword = newOneTimePassword();
    const passwordHash = await hashPassword(oneTimePassword);
    const id = newId('usr');
    const roles = input.roles as Role[];
    await this.audit.transact(async (trx, record) => {
      const taken = await trx.selectFrom('account').select('id').where('username', '=', input.username).executeTakeFirst();
      if (taken) throw new WardError('account.username_taken', 'that username is already in use', { status: 409 });
      await trx
        .insertInto('account')
        .values({
          id, username: input.username, roles: JSON.stringify(roles), password_hash: passwordHash,
          must_change_password: 1, disabled: 0, created_at: this.clock.now().toISOString(),
        })
        .execute();
      record(auditEntryOf(actor, 'account.create', 'success', { resource: { type: 'Account', id }, details: { roles: roles.join('+') } }, context));
    });
    return { account: { id, username: input.username, roles, mustChangePassword: true, disabled: false }, oneTimePassword };
  }

  /** Every account, by username, with its second-factor and lockout state. */
  async list(): Promise<AccountSummary[]> {
    const now = this.clock.now().toISOString();
    const rows = await this.db
      .selectFrom('account')
      .leftJoin('totp_credential', (j) => j.onRef('totp_credential.account_id', '=', 'account.id').on('totp_credential.confirmed', '=', 1))
      .select(['account.id', 'account.username', 'account.roles', 'account.disabled', 'account.created_at'])
      .select('totp_credential.account_id as totp_account')
      .orderBy('account.username')
      .execute();
    // Throttle rows are keyed by a hash of the username (never the text typed), so look them up by key.
    const keys = new Map(rows.map((r) => [this.throttleKeyOf(r.username), r.username]));
    const locks = new Map<string, string | null>();
    for (const chunk of chunks([...keys.keys()], 500)) {
      const found = await this.db.selectFrom('login_throttle').select(['username', 'locked_until']).where('username', 'in', chunk).execute();
      for (const f of found) locks.set(keys.get(f.username) ?? '', f.locked_until);
    }
    return rows.map((r) => ({ locked_until: locks.get(r.username) ?? null, ...r })).map((r) => ({
      id: r.id,
      username: r.username,
      roles: personRolesOf(r.roles),
      mfaEnrolled: r.totp_account !== null,
      disabled: r.disabled === 1,
      lockedUntil: r.locked_until !== null && r.locked_until > now ? r.locked_until : null,
      createdAt: r.created_at,
    }));
  }

  /**
   * Disable an account: sign-in stops and every session ends, in one audited transaction
   * (`account.disable`, with `details.sessionsRevoked`). Nobody disables their own account,
   * so the last administrator cannot lock everyone out by mistake.
   */
  async disable(username: string, actor: Principal, context: AuditContext = {}): Promise<{ sessionsRevoked: number }> {
    return this.audit.transact(async (trx, record) => {
      const row = await trx.selectFrom('account').select('id').where('username', '=', username).executeTakeFirst();
      if (!row) throw notFound();
      if (row.id === actor.id) throw new WardError('account.disable_self', 'you cannot disable your own account', { status: 409 });
      await trx.updateTable('account').set({ disabled: 1 }).where('id', '=', row.id).execute();
      const sessionsRevoked = await revokeSessionsOf(trx, row.id);
      record(auditEntryOf(actor, 'account.disable', 'success', { resource: { type: 'Account', id: row.id }, details: { sessionsRevoked } }, context));
      return { sessionsRevoked };
    });
  }

  /** Enable a disabled account again (audited `account.enable`); its old sessions stay ended. */
  async enable(username: string, actor: Principal, context: AuditContext = {}): Promise<void> {
    await this.audit.transact(async (trx, record) => {
      const row = await trx.selectFrom('account').select('id').where('username', '=', username).executeTakeFirst();
      if (!row) throw notFound();
      await trx.updateTable('account').set({ disabled: 0 }).where('id', '=', row.id).execute();
      record(auditEntryOf(actor, 'account.enable', 'success', { resource: { type: 'Account', id: row.id } }, context));
    });
  }

  async findByUsername(username: string): Promise<(AccountRecord & { passwordHash: string }) | undefined> {
    const row = await this.db.selectFrom('account').selectAll().where('username', '=', username).executeTakeFirst();
    return row && toRecord(row);
  }

  async findById(id: string): Promise<AccountRecord | undefined> {
    const row = await this.db.selectFrom('account').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toRecord(row);
  }

  /**
   * Change a password after checking the current one; clears the one-time-password flag and
   * ends every session of the account in the same transaction (recorded in the entry), so no
   * session opened with the old password outlives it even if the process stops midway.
   */
  async changePassword(accountId: string, current: string, next: string, context: AuditContext = {}): Promise<void> {
    const actor: Principal = { id: accountId, kind: 'person', roles: [] };
    const problem = passwordProblem(next);
    if (problem) throw new WardError('account.weak_password', problem, { status: 400 });
    const row = await this.db.selectFrom('account').selectAll().where('id', '=', accountId).executeTakeFirst();
    if (!row || row.disabled || !(await this.verifications.run(() => verifyPassword(row.password_hash, current)))) {
      await this.audit.append(auditEntryOf(actor, 'account.password_change', 'denied', { resource: { type: 'Account', id: accountId }, reason: 'auth.bad_credentials' }, context));
      throw new WardError('auth.bad_credentials', 'current password is not correct', { status: 401 });
    }
    if (await this.verifications.run(() => verifyPassword(row.password_hash, next))) {
      throw new WardError('account.password_reused', 'the new password must differ from the current one', { status: 400 });
    }
    const hashed = await this.verifications.run(() => hashPassword(next));
    await this.audit.transact(async (trx, record) => {
      await trx.updateTable('account').set({ password_hash: hashed, must_change_password: 0 }).where('id', '=', accountId).execute();
      const sessionsRevoked = await revokeSessionsOf(trx, accountId);
      record(auditEntryOf(actor, 'account.password_change', 'success', { resource: { type: 'Account', id: accountId }, details: { sessionsRevoked } }, context));
    });
  }
}

const notFound = (): WardError => new WardError('account.not_found', 'no such account', { status: 404 });

/** Stored roles, keeping only person roles: a service role in an account row is never granted. */
function personRolesOf(stored: string): Role[] {
  return parseRoles(stored).filter(isPersonRole);
}

function toRecord(row: WardSchema['account']): AccountRecord & { passwordHash: string } {
  return {
    id: row.id,
    username: row.username,
    roles: personRolesOf(row.roles),
    mustChangePassword: row.must_change_password === 1,
    disabled: row.disabled === 1,
    passwordHash: row.password_hash,
  };
}


function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
