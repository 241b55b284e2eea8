/**
 * The only way PHI leaves the records store: every read goes through the data view the
 * policy's permit names (45 CFR 164.502(b), 164.514(d) minimum necessary), and the view and
 * the elements disclosed are audited before the data is returned (164.528 accounting of
 * disclosures). No view, no data: a permit without one discloses nothing.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { WardSchema } from '../storage/schema.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { AuditEntryInput } from '../audit/audit-entry.js';
import { AUDIT_CODE_PATTERN, AUDIT_ID_PATTERN } from '../audit/audit-entry.js';
import type { AuditContext } from '../audit/audit-entry-of.js';
import { auditEntryOf } from '../audit/audit-entry-of.js';
import { parseStoredEntry } from '../audit/stored-entry.js';
import { toFhirAuditEvent } from '../audit/audit-event-fhir.js';
import type { AccessDecision } from '../policy/access-decision.js';
import type { Clock } from '../shared/clock.js';
import { WardError } from '../shared/ward-error.js';
import type { ErrorCode } from '../shared/ward-error.js';
import type { FhirResource } from './fhir-resource.js';
import { FHIR_ID_PATTERN } from './fhir-resource.js';
import type { RecordStore } from './record-store.js';
import { collectReferences } from './record-store.js';
import { PATIENT_COMPARTMENT_RULES } from './patient-compartment.js';
import type { ViewCatalog } from './views/view-catalog.js';
import type { DataView } from './views/data-view.js';
import { applyView, viewPlan } from './views/apply-view.js';
import { identifierTerm, nameBirthDateTerm } from './patient-search-terms.js';

/** The US SSN identifier system (FHIR `http://hl7.org/fhir/sid/us-ssn`). */
const US_SSN_SYSTEM = 'http://hl7.org/fhir/sid/us-ssn';

type Permit = Extract<AccessDecision, { effect: 'permit' }>;
type Who = AuditEntryInput['who'];

/** What a permitted request brings: who, the permit, and the fields for its audit entries. */
export interface ReadContext {
  who: Who;
  permit: Permit;
  auditFields: Pick<AuditEntryInput, 'purpose' | 'patient' | 'breakGlass'>;
  context?: AuditContext;
}

export interface ViewResult {
  view: string;
  resources: FhirResource[];
  disclosed: string[];
}

export type PatientQuery =
  | { identifier: { system?: string; value: string } }
  | { name: { family: string; given: string; birthDate: string } };

export interface LegalHold {
  id: string;
  patientId: string;
  reason: string;
  placedAt: string;
  placedBy: string;
  releasedAt?: string;
}

export interface RecordsSettings {
  /** Erasure waits this many years after the latest year of clinical activity (0: no rule). */
  retentionYears: number;
}

export class RecordsService {
  constructor(
    private readonly db: Kysely<WardSchema>,
    private readonly store: RecordStore,
    private readonly views: () => ViewCatalog,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly settings: RecordsSettings,
  ) {}

  /** Read one patient's data through the permit's view; audited before it is returned. */
  async readPatient(patientId: string, rc: ReadContext): Promise<ViewResult> {
    checkPatientId(patientId);
    const view = this.viewOf(rc.permit);
    await this.requireActive(patientId, rc);
    const now = this.clock.now();
    const shown = await this.throughView(patientId, view, now);
    await this.audit.append(auditEntryOf(rc.who, 'patient.read', 'success', {
      ...rc.auditFields,
      patient: patientId,
      resource: { type: 'Patient', id: patientId },
      view: view.name,
      disclosed: shown.disclosed,
      details: { resources: shown.resources.length, views: this.views().version },
    }, rc.context));
    return { view: view.name, resources: shown.resources, disclosed: shown.disclosed };
  }

