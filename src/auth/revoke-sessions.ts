import type { AuditTransaction } from '../audit/audit-log.js';

/**
 * Revoke every session of an account inside the caller's audit transaction, so the change
 * that requires it (a new password, a disabled account) and the revocation commit together
 * with their audit entry or not at all. Returns how many live sessions were ended.
 */
export async function revokeSessionsOf(trx: AuditTransaction, accountId: string): Promise<number> {
  const r = await trx.updateTable('session').set({ revoked: 1 }).where('account_id', '=', accountId).where('revoked', '=', 0).executeTakeFirst();
  return Number(r.numUpdatedRows);
}
