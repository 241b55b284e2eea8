/**
 * Break-glass: emergency access to one patient (45 CFR 164.312(a)(2)(ii), emergency access
 * procedure). A person whose role the policy permits to open it states a written reason; the
 * grant is time-boxed (default 4 h), every audit entry made under it carries its id, and it
 * lands in a review queue that a privacy officer closes with a disposition. No one reviews
 * their own break-glass.
 *
 * The reason and the review note are free text written in a hurry and may name the patient or
 * the emergency, so they are sealed in the database (`SecretBox`) and never enter the audit
 * log, which records ids and codes only.
 */
import type { Kysely } from 'kysely';
import type { WardSchema } from '../storage/schema.js';
import type { SecretBox } from '../storage/secret-box.js';
import { sealedAt } from '../storage/secret-box.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { AuditContext } from '../audit/audit-entry-of.js';
import { auditEntryOf } from '../audit/audit-entry-of.js';
import { AUDIT_ID_PATTERN } from '../audit/audit-entry.js';
import type { Clock } from '../shared/clock.js';
import { newId } from '../shared/ids.js';
import { WardError } from '../shared/ward-error.js';
import type { Principal } from './principal.js';

export const breakGlassDispositions = ['appropriate', 'inappropriate', 'escalated'] as const;
export type BreakGlassDisposition = (typeof breakGlassDispositions)[number];

export interface BreakGlassSettings {
  /** Length of a grant when the caller does not ask for less. */
  defaultMinutes: number;
  /** The longest grant anyone may open. */
  maxMinutes: number;
}

export const DEFAULT_BREAK_GLASS: BreakGlassSettings = { defaultMinutes: 240, maxMinutes: 240 };

/** An open grant, as the policy decision needs it. */
export interface BreakGlassGrant {
  id: string;
  patient: string;
  purpose: string;
  expiresAt: string;
}

export interface BreakGlassReviewItem {
  id: string;
  accountId: string;
  patientId: string;
  purpose: string;
  reason: string;
  openedAt: string;
  expiresAt: string;
  status: 'pending' | 'closed';
  reviewerId: string | null;
  disposition: string | null;
  reviewNote: string | null;
  reviewedAt: string | null;
}

const REASON_MIN = 20;
const TEXT_MAX = 2000;

export class BreakGlassService {
  constructor(
    private readonly db: Kysely<WardSchema>,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly box: SecretBox,
    private readonly settings: BreakGlassSettings = DEFAULT_BREAK_GLASS,
  ) {}