  /**
   * The patient's resources through the view, then the shared resources (practitioners,
   * organizations...) of the view's types that the *shown* resources reference: references
   * in elements or resources the view withholds do not pull anything in.
   */
  private async throughView(patientId: string, view: DataView, now: Date): Promise<{ resources: FhirResource[]; disclosed: string[] }> {
    const plan = viewPlan(view, now);
    const own = applyView(view, await this.store.readOwn(patientId, plan), now);
    // Only types that live outside any patient's chart (practitioners, organizations...): a
    // reference to another chart's resource is never followed.
    const sharedTypes: ReadonlySet<string> = new Set(plan.map((p) => p.type).filter((t) => PATIENT_COMPARTMENT_RULES[t] === 'shared'));
    const wanted = new Map<string, Set<string>>();
    collectReferences(own.resources, (type, id) => {
      if (!sharedTypes.has(type)) return;
      let ids = wanted.get(type);
      if (ids === undefined) wanted.set(type, (ids = new Set()));
      ids.add(id);
    });
    if (wanted.size === 0 || sharedTypes.size === 0) return own;
    const shared = applyView(view, await this.store.readShared(wanted), now);
    return { resources: [...own.resources, ...shared.resources], disclosed: [...new Set([...own.disclosed, ...shared.disclosed])].sort() };
  }

  /**
   * Exact-match search through the blind indexes. Each patient found is a disclosure of that
   * patient's data (at least that they are known here): one audit entry per patient found,
   * with the view and elements disclosed, before the results are returned.
   */
  async findPatients(query: PatientQuery, rc: ReadContext): Promise<ViewResult> {
    const view = this.viewOf(rc.permit);
    const ids = 'identifier' in query
      ? await this.store.findPatients('identifier', identifierTerm(query.identifier.system, query.identifier.value))
      : await this.store.findPatients('name-birthdate', nameBirthDateTerm(query.name.family, query.name.given, query.name.birthDate));
    const now = this.clock.now();
    const plan = viewPlan(view, now).filter((p) => p.type === 'Patient');
    const found: FhirResource[] = [];
    const perPatient: Array<{ id: string; disclosed: string[] }> = [];
    for (const id of ids) {
      const patient = (await this.store.readOwn(id, plan)).filter((r) => r.resourceType === 'Patient');
      const shown = applyView(view, patient, now);
      // A search needs no relationship to the patient, so it shows only what tells one person
      // from another (and only what the view allows): the rest waits for a read, which does.
      const resource = onlySearchElements(shown.resources[0] ?? { resourceType: 'Patient', id });
      found.push(resource);
      perPatient.push({ id, disclosed: shown.disclosed.filter((d) => SEARCH_ELEMENTS.includes(d.split('.')[1] ?? '')) });
    }
    await this.audit.transact(async (_trx, record) => {
      const kind = 'identifier' in query ? 'identifier' : 'name-birthdate';
      if (perPatient.length === 0) {
        record(auditEntryOf(rc.who, 'patient.search', 'success', { ...rc.auditFields, view: view.name, details: { results: 0, by: kind } }, rc.context));
      }
      for (const p of perPatient) {
        record(auditEntryOf(rc.who, 'patient.search', 'success', {
          ...rc.auditFields,
          patient: p.id,
          resource: { type: 'Patient', id: p.id },
          view: view.name,
          disclosed: p.disclosed,
          details: { results: perPatient.length, by: kind },
        }, rc.context));
      }
    });
    return { view: view.name, resources: found, disclosed: [...new Set(perPatient.flatMap((p) => p.disclosed))].sort() };
  }

  /**
   * Which patients own these identifier values (exact match in the blind index; nothing is
   * decrypted, nothing disclosed): the model gateway's output guard asks whether an answer
   * names a patient outside the request's scope. SSNs are indexed only with their system.
   */
  async identifierOwners(candidates: ReadonlyArray<{ type: string; value: string }>): Promise<Map<string, string[]>> {
    const owners = new Map<string, string[]>();
    for (const c of candidates) {
      if (owners.has(c.value)) continue;
      const terms = c.type === 'SSN' ? [identifierTerm(US_SSN_SYSTEM, c.value), identifierTerm(US_SSN_SYSTEM, c.value.replace(/-/g, ''))] : [identifierTerm(undefined, c.value)];
      const found = new Set<string>();
      for (const term of terms) for (const id of await this.store.findPatients('identifier', term)) found.add(id);
      owners.set(c.value, [...found].sort());
    }
    return owners;
  }

