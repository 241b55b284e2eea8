/**
 * Local accounts: creation (with a one-time password shown once), password change, lookup.
 * Every change runs in one transaction with its audit entry (`AuditLog.transact`).
 * Multi-factor authentication, lockout and the rest of account management arrive with the
 * identity and access work; this is the foundation they extend.
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
import type { Role } from './roles.js';
import type { Principal } from './principal.js';

export interface AccountRecord {
  id: string;
  username: string;
  roles: Role[];
  mustChangePassword: boolean;
  disabled: boolean;
}

const USERNAME = /^[a-z][a-z0-9._-]{1,63}$/;

export class AccountService {
  constructor(
    private readonly db: Kysely<WardSchema>,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
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
    if (!row || row.disabled || !(await verifyPassword(row.password_hash, current))) {
      await this.audit.append(auditEntryOf(actor, 'account.password_change', 'denied', { resource: { type: 'Account', id: accountId }, reason: 'auth.bad_credentials' }, context));
      throw new WardError('auth.bad_credentials', 'current password is not correct', { status: 401 });
    }
    if (await verifyPassword(row.password_hash, next)) {
      throw new WardError('account.password_reused', 'the new password must differ from the current one', { status: 400 });
    }
    const hashed = await hashPassword(next);
    await this.audit.transact(async (trx, record) => {
      await trx.updateTable('account').set({ password_hash: hashed, must_change_password: 0 }).where('id', '=', accountId).execute();
      const sessionsRevoked = await revokeSessionsOf(trx, accountId);
      record(auditEntryOf(actor, 'account.password_change', 'success', { resource: { type: 'Account', id: accountId }, details: { sessionsRevoked } }, context));
    });
  }
}

function toRecord(row: WardSchema['account']): AccountRecord & { passwordHash: string } {
  return {
    id: row.id,
    username: row.username,
    roles: parseRoles(row.roles),
    mustChangePassword: row.must_change_password === 1,
    disabled: row.disabled === 1,
    passwordHash: row.password_hash,
  };
}