  /**
   * Open a grant. The caller has already obtained a permit for `break-glass.open` from the
   * policy; `decisionDetails` (rule id, policy version) are recorded with the grant's entry.
   */
  async open(
    input: { principal: Principal; patient: string; purpose: string; reason: string; minutes?: number },
    decisionDetails: Record<string, string>,
    context: AuditContext = {},
  ): Promise<BreakGlassGrant> {
    const { principal } = input;
    if (principal.kind !== 'person') throw new WardError('break-glass.person_only', 'only a person can open break-glass access', { status: 403 });
    if (!AUDIT_ID_PATTERN.test(input.patient)) throw new WardError('request.invalid', 'patient must be an identifier', { status: 400 });
    const reason = input.reason.trim();
    if ([...reason].length < REASON_MIN || [...reason].length > TEXT_MAX) {
      throw new WardError('break-glass.reason_required', `a written reason of ${REASON_MIN} to ${TEXT_MAX} characters is required`, { status: 400 });
    }
    const minutes = input.minutes ?? this.settings.defaultMinutes;
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > this.settings.maxMinutes) {
      throw new WardError('request.invalid', `minutes must be a whole number from 1 to ${this.settings.maxMinutes}`, { status: 400 });
    }
    const now = this.clock.now();
    const id = newId('bg');
    const expiresAt = new Date(now.getTime() + minutes * 60_000).toISOString();
    await this.audit.transact(async (trx, record) => {
      // Checked under the audit head lock: two simultaneous opens cannot both pass.
      const raced = await trx.selectFrom('break_glass').select(['id', 'expires_at']).where('account_id', '=', principal.id).where('patient_id', '=', input.patient).where('expires_at', '>', now.toISOString()).executeTakeFirst();
      if (raced) throw new WardError('break-glass.already_open', 'break-glass access to this patient is already open', { status: 409, extra: { breakGlassId: raced.id, expiresAt: raced.expires_at } });
      await trx
        .insertInto('break_glass')
        .values({
          id, account_id: principal.id, patient_id: input.patient, purpose: input.purpose,
          reason_box: this.box.seal(reason, sealedAt('break_glass', 'reason_box', id)),
          opened_at: now.toISOString(), expires_at: expiresAt, review_status: 'pending',
          reviewer_id: null, disposition: null, review_note_box: null, reviewed_at: null,
        })
        .execute();
      record(auditEntryOf(principal, 'break-glass.open', 'success', {
        resource: { type: 'BreakGlass', id }, patient: input.patient, purpose: input.purpose, breakGlass: id,
        details: { ...decisionDetails, minutes },
      }, context));
    });
    return { id, patient: input.patient, purpose: input.purpose, expiresAt };
  }

  /** The principal's unexpired grant for this patient, if any. */
  async active(principalId: string, patientId: string): Promise<BreakGlassGrant | undefined> {
    const now = this.clock.now().toISOString();
    const row = await this.db
      .selectFrom('break_glass')
      .select(['id', 'patient_id', 'purpose', 'expires_at'])
      .where('account_id', '=', principalId)
      .where('patient_id', '=', patientId)
      .where('expires_at', '>', now)
      .orderBy('expires_at', 'desc')
      .executeTakeFirst();
    return row && { id: row.id, patient: row.patient_id, purpose: row.purpose, expiresAt: row.expires_at };
  }

  /**
   * The review queue with reasons opened for the reviewer: the pending grants (oldest first,
   * so none waits forever) unless closed ones are asked for (newest first).
   */
  async queue(filter: { status?: 'pending' | 'closed' } = {}, limit = 100): Promise<BreakGlassReviewItem[]> {
    const status = filter.status ?? 'pending';
    const rows = await this.db
      .selectFrom('break_glass')
      .selectAll()
      .where('review_status', '=', status)
      .orderBy('opened_at', status === 'pending' ? 'asc' : 'desc')
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((r) => this.toItem(r));
  }

  async get(id: string): Promise<BreakGlassReviewItem | undefined> {
    const row = await this.db.selectFrom('break_glass').selectAll().where('id', '=', id).executeTakeFirst();
    return row && this.toItem(row);
  }

  /**
   * Close a grant's review with a disposition. Refused for the grant's own holder (audited,
   * 403), for unknown grants (404) and for grants already closed (409). An open grant may be
   * reviewed before it expires; reviewing does not end it.
   */
  async review(id: string, reviewer: Principal, input: { disposition: string; note?: string }, context: AuditContext = {}): Promise<BreakGlassReviewItem> {
    if (!(breakGlassDispositions as readonly string[]).includes(input.disposition)) {
      throw new WardError('request.invalid', `disposition must be one of: ${breakGlassDispositions.join(', ')}`, { status: 400 });
    }
    const note = input.note?.trim();
    if (note !== undefined && [...note].length > TEXT_MAX) throw new WardError('request.invalid', `the note must be at most ${TEXT_MAX} characters`, { status: 400 });
    const row = await this.db.selectFrom('break_glass').select(['account_id', 'patient_id', 'review_status']).where('id', '=', id).executeTakeFirst();
    if (!row) throw new WardError('break-glass.not_found', 'no such break-glass grant', { status: 404 });
    if (row.account_id === reviewer.id) {
      await this.audit.append(auditEntryOf(reviewer, 'break-glass.review', 'denied', { resource: { type: 'BreakGlass', id }, patient: row.patient_id, breakGlass: id, reason: 'break-glass.self_review' }, context));
      throw new WardError('break-glass.self_review', 'no one reviews their own break-glass access', { status: 403 });
    }
    const now = this.clock.now().toISOString();
    // A grant judged inappropriate (or escalated) ends now if it is still open: the review is
    // the moment the organization learns the access should not continue.
    const endsGrant = input.disposition !== 'appropriate';
    const closed = await this.audit.transact(async (trx, record) => {
      if (endsGrant) {
        await trx.updateTable('break_glass').set({ expires_at: now }).where('id', '=', id).where('review_status', '=', 'pending').where('expires_at', '>', now).execute();
      }
      const r = await trx
        .updateTable('break_glass')
        .set({
          review_status: 'closed', reviewer_id: reviewer.id, disposition: input.disposition, reviewed_at: now,
          review_note_box: note === undefined || note === '' ? null : this.box.seal(note, sealedAt('break_glass', 'review_note_box', id)),
        })
        .where('id', '=', id)
        .where('review_status', '=', 'pending')
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return false;
      record(auditEntryOf(reviewer, 'break-glass.review', 'success', { resource: { type: 'BreakGlass', id }, patient: row.patient_id, breakGlass: id, details: { disposition: input.disposition, grantEnded: endsGrant } }, context));
      return true;
    });
    if (!closed) throw new WardError('break-glass.already_reviewed', 'this break-glass access has already been reviewed', { status: 409 });
    const item = await this.get(id);
    if (!item) throw new WardError('break-glass.not_found', 'no such break-glass grant', { status: 404 });
    return item;
  }

  private toItem(r: WardSchema['break_glass']): BreakGlassReviewItem {
    return {
      id: r.id, accountId: r.account_id, patientId: r.patient_id, purpose: r.purpose,
      reason: this.box.open(r.reason_box, sealedAt('break_glass', 'reason_box', r.id)),
      openedAt: r.opened_at, expiresAt: r.expires_at,
      status: r.review_status === 'closed' ? 'closed' : 'pending',
      reviewerId: r.reviewer_id, disposition: r.disposition,
      reviewNote: r.review_note_box === null ? null : this.box.open(r.review_note_box, sealedAt('break_glass', 'review_note_box', r.id)),
      reviewedAt: r.reviewed_at,
    };
  }
}