  /**
   * Everything held about a patient (the right of access, 45 CFR 164.524) plus the accounting
   * of disclosures (164.528): a FHIR Bundle of the resources and one AuditEvent per audit
   * entry about the patient. Audited (the export itself appears in the next accounting).
   */
  async exportPatient(patientId: string, who: Who, options: { observerId: string; context?: AuditContext }): Promise<FhirResource> {
    checkPatientId(patientId);
    const state = await this.store.state(patientId);
    if (state === 'erased') throw new WardError('records.patient_erased', `patient ${patientId} was erased; nothing is held`, { status: 410 });
    if (state === 'unknown') throw new WardError('records.patient_not_found', `no patient ${patientId}`, { status: 404 });
    const resources = await this.store.readAll(patientId);
    const rows = await this.db.selectFrom('audit_entry').select(['seq', 'body']).where('patient_id', '=', patientId).orderBy('seq').execute();
    const events = rows.map((r) => toFhirAuditEvent(parseStoredEntry(r, 'audit.export_failed'), { observerId: options.observerId }));
    await this.audit.append(auditEntryOf(who, 'patient.export', 'success', {
      patient: patientId,
      resource: { type: 'Patient', id: patientId },
      details: { resources: resources.length, disclosures: events.length },
    }, options.context));
    return {
      resourceType: 'Bundle',
      id: randomUUID(),
      type: 'collection',
      timestamp: this.clock.now().toISOString(),
      entry: [...resources, ...events].map((resource) => ({ fullUrl: `urn:uuid:${randomUUID()}`, resource })),
    };
  }

  /**
   * Erase a patient (GDPR Art. 17) by destroying their data key: refused, with the reason,
   * while a legal hold or the retention rule applies. The audit log keeps ids only.
   */
  async erasePatient(patientId: string, who: Who, options: { context?: AuditContext } = {}): Promise<{ resources: number; indexEntries: number; keys: number }> {
    checkPatientId(patientId);
    // The checks run inside the erasing transaction (which holds the audit lock every
    // audited write takes), so a hold placed or data imported meanwhile cannot slip between
    // the check and the erasure. A refusal commits its own audit entry and erases nothing.
    const outcome = await this.audit.transact(async (trx, record) => {
      const refusal = await this.erasureRefusal(trx, patientId);
      if (refusal !== undefined) {
        record(auditEntryOf(who, 'patient.erase', 'denied', { patient: patientId, reason: refusal.code, details: refusal.details }, options.context));
        return { refusal, result: undefined };
      }
      const result = await this.store.erase(trx, patientId, who.id);
      record(auditEntryOf(who, 'patient.erase', 'success', { patient: patientId, resource: { type: 'Patient', id: patientId }, details: { ...result } }, options.context));
      return { refusal: undefined, result };
    });
    if (outcome.result === undefined) {
      const r = outcome.refusal;
      throw new WardError(r?.code ?? 'records.erase_refused', r?.message ?? 'erasure refused', { status: r?.status ?? 409, extra: r?.details ?? {} });
    }
    return outcome.result;
  }

  private async erasureRefusal(trx: Kysely<WardSchema>, patientId: string): Promise<{ code: ErrorCode; message: string; status: number; details: Record<string, string | number> } | undefined> {
    const state = await this.store.state(patientId, trx);
    if (state === 'erased') return { code: 'records.patient_erased', message: `patient ${patientId} is already erased`, status: 410, details: {} };
    const summary = await this.store.summary(patientId, trx);
    if (state === 'unknown' && summary.resources === 0) return { code: 'records.patient_not_found', message: `no patient ${patientId}`, status: 404, details: {} };
    const hold = await trx.selectFrom('legal_hold').selectAll().where('patient_id', '=', patientId).where('released_at', 'is', null).orderBy('placed_at').executeTakeFirst();
    if (hold !== undefined) {
      return { code: 'records.legal_hold', message: `patient ${patientId} is under legal hold ${hold.id} (${hold.reason}) since ${hold.placed_at}; release it first`, status: 409, details: { hold: hold.id, holdReason: hold.reason } };
    }
    if (this.settings.retentionYears > 0 && summary.latestYear !== undefined) {
      const until = summary.latestYear + this.settings.retentionYears;
      if (this.clock.now().getUTCFullYear() <= until) {
        return { code: 'records.retention', message: `the retention rule keeps patient ${patientId}'s records until the end of ${until} (${this.settings.retentionYears} years after the latest activity, in ${summary.latestYear})`, status: 409, details: { retainUntil: until } };
      }
    }
    return undefined;
  }

