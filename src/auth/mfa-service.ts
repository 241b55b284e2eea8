/**
 * The second factor for people: a TOTP authenticator (RFC 6238), required of every person
 * account because every person role reaches PHI or manages the accounts that do
 * (45 CFR 164.312(d); NIST SP 800-63B AAL2). The shared secret must be read back to check a
 * code, so it is stored sealed (`SecretBox`, bound to its row), never in clear.
 *
 * A code is good once: the accepted time step is stored and only a later one is accepted
 * after it (NIST SP 800-63B 5.1.4.2), with a conditional UPDATE, so two processes racing on
 * the same code cannot both win.
 */
import type { Kysely } from 'kysely';
import type { WardSchema } from '../storage/schema.js';
import type { SecretBox } from '../storage/secret-box.js';
import { sealedAt } from '../storage/secret-box.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { AuditContext } from '../audit/audit-entry-of.js';
import { auditEntryOf } from '../audit/audit-entry-of.js';
import type { Clock } from '../shared/clock.js';
import { WardError } from '../shared/ward-error.js';
import type { Principal } from './principal.js';
import { revokeSessionsOf } from './revoke-sessions.js';
import { matchTotpStep, newTotpSecret, totpUri } from './totp.js';

/** The result of checking a login code: only `accepted` lets a sign-in through with a second factor. */
export type LoginCodeCheck = 'accepted' | 'not-enrolled' | 'missing' | 'invalid' | 'replayed';

export interface MfaStatus {
  /** A confirmed authenticator: sign-in needs its code. */
  enrolled: boolean;
  /** An enrollment begun and not yet confirmed. */
  pending: boolean;
  confirmedAt?: string;
}

const boundTo = (accountId: string): string => sealedAt('totp_credential', 'secret_box', accountId);
const selfOf = (accountId: string): Principal => ({ id: accountId, kind: 'person', roles: [] });

export class MfaService {
  constructor(
    private readonly db: Kysely<WardSchema>,
    private readonly audit: AuditLog,
    private readonly box: SecretBox,
    private readonly clock: Clock,
  ) {}

  /**
   * Start enrolling an authenticator: a fresh secret, stored sealed and unconfirmed (replacing
   * an unconfirmed one), returned once for the QR code. Refused (409) while a confirmed one
   * exists: replacing a working second factor goes through `resetTotp` by an administrator.
   */
  async beginTotp(accountId: string, username: string, context: AuditContext = {}): Promise<{ secret: string; uri: string }> {
    const secret = newTotpSecret();
    const now = this.clock.now().toISOString();
    await this.audit.transact(async (trx, record) => {
      const account = await trx.selectFrom('account').select(['id', 'disabled']).where('id', '=', accountId).executeTakeFirst();
      if (!account || account.disabled) throw new WardError('account.not_found', 'no such account', { status: 404 });
      const existing = await trx.selectFrom('totp_credential').select('confirmed').where('account_id', '=', accountId).executeTakeFirst();
      if (existing?.confirmed) throw new WardError('mfa.already_enrolled', 'an authenticator is already enrolled; an administrator must reset it first', { status: 409 });
      await trx.deleteFrom('totp_credential').where('account_id', '=', accountId).where('confirmed', '=', 0).execute();
      await trx
        .insertInto('totp_credential')
        .values({ account_id: accountId, secret_box: this.box.seal(secret, boundTo(accountId)), confirmed: 0, created_at: now, confirmed_at: null })
        .execute();
      record(auditEntryOf(selfOf(accountId), 'mfa.totp_begin', 'success', { resource: { type: 'Account', id: accountId } }, context));
    });
    return { secret, uri: totpUri({ secret, accountName: username }) };
  }

