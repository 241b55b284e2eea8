/**
 * The principal's relationship to a patient: a member of the patient's care team, or assigned
 * to the patient's case (a scheduler, a prior-authorization specialist). It is an input to
 * every policy decision about a patient, so access follows the work a person is doing
 * (minimum necessary, 45 CFR 164.502(b)); records imported later (CareTeam, Encounter
 * participants) can feed the same table. Relationships may expire.
 */
import type { Kysely } from 'kysely';
import type { WardSchema } from '../storage/schema.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { AuditContext } from '../audit/audit-entry-of.js';
import { auditEntryOf } from '../audit/audit-entry-of.js';
import { AUDIT_ID_PATTERN } from '../audit/audit-entry.js';
import type { Clock } from '../shared/clock.js';
import { WardError } from '../shared/ward-error.js';
import type { Principal } from './principal.js';

export const relationshipKinds = ['care-team', 'assigned'] as const;
export type RelationshipKind = (typeof relationshipKinds)[number];
/** What the policy sees: the strongest current relationship, or none. */
export type PatientRelationship = RelationshipKind | 'none';

export interface CareRelationshipRecord {
  principalId: string;
  patientId: string;
  kind: RelationshipKind;
  createdAt: string;
  createdBy: string;
  expiresAt: string | null;
}

export function isRelationshipKind(v: string): v is RelationshipKind {
  return (relationshipKinds as readonly string[]).includes(v);
}

function checkId(what: string, v: string): void {
  if (!AUDIT_ID_PATTERN.test(v)) throw new WardError('request.invalid', `${what} must be an identifier (no spaces, at most 128 characters)`, { status: 400 });
}

export class CareRelationships {
  constructor(
    private readonly db: Kysely<WardSchema>,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  /** The strongest unexpired relationship: care-team over assigned over none. */
  async relationshipOf(principalId: string, patientId: string): Promise<PatientRelationship> {
    const now = this.clock.now().toISOString();
    const rows = await this.db
      .selectFrom('care_relationship')
      .select(['kind', 'expires_at'])
      .where('principal_id', '=', principalId)
      .where('patient_id', '=', patientId)
      .execute();
    const live = rows.filter((r) => r.expires_at === null || r.expires_at > now).map((r) => r.kind);
    if (live.includes('care-team')) return 'care-team';
    if (live.includes('assigned')) return 'assigned';
    return 'none';
  }

  async add(input: { principalId: string; patientId: string; kind: string; expiresAt?: string }, actor: Principal, context: AuditContext = {}): Promise<CareRelationshipRecord> {
    checkId('principal', input.principalId);
    checkId('patient', input.patientId);
    if (!isRelationshipKind(input.kind)) throw new WardError('request.invalid', `relationship must be one of: ${relationshipKinds.join(', ')}`, { status: 400 });
    const kind = input.kind;
    const now = this.clock.now().toISOString();
    if (input.expiresAt !== undefined && !(input.expiresAt > now)) throw new WardError('request.invalid', 'the relationship must expire in the future', { status: 400 });
    const record: CareRelationshipRecord = { principalId: input.principalId, patientId: input.patientId, kind, createdAt: now, createdBy: actor.id, expiresAt: input.expiresAt ?? null };
    await this.audit.transact(async (trx, log) => {
      await trx.deleteFrom('care_relationship').where('principal_id', '=', record.principalId).where('patient_id', '=', record.patientId).where('kind', '=', kind).execute();
      await trx
        .insertInto('care_relationship')
        .values({ principal_id: record.principalId, patient_id: record.patientId, kind, created_at: now, created_by: actor.id, expires_at: record.expiresAt })
        .execute();
      log(auditEntryOf(actor, 'care-relationship.add', 'success', { patient: record.patientId, resource: { type: 'CareRelationship', id: record.principalId }, details: { kind } }, context));
    });
    return record;
  }

  /** Remove a relationship; returns whether one existed. */
  async remove(input: { principalId: string; patientId: string; kind: string }, actor: Principal, context: AuditContext = {}): Promise<boolean> {
    checkId('principal', input.principalId);
    checkId('patient', input.patientId);
    if (!isRelationshipKind(input.kind)) throw new WardError('request.invalid', `relationship must be one of: ${relationshipKinds.join(', ')}`, { status: 400 });
    const kind = input.kind;
    return this.audit.transact(async (trx, log) => {
      const r = await trx.deleteFrom('care_relationship').where('principal_id', '=', input.principalId).where('patient_id', '=', input.patientId).where('kind', '=', kind).executeTakeFirst();
      const removed = Number(r.numDeletedRows) > 0;
      log(auditEntryOf(actor, 'care-relationship.remove', 'success', { patient: input.patientId, resource: { type: 'CareRelationship', id: input.principalId }, details: { kind, removed } }, context));
      return removed;
    });
  }

  async list(filter: { principalId?: string; patientId?: string } = {}): Promise<CareRelationshipRecord[]> {
    let q = this.db.selectFrom('care_relationship').selectAll();
    if (filter.principalId !== undefined) q = q.where('principal_id', '=', filter.principalId);
    if (filter.patientId !== undefined) q = q.where('patient_id', '=', filter.patientId);
    const rows = await q.orderBy('principal_id').orderBy('patient_id').execute();
    return rows.flatMap((r) =>
      isRelationshipKind(r.kind)
        ? [{ principalId: r.principal_id, patientId: r.patient_id, kind: r.kind, createdAt: r.created_at, createdBy: r.created_by, expiresAt: r.expires_at }]
        : [],
    );
  }
}
