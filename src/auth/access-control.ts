/**
 * Access control at the edge of every request that may touch PHI: gathers the facts the pure
 * policy decision needs (the principal's relationship to the patient, an open break-glass
 * grant), asks the policy, and audits the decision, permit or deny, before anything else
 * happens (45 CFR 164.312(a)(1) access control, 164.312(b) audit controls). A deny, or a
 * failed audit write, ends the request (fail closed).
 */
import type { AuditLog } from '../audit/audit-log.js';
import type { AuditContext } from '../audit/audit-entry-of.js';
import { auditEntryOf } from '../audit/audit-entry-of.js';
import { AUDIT_ID_PATTERN, AUDIT_PURPOSE_PATTERN, auditCodeSchema } from '../audit/audit-entry.js';
import type { AuditEntryInput } from '../audit/audit-entry.js';
import type { Clock } from '../shared/clock.js';
import { WardError } from '../shared/ward-error.js';
import type { CompiledPolicy } from '../policy/compiled-policy.js';
import type { AccessDecision } from '../policy/access-decision.js';
import { decide } from '../policy/decide.js';
import type { AccessRequest } from '../policy/access-request.js';
import { BREAK_GLASS_PURPOSES } from '../policy/purpose-of-use.js';
import type { Principal } from './principal.js';
import type { CareRelationships, PatientRelationship } from './care-relationships.js';
import type { BreakGlassGrant, BreakGlassService } from './break-glass-service.js';

export interface AccessQuery {
  principal: Principal;
  action: string;
  purpose?: string;
  patient?: string;
}

export interface AccessEvaluation {
  decision: AccessDecision;
  relationship?: PatientRelationship;
}

/** What a permitted request carries into the audit entries it writes afterwards. */
export interface AccessPermit {
  decision: Extract<AccessDecision, { effect: 'permit' }>;
  /** Purpose, patient and break-glass id for the request's own audit entries. */
  auditFields: Pick<AuditEntryInput, 'purpose' | 'patient' | 'breakGlass'>;
}


/** The pure decision's input from a query and the facts looked up for it. */
export function accessRequestOf(q: AccessQuery, facts: { relationship?: PatientRelationship | undefined; grant?: BreakGlassGrant | undefined; now: Date }): AccessRequest {
  return {
    principal: { id: q.principal.id, kind: q.principal.kind, roles: q.principal.roles, ...(q.principal.scopes ? { scopes: q.principal.scopes } : {}) },
    action: q.action,
    ...(q.purpose !== undefined ? { purpose: q.purpose } : {}),
    ...(q.patient !== undefined ? { patient: q.patient } : {}),
    ...(facts.relationship !== undefined ? { relationship: facts.relationship } : {}),
    ...(facts.grant !== undefined ? { breakGlass: facts.grant } : {}),
    now: facts.now.toISOString(),
  };
}