  /**
   * Confirm the pending authenticator with a code it shows. In the same transaction: mark it
   * confirmed, store the step (that code is spent), and end every session of the account,
   * because they were opened without the second factor. A wrong code is 400 `mfa.code_invalid`,
   * audited.
   */
  async confirmTotp(accountId: string, code: string, context: AuditContext = {}): Promise<{ sessionsRevoked: number }> {
    const now = this.clock.now();
    const outcome = await this.audit.transact(async (trx, record) => {
      const row = await trx.selectFrom('totp_credential').select(['secret_box', 'confirmed']).where('account_id', '=', accountId).executeTakeFirst();
      if (!row) return { kind: 'not-started' } as const;
      if (row.confirmed) return { kind: 'already-enrolled' } as const;
      const step = matchTotpStep(this.box.open(row.secret_box, boundTo(accountId)), code, now);
      if (step === undefined) return { kind: 'invalid' } as const;
      await trx
        .updateTable('totp_credential')
        .set({ confirmed: 1, confirmed_at: now.toISOString(), last_step: step })
        .where('account_id', '=', accountId)
        .where('confirmed', '=', 0)
        .execute();
      const sessionsRevoked = await revokeSessionsOf(trx, accountId);
      record(auditEntryOf(selfOf(accountId), 'mfa.totp_confirm', 'success', { resource: { type: 'Account', id: accountId }, details: { sessionsRevoked } }, context));
      return { kind: 'confirmed', sessionsRevoked } as const;
    });
    switch (outcome.kind) {
      case 'confirmed':
        return { sessionsRevoked: outcome.sessionsRevoked };
      case 'not-started':
        throw new WardError('mfa.not_started', 'begin enrolling an authenticator first', { status: 409 });
      case 'already-enrolled':
        throw new WardError('mfa.already_enrolled', 'an authenticator is already enrolled', { status: 409 });
      case 'invalid':
        await this.audit.append(auditEntryOf(selfOf(accountId), 'mfa.totp_confirm', 'denied', { resource: { type: 'Account', id: accountId }, reason: 'mfa.code_invalid' }, context));
        throw new WardError('mfa.code_invalid', 'the code is not correct', { status: 400 });
    }
  }

  /** True only for the first use of a valid code of a later step than the last accepted one. */
  async verifyLoginCode(db: Kysely<WardSchema>, accountId: string, code: string, now: Date): Promise<boolean> {
    return (await this.checkLoginCode(db, accountId, code, now)) === 'accepted';
  }

  /**
   * Check a sign-in code against the account's confirmed authenticator, on `db` (pass the
   * audit transaction to make the check part of it). Spends the step when accepted.
   */
  async checkLoginCode(db: Kysely<WardSchema>, accountId: string, code: string | undefined, now: Date): Promise<LoginCodeCheck> {
    const row = await db.selectFrom('totp_credential').select(['secret_box', 'last_step']).where('account_id', '=', accountId).where('confirmed', '=', 1).executeTakeFirst();
    if (!row) return 'not-enrolled';
    if (code === undefined || code === '') return 'missing';
    const step = matchTotpStep(this.box.open(row.secret_box, boundTo(accountId)), code, now);
    if (step === undefined) return 'invalid';
    if (step <= Number(row.last_step)) return 'replayed';
    // The row's own condition decides, not the value read above: another process may have
    // accepted this step (or a later one) in between.
    const r = await db
      .updateTable('totp_credential')
      .set({ last_step: step })
      .where('account_id', '=', accountId)
      .where('confirmed', '=', 1)
      .where('last_step', '<', step)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1 ? 'accepted' : 'replayed';
  }

  /**
   * Remove the account's authenticator (lost phone) and end its sessions, in one audited
   * transaction (`mfa.reset`). The next sign-in must enroll a new one.
   */
  async resetTotp(
    accountId: string,
    actor: Principal,
    context: AuditContext = {},
    options: { replacePasswordHash?: string } = {},
  ): Promise<{ removed: boolean; sessionsRevoked: number }> {
    return this.audit.transact(async (trx, record) => {
      const account = await trx.selectFrom('account').select('id').where('id', '=', accountId).executeTakeFirst();
      if (!account) throw new WardError('account.not_found', 'no such account', { status: 404 });
      const deleted = await trx.deleteFrom('totp_credential').where('account_id', '=', accountId).executeTakeFirst();
      const removed = Number(deleted.numDeletedRows) > 0;
      // With a lost phone the password may be lost too: the reset can replace it with a new
      // one-time password in the same transaction, so there is no moment when the old password
      // alone could enroll a new factor.
      if (options.replacePasswordHash !== undefined) {
        await trx.updateTable('account').set({ password_hash: options.replacePasswordHash, must_change_password: 1 }).where('id', '=', accountId).execute();
      }
      const sessionsRevoked = await revokeSessionsOf(trx, accountId);
      record(auditEntryOf(actor, 'mfa.reset', 'success', {
        resource: { type: 'Account', id: accountId },
        details: { removed, sessionsRevoked, passwordReplaced: options.replacePasswordHash !== undefined },
      }, context));
      return { removed, sessionsRevoked };
    });
  }

  async status(accountId: string): Promise<MfaStatus> {
    const row = await this.db.selectFrom('totp_credential').select(['confirmed', 'confirmed_at']).where('account_id', '=', accountId).executeTakeFirst();
    if (!row) return { enrolled: false, pending: false };
    if (!row.confirmed) return { enrolled: false, pending: true };
    return { enrolled: true, pending: false, ...(row.confirmed_at ? { confirmedAt: row.confirmed_at } : {}) };
  }
}