  async placeHold(patientId: string, reason: string, who: Who, context?: AuditContext): Promise<LegalHold> {
    checkPatientId(patientId);
    if (!AUDIT_CODE_PATTERN.test(reason) || reason.length > 64) throw new WardError('request.invalid', 'a hold reason is a code such as litigation, investigation or regulator-request (lower case, no spaces)', { status: 400 });
    const hold: LegalHold = { id: `hold_${randomUUID()}`, patientId, reason, placedAt: this.clock.now().toISOString(), placedBy: who.id };
    await this.audit.transact(async (trx, record) => {
      await trx.insertInto('legal_hold').values({ id: hold.id, patient_id: patientId, reason, placed_at: hold.placedAt, placed_by: who.id, released_at: null, released_by: null }).execute();
      record(auditEntryOf(who, 'patient.hold', 'success', { patient: patientId, resource: { type: 'LegalHold', id: hold.id }, reason, details: {} }, context));
    });
    return hold;
  }

  async releaseHold(holdId: string, who: Who, context?: AuditContext): Promise<LegalHold> {
    if (!AUDIT_ID_PATTERN.test(holdId)) throw new WardError('request.invalid', 'not a hold id', { status: 400 });
    const now = this.clock.now().toISOString();
    return this.audit.transact(async (trx, record) => {
      const row = await trx.selectFrom('legal_hold').selectAll().where('id', '=', holdId).executeTakeFirst();
      if (row === undefined) throw new WardError('records.hold_not_found', `no legal hold ${holdId}`, { status: 404 });
      if (row.released_at !== null) throw new WardError('records.hold_released', `legal hold ${holdId} was already released`, { status: 409 });
      await trx.updateTable('legal_hold').set({ released_at: now, released_by: who.id }).where('id', '=', holdId).execute();
      record(auditEntryOf(who, 'patient.hold_release', 'success', { patient: row.patient_id, resource: { type: 'LegalHold', id: holdId }, details: {} }, context));
      return { id: row.id, patientId: row.patient_id, reason: row.reason, placedAt: row.placed_at, placedBy: row.placed_by, releasedAt: now };
    });
  }

  async holds(patientId?: string): Promise<LegalHold[]> {
    let q = this.db.selectFrom('legal_hold').selectAll().orderBy('placed_at');
    if (patientId !== undefined) q = q.where('patient_id', '=', patientId);
    const rows = await q.execute();
    return rows.map((r) => ({ id: r.id, patientId: r.patient_id, reason: r.reason, placedAt: r.placed_at, placedBy: r.placed_by, ...(r.released_at !== null ? { releasedAt: r.released_at } : {}) }));
  }

  private viewOf(permit: Permit): DataView {
    const name = permit.obligations.view;
    // Fail closed: a permit that names no view discloses no record data.
    if (name === undefined) throw new WardError('records.view_required', 'the policy permits this request but names no data view, so no record data can be disclosed', { status: 403 });
    // De-identified record reads are not offered: a permit that demands de-identification
    // gets nothing rather than identifiable data.
    if (permit.obligations.deidentify) throw new WardError('records.deidentify_unsupported', 'the permit requires de-identified output, which record reads do not provide', { status: 403 });
    const view = this.views().get(name);
    // parseViews requires every view a policy can name, so a miss is a wiring fault: fail closed.
    if (view === undefined) throw new WardError('records.view_unknown', `the policy names the data view "${name}", which the views file does not define`, { status: 500 });
    return view;
  }

  private async requireActive(patientId: string, rc: ReadContext): Promise<void> {
    const state = await this.store.state(patientId);
    if (state === 'active') return;
    const code = state === 'erased' ? 'records.patient_erased' : 'records.patient_not_found';
    await this.audit.append(auditEntryOf(rc.who, 'patient.read', 'error', { ...rc.auditFields, patient: patientId, reason: code }, rc.context));
    throw new WardError(code, state === 'erased' ? 'the patient was erased' : 'no such patient', { status: state === 'erased' ? 410 : 404 });
  }
}

/** What a search result shows at most: enough to pick the right person, nothing more. */
const SEARCH_ELEMENTS = ['id', 'name', 'birthDate', 'gender'];

function onlySearchElements(patient: FhirResource): FhirResource {
  const out: FhirResource = { resourceType: 'Patient' };
  for (const key of SEARCH_ELEMENTS) if (patient[key] !== undefined) out[key] = patient[key];
  return out;
}

function checkPatientId(id: string): void {
  if (!FHIR_ID_PATTERN.test(id)) throw new WardError('request.invalid', 'a patient id is a FHIR id (1-64 of A-Z a-z 0-9 - .)', { status: 400 });
}
