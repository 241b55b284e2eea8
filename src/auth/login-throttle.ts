/**
 * Per-username lockout against online guessing (NIST SP 800-63B 5.2.2 rate limiting): after
 * `maxFailures` consecutive failed sign-ins the username is locked for `lockMinutes`, and a
 * locked sign-in is refused before any password work. Failures older than the lock window
 * are forgotten; a success forgets them all.
 *
 * Keyed by the username as typed (lower-cased), not by account, so an unknown username is
 * counted and locked exactly like a real one: the answers reveal nothing about which exist.
 * The state lives in the database so every process sees the same count.
 */
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { WardSchema } from '../storage/schema.js';
import type { AuditTransaction, RecordAudit } from '../audit/audit-log.js';
import type { AuditContext } from '../audit/audit-entry-of.js';
import { auditEntryOf } from '../audit/audit-entry-of.js';
import type { AuditEntryInput } from '../audit/audit-entry.js';
import type { Clock } from '../shared/clock.js';
import { WardError } from '../shared/ward-error.js';

export interface LoginThrottleOptions {
  /** Consecutive failures that lock the username (default 5). */
  maxFailures?: number;
  /** How long a lock lasts, and how long a failure is remembered (default 15 minutes). */
  lockMinutes?: number;
  /** How usernames are stored (default `hashedThrottleKey`). */
  keyOf?: ThrottleKeyOf;
}

export type LockState = { locked: false } | { locked: true; until: string; retryAfterSeconds: number };

export interface ThrottleInput {
  username: string;
  who: AuditEntryInput['who'];
  accountId?: string;
  context?: AuditContext;
}

/** Stored keys are bounded: the key of an over-long username is its first 128 characters. */
const MAX_KEY_CHARS = 128;
/** Forget expired rows (unknown usernames included) after this many recorded failures. */
const PRUNE_EVERY = 256;

/** The username as sign-in compares it: lower-cased, bounded. */
export function loginKeyOf(username: string): string {
  return username.toLowerCase().slice(0, MAX_KEY_CHARS);
}

/**
 * How a username is stored in the throttle table. What people type as a username is sometimes
 * their password, so it is never stored as typed: production uses a keyed hash (HMAC under the
 * installation's key, `SecretBox.keyedHash`); this unkeyed default is for tests and tools.
 */
export type ThrottleKeyOf = (username: string) => string;
export const hashedThrottleKey: ThrottleKeyOf = (username) => createHash('sha256').update(loginKeyOf(username)).digest('hex');

export class LoginThrottle {
  readonly maxFailures: number;
  readonly lockMinutes: number;
  private readonly keyOf: ThrottleKeyOf;
  private failuresSincePrune = 0;

  constructor(
    private readonly db: Kysely<WardSchema>,
    private readonly clock: Clock,
    options: LoginThrottleOptions = {},
  ) {
    this.maxFailures = options.maxFailures ?? 5;
    this.lockMinutes = options.lockMinutes ?? 15;
    this.keyOf = options.keyOf ?? hashedThrottleKey;
    if (!Number.isInteger(this.maxFailures) || this.maxFailures < 1 || !(this.lockMinutes > 0)) {
      throw new WardError('config.invalid', 'login throttle needs maxFailures >= 1 and lockMinutes > 0');
    }
  }

  /** Whether the username is locked now, and for how long. */
  async lockState(username: string): Promise<LockState> {
    const row = await this.db.selectFrom('login_throttle').select('locked_until').where('username', '=', this.keyOf(username)).executeTakeFirst();
    return lockStateOf(row?.locked_until ?? null, this.clock.now());
  }