export class AccessControl {
  constructor(
    private readonly policy: () => CompiledPolicy,
    private readonly relationships: CareRelationships,
    private readonly breakGlass: BreakGlassService,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  /**
   * The facts a decision about `q` rests on: the principal's relationship to the patient, and
   * an open break-glass grant when the purpose is an emergency one and the principal a person.
   * `ward policy explain` gathers them the same way, so it cannot disagree with the server.
   */
  async factsFor(q: AccessQuery): Promise<{ relationship?: PatientRelationship; grant?: BreakGlassGrant }> {
    if (q.patient === undefined) return {};
    if (!AUDIT_ID_PATTERN.test(q.patient)) {
      throw new WardError('request.invalid', 'patient must be an identifier (no spaces, at most 128 characters)', { status: 400 });
    }
    const emergency = q.purpose !== undefined && (BREAK_GLASS_PURPOSES as readonly string[]).includes(q.purpose) && q.principal.kind === 'person';
    const [relationship, grant] = await Promise.all([
      this.relationships.relationshipOf(q.principal.id, q.patient),
      emergency ? this.breakGlass.active(q.principal.id, q.patient) : Promise.resolve(undefined),
    ]);
    return { relationship, ...(grant !== undefined ? { grant } : {}) };
  }

  /** The decision for a query, with the facts it rested on; nothing is audited. */
  async evaluate(q: AccessQuery): Promise<AccessEvaluation> {
    const { relationship, grant } = await this.factsFor(q);
    const decision = decide(this.policy(), accessRequestOf(q, { relationship, grant, now: this.clock.now() }));
    return { decision, ...(relationship !== undefined ? { relationship } : {}) };
  }

  /**
   * Decide and audit. Returns the permit, or throws the deny as a 403 `WardError` whose code is
   * the decision's (`policy.purpose_required`, `policy.no_matching_rule`, ...). Accounts that
   * must first change a one-time password or enroll a second factor are denied here too.
   */
  async check(q: AccessQuery, context: AuditContext = {}): Promise<AccessPermit> {
    const pending = q.principal.mustChangePassword ? 'auth.password_change_required' : q.principal.mfaEnrollmentRequired ? 'auth.mfa_enrollment_required' : undefined;
    if (pending !== undefined) {
      await this.audit.append(this.entry(q, 'denied', { reason: pending }, context));
      throw new WardError(pending, pending === 'auth.password_change_required' ? 'change the one-time password first' : 'enroll a second factor (TOTP) first', { status: 403 });
    }
    const { decision, relationship } = await this.evaluate(q);
    const details: Record<string, string> = { policy: decision.policyVersion };
    if (decision.ruleId !== undefined) details.rule = decision.ruleId;
    if (relationship !== undefined) details.relationship = relationship;
    if (decision.effect === 'deny') {
      await this.audit.append(this.entry(q, 'denied', { reason: decision.code, details }, context));
      throw new WardError(decision.code, decision.reasons.join('; '), { status: 403, ...(decision.ruleId !== undefined ? { extra: { rule: decision.ruleId } } : {}) });
    }
    // The obligations travel with the permit into the audit trail: which data view, whether
    // the output must be de-identified or reviewed by a person.
    if (decision.obligations.view !== undefined) details.view = decision.obligations.view;
    const flags = { deidentify: decision.obligations.deidentify, humanReview: decision.obligations.humanReview };
    await this.audit.append(this.entry(q, 'success', { ...(decision.breakGlass !== undefined ? { breakGlass: decision.breakGlass } : {}), details, flags }, context));
    return {
      decision,
      auditFields: {
        ...(q.purpose !== undefined ? { purpose: q.purpose } : {}),
        ...(q.patient !== undefined ? { patient: q.patient } : {}),
        ...(decision.breakGlass !== undefined ? { breakGlass: decision.breakGlass } : {}),
      },
    };
  }

  private entry(
    q: AccessQuery,
    outcome: 'success' | 'denied',
    extra: Partial<AuditEntryInput> & { details?: Record<string, string>; flags?: Record<string, boolean> },
    context: AuditContext,
  ): AuditEntryInput {
    const details: Record<string, string | boolean> = { ...(extra.details ?? {}), ...(extra.flags ?? {}) };
    // Only well-formed codes reach the audit log; anything else is recorded as malformed,
    // never verbatim (a caller could put a name in a header).
    if (auditCodeSchema.safeParse(q.action).success) details.action = q.action;
    else details.actionMalformed = true;
    if (q.purpose !== undefined && !AUDIT_PURPOSE_PATTERN.test(q.purpose)) details.purposeMalformed = true;
    if (q.principal.authn !== undefined) details.authn = q.principal.authn;
    if (q.principal.credentialId !== undefined) details.credential = q.principal.credentialId;
    return auditEntryOf(q.principal, 'access.decision', outcome, {
      ...(q.purpose !== undefined && AUDIT_PURPOSE_PATTERN.test(q.purpose) ? { purpose: q.purpose } : {}),
      ...(q.patient !== undefined ? { patient: q.patient } : {}),
      ...(extra.breakGlass !== undefined ? { breakGlass: extra.breakGlass } : {}),
      ...(extra.reason !== undefined ? { reason: extra.reason } : {}),
      details,
    }, context);
  }
}