  /**
   * Count an attempt before its password is checked, inside the caller's audit transaction
   * (serialized by the audit head lock, so concurrent attempts cannot both read the same
   * count). Attempts in flight count as failures until they succeed: without that, a burst of
   * simultaneous guesses would all pass a check made before any of them failed. When the
   * budget is already spent the lock starts (audited `auth.lockout`) and the attempt is
   * refused without any password work. Never records the username, which may be a mistyped
   * password.
   */
  async reserve(trx: AuditTransaction, record: RecordAudit, input: ThrottleInput): Promise<LockState> {
    const key = this.keyOf(input.username);
    const now = this.clock.now();
    const nowIso = now.toISOString();
    const row = await trx.selectFrom('login_throttle').selectAll().where('username', '=', key).executeTakeFirst();
    if (row?.locked_until != null && row.locked_until > nowIso) return lockStateOf(row.locked_until, now);
    const prior = row === undefined || this.forgotten(row, now) ? 0 : row.failures;
    if (prior >= this.maxFailures) return this.lock(trx, record, input, key, prior, now);
    if (row === undefined) {
      await trx.insertInto('login_throttle').values({ username: key, failures: prior + 1, last_failure_at: nowIso, locked_until: null }).execute();
    } else {
      await trx.updateTable('login_throttle').set({ failures: prior + 1, last_failure_at: nowIso, locked_until: null }).where('username', '=', key).execute();
    }
    if (++this.failuresSincePrune >= PRUNE_EVERY) {
      this.failuresSincePrune = 0;
      await this.prune(trx, now);
    }
    return { locked: false };
  }

  /**
   * A reserved attempt failed (it was already counted): when it spent the budget, the lock
   * starts now (audited `auth.lockout`). Returns the lock state after the failure.
   */
  async recordFailure(trx: AuditTransaction, record: RecordAudit, input: ThrottleInput): Promise<LockState> {
    const key = this.keyOf(input.username);
    const now = this.clock.now();
    const row = await trx.selectFrom('login_throttle').selectAll().where('username', '=', key).executeTakeFirst();
    if (row === undefined) return { locked: false };
    if (row.locked_until != null && row.locked_until > now.toISOString()) return lockStateOf(row.locked_until, now);
    return row.failures >= this.maxFailures ? this.lock(trx, record, input, key, row.failures, now) : { locked: false };
  }

  /** Give back a reserved attempt that was never judged (the server was too busy to check it). */
  async release(trx: AuditTransaction, username: string): Promise<void> {
    await trx.updateTable('login_throttle').set((eb) => ({ failures: eb('failures', '-', 1) })).where('username', '=', this.keyOf(username)).where('failures', '>', 0).execute();
  }

  private forgotten(row: WardSchema['login_throttle'], now: Date): boolean {
    const forgetBefore = new Date(now.getTime() - this.lockMinutes * 60_000).toISOString();
    // A lock that has run out starts a fresh count, as do failures older than the window.
    return row.last_failure_at < forgetBefore || row.locked_until != null;
  }

  private async lock(trx: AuditTransaction, record: RecordAudit, input: ThrottleInput, key: string, failures: number, now: Date): Promise<LockState> {
    const lockedUntil = new Date(now.getTime() + this.lockMinutes * 60_000).toISOString();
    await trx.updateTable('login_throttle').set({ locked_until: lockedUntil, last_failure_at: now.toISOString() }).where('username', '=', key).execute();
    record(auditEntryOf(input.who, 'auth.lockout', 'success', {
      ...(input.accountId ? { resource: { type: 'Account', id: input.accountId } } : {}),
      reason: 'auth.too_many_failures',
      details: { failures, lockMinutes: Math.ceil(this.lockMinutes) },
    }, input.context));
    return lockStateOf(lockedUntil, now);
  }

  /** A successful sign-in forgets the username's failures (inside the caller's transaction). */
  async recordSuccess(trx: AuditTransaction, username: string): Promise<void> {
    await trx.deleteFrom('login_throttle').where('username', '=', this.keyOf(username)).execute();
  }

  /** Delete rows that neither lock nor remember a failure any more. */
  async prune(db: Kysely<WardSchema>, now: Date = this.clock.now()): Promise<number> {
    const forgetBefore = new Date(now.getTime() - this.lockMinutes * 60_000).toISOString();
    const r = await db
      .deleteFrom('login_throttle')
      .where('last_failure_at', '<', forgetBefore)
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', now.toISOString())]))
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}

function lockStateOf(lockedUntil: string | null, now: Date): LockState {
  if (lockedUntil === null || lockedUntil <= now.toISOString()) return { locked: false };
  return { locked: true, until: lockedUntil, retryAfterSeconds: Math.max(1, Math.ceil((Date.parse(lockedUntil) - now.getTime()) / 1000)) };
}
