/**
 * Where FHIR resources live at rest: one row per resource, the resource JSON encrypted under
 * its patient's data key (shared resources under the `directory` key) and bound to table,
 * row and field; the clear columns hold only Ward's ids, the type and the year of clinical
 * activity (see migrations/0003-records.ts). Patients are found through blind indexes.
 */
import type { Kysely } from 'kysely';
import type { WardSchema } from '../storage/schema.js';
import type { DataKey, DataKeyRing } from '../storage/data-key-ring.js';
import { patientKeySubject } from '../storage/data-key-ring.js';
import { aesGcmSealer } from '../storage/envelope-cipher.js';
import type { CipherBinding, FieldSealer } from '../storage/envelope-cipher.js';
import type { Clock } from '../shared/clock.js';
import { WardError } from '../shared/ward-error.js';
import type { FhirResource } from './fhir-resource.js';
import type { BlindIndex, IndexKind } from './blind-index.js';
import { patientSearchTerms } from './patient-search-terms.js';

type Db = Kysely<WardSchema>;

export const DIRECTORY_SUBJECT = 'directory';
const TABLE = 'fhir_resource';
const FIELD = 'body';

/** A resource ready to store: its patient (undefined for shared resources) and activity year. */
export interface ResourceToStore {
  resource: FhirResource & { id: string };
  patientId: string | undefined;
  activityYear: number | undefined;
}

/** Which rows a read needs: types, and for windowed types the years that can hold matches. */
export interface ReadPlanEntry {
  type: string;
  fromYear?: number;
  toYear?: number;
}

export type PatientState = 'active' | 'erased' | 'unknown';

/** A resource `put` did not store, and why (`records.patient_erased`, `records.compartment_changed`). */
export interface RefusedResource {
  item: ResourceToStore;
  code: 'records.patient_erased' | 'records.compartment_changed';
}

export function cipherBindingOf(type: string, id: string, subject: string, keyVersion: number): CipherBinding {
  return { table: TABLE, row: `${type}/${id}`, field: FIELD, subject, keyVersion };
}

export class RecordStore {
  constructor(
    private readonly db: Db,
    private readonly keys: DataKeyRing,
    private readonly index: BlindIndex,
    private readonly clock: Clock,
    private readonly sealer: FieldSealer = aesGcmSealer,
  ) {}

  /**
   * Encrypt and upsert resources in `trx` (the caller's audited transaction). Resources of an
   * erased patient are refused (returned, not stored): an erasure is not undone by the next feed.
   */
  async put(trx: Db, items: readonly ResourceToStore[]): Promise<{ refused: RefusedResource[] }> {
    const now = this.clock.now().toISOString();
    const keys = new Map<string, DataKey>();
    const erased = await this.erasedAmong(trx, [...new Set(items.flatMap((i) => (i.patientId === undefined ? [] : [i.patientId])))]);
    // The same person fed again under a new id is still erased (see `erase`): their new id is
    // tombstoned too, so the rest of their chart is refused now and in later imports.
    for (const { resource } of items) {
      if (resource.resourceType !== 'Patient' || erased.has(resource.id)) continue;
      if (await this.matchesErasedPerson(trx, resource)) {
        erased.add(resource.id);
        await trx.insertInto('patient_state').values({ patient_id: resource.id, erased_at: this.clock.now().toISOString(), erased_by: 'ward:erased-identifier' })
          .onConflict((oc) => oc.column('patient_id').doNothing()).execute();
      }
    }
    const owners = await this.currentOwners(trx, items);
    const refused: RefusedResource[] = [];
    const accepted: ResourceToStore[] = [];
    for (const item of items) {
      const owner = owners.get(`${item.resource.resourceType}/${item.resource.id}`);
      if (item.patientId !== undefined && erased.has(item.patientId)) refused.push({ item, code: 'records.patient_erased' });
      // A resource may not move to another patient's chart (or out of one) by re-import: two
      // sources reusing an id would otherwise silently swap data between patients.
      else if (owner !== undefined && owner !== (item.patientId ?? null)) refused.push({ item, code: 'records.compartment_changed' });
      else accepted.push(item);
    }
    const rows = [];
    for (const { resource, patientId, activityYear } of accepted) {
      const subject = patientId === undefined ? DIRECTORY_SUBJECT : patientKeySubject(patientId);
      let key = keys.get(subject);
      if (key === undefined) {
        key = await this.keys.keyFor(trx, subject);
        keys.set(subject, key);
      }
      const body = this.sealer.seal(key.key, Buffer.from(JSON.stringify(resource), 'utf8'), cipherBindingOf(resource.resourceType, resource.id, subject, key.version));
      rows.push({
        resource_type: resource.resourceType,
        resource_id: resource.id,
        patient_id: patientId ?? null,
        key_subject: subject,
        key_version: key.version,
        activity_year: activityYear ?? null,
        body,
        imported_at: now,
      });
    }
    // One row per resource, the last one winning: a batch may carry a resource twice (a
    // practitioner in several bundles), and PostgreSQL refuses an upsert that affects a row
    // twice ("ON CONFLICT DO UPDATE command cannot affect row a second time").
    const unique = [...new Map(rows.map((r) => [`${r.resource_type}/${r.resource_id}`, r])).values()];
    // Upsert in chunks (SQLite allows at most 32,766 bound parameters per statement).
    for (let i = 0; i < unique.length; i += 500) {
      await trx
        .insertInto('fhir_resource')
        .values(unique.slice(i, i + 500))
        .onConflict((oc) => oc.columns(['resource_type', 'resource_id']).doUpdateSet((eb) => ({
          patient_id: eb.ref('excluded.patient_id'),
          key_subject: eb.ref('excluded.key_subject'),
          key_version: eb.ref('excluded.key_version'),
          activity_year: eb.ref('excluded.activity_year'),
          body: eb.ref('excluded.body'),
          imported_at: eb.ref('excluded.imported_at'),
        })))
        .execute();
    }
    for (const { resource } of accepted) {
      if (resource.resourceType === 'Patient') await this.reindexPatient(trx, resource);
    }
    return { refused };
  }

  /** The patient (or null for shared) each already-stored resource of `items` belongs to. */
  private async currentOwners(trx: Db, items: readonly ResourceToStore[]): Promise<Map<string, string | null>> {
    const owners = new Map<string, string | null>();
    const byType = new Map<string, string[]>();
    for (const { resource } of items) {
      let ids = byType.get(resource.resourceType);
      if (ids === undefined) byType.set(resource.resourceType, (ids = []));
      ids.push(resource.id);
    }
    for (const [type, ids] of byType) {
      for (let i = 0; i < ids.length; i += 500) {
        const rows = await trx.selectFrom('fhir_resource').select(['resource_id', 'patient_id']).where('resource_type', '=', type).where('resource_id', 'in', ids.slice(i, i + 500)).execute();
        for (const r of rows) owners.set(`${type}/${r.resource_id}`, r.patient_id);
      }
    }
    return owners;
  }

  /** Replace a patient's blind-index rows with those of this version of the Patient resource. */
  private async reindexPatient(trx: Db, patient: FhirResource & { id: string }): Promise<void> {
    await trx.deleteFrom('patient_index').where('patient_id', '=', patient.id).execute();
    const terms = patientSearchTerms(patient);
    const rows = [
      ...(await this.index.digests(trx, 'identifier', terms.identifiers)).map((digest) => ({ kind: 'identifier', digest, patient_id: patient.id })),
      ...(await this.index.digests(trx, 'name-birthdate', terms.nameBirthDates)).map((digest) => ({ kind: 'name-birthdate', digest, patient_id: patient.id })),
    ];
    if (rows.length > 0) await trx.insertInto('patient_index').values(rows).onConflict((oc) => oc.doNothing()).execute();
  }

  /** Patient ids whose index holds `term` (exact match), erased patients excluded. */
  async findPatients(kind: IndexKind, term: string): Promise<string[]> {
    const [digest] = await this.index.digests(this.db, kind, [term]);
    if (digest === undefined) return [];
    const rows = await this.db.selectFrom('patient_index').select('patient_id').where('kind', '=', kind).where('digest', '=', digest).orderBy('patient_id').limit(100).execute();
    const erased = await this.erasedAmong(this.db, rows.map((r) => r.patient_id));
    return rows.map((r) => r.patient_id).filter((id) => !erased.has(id));
  }

  async state(patientId: string, db: Db = this.db): Promise<PatientState> {
    const erased = await db.selectFrom('patient_state').select('patient_id').where('patient_id', '=', patientId).executeTakeFirst();
    if (erased !== undefined) return 'erased';
    const row = await db.selectFrom('fhir_resource').select('resource_id').where('resource_type', '=', 'Patient').where('resource_id', '=', patientId).executeTakeFirst();
    return row === undefined ? 'unknown' : 'active';
  }

  /** Decrypt the patient's own resources of the planned types and years. */
  async readOwn(patientId: string, plan: readonly ReadPlanEntry[]): Promise<FhirResource[]> {
    if (plan.length === 0) return [];
    const rows = await this.db
      .selectFrom('fhir_resource')
      .select(['resource_type', 'resource_id', 'key_subject', 'key_version', 'body'])
      .where('patient_id', '=', patientId)
      .where((eb) => eb.or(plan.map((p) => {
        const conditions = [eb('resource_type', '=', p.type)];
        // Rows without a year cannot match a window (views exclude undated resources then).
        if (p.fromYear !== undefined) conditions.push(eb('activity_year', '>=', p.fromYear));
        if (p.toYear !== undefined) conditions.push(eb('activity_year', '<=', p.toYear));
        return eb.and(conditions);
      })))
      .orderBy('resource_type').orderBy('resource_id')
      .execute();
    return this.decryptRows(rows, patientKeySubject(patientId));
  }

  /** Decrypt shared resources (practitioners, locations...) by type and id. */
  async readShared(wanted: ReadonlyMap<string, ReadonlySet<string>>): Promise<FhirResource[]> {
    const out: FhirResource[] = [];
    for (const [type, ids] of wanted) {
      const all = [...ids].sort();
      for (let i = 0; i < all.length; i += 500) {
        const rows = await this.db.selectFrom('fhir_resource').select(['resource_type', 'resource_id', 'key_subject', 'key_version', 'body'])
          .where('resource_type', '=', type).where('resource_id', 'in', all.slice(i, i + 500)).where('patient_id', 'is', null).orderBy('resource_id').execute();
        out.push(...(await this.decryptRows(rows, DIRECTORY_SUBJECT)));
      }
    }
    return out;
  }

  /** Everything held about a patient (for `ward patient export`), decrypted. */
  async readAll(patientId: string): Promise<FhirResource[]> {
    const rows = await this.db.selectFrom('fhir_resource').select(['resource_type', 'resource_id', 'key_subject', 'key_version', 'body'])
      .where('patient_id', '=', patientId).orderBy('resource_type').orderBy('resource_id').execute();
    return this.decryptRows(rows, patientKeySubject(patientId));
  }

  /** How many resources a patient has, and the latest year of clinical activity among them. */
  async summary(patientId: string, db: Db = this.db): Promise<{ resources: number; latestYear: number | undefined }> {
    const row = await db.selectFrom('fhir_resource')
      .select((eb) => [eb.fn.countAll<number | string | bigint>().as('n'), eb.fn.max('activity_year').as('latest'), eb.fn.max('imported_at').as('imported')])
      .where('patient_id', '=', patientId).executeTakeFirstOrThrow();
    // Without any dated resource, the year of the latest import stands in (retention must not
    // fail open because the data carries no dates).
    const latest = row.latest !== null ? Number(row.latest) : row.imported !== null ? new Date(String(row.imported)).getUTCFullYear() : undefined;
    return { resources: Number(row.n), latestYear: latest };
  }

  /**
   * Crypto-shred a patient in `trx`: destroy the data key (every copy of the ciphertext, in
   * backups and replicas too, becomes unreadable), delete the rows and blind-index entries,
   * and leave a tombstone (ids and dates only) so the patient stays erased.
   */
  async erase(trx: Db, patientId: string, erasedBy: string): Promise<{ resources: number; indexEntries: number; keys: number }> {
    const keys = await this.keys.destroy(trx, patientKeySubject(patientId));
    const resources = await trx.deleteFrom('fhir_resource').where('patient_id', '=', patientId).executeTakeFirst();
    // The identifier digests stay, re-labelled, as a suppression list: keyed hashes only (no
    // value can be read back), kept so that the same person fed again under a new id is
    // refused rather than quietly restored. Names are not kept.
    await trx.updateTable('patient_index').set({ kind: 'erased-identifier' }).where('patient_id', '=', patientId).where('kind', '=', 'identifier').execute();
    // The Patient row itself is in its own compartment (patient_id = its id), already deleted.
    const indexEntries = await trx.deleteFrom('patient_index').where('patient_id', '=', patientId).where('kind', '!=', 'erased-identifier').executeTakeFirst();
    await trx.insertInto('patient_state').values({ patient_id: patientId, erased_at: this.clock.now().toISOString(), erased_by: erasedBy })
      .onConflict((oc) => oc.column('patient_id').doNothing()).execute();
    return { resources: Number(resources.numDeletedRows), indexEntries: Number(indexEntries.numDeletedRows), keys };
  }

  /** Whether any system-qualified identifier of this Patient belongs to an erased person. */
  private async matchesErasedPerson(trx: Db, patient: FhirResource & { id: string }): Promise<boolean> {
    // Only system-qualified identifiers: a bare value (`|123`) could belong to anyone.
    const terms = patientSearchTerms(patient).identifiers.filter((t) => !t.startsWith('|'));
    if (terms.length === 0) return false;
    const digests = await this.index.digests(trx, 'identifier', terms);
    const hit = await trx.selectFrom('patient_index').select('patient_id').where('kind', '=', 'erased-identifier').where('digest', 'in', digests).limit(1).executeTakeFirst();
    return hit !== undefined;
  }

  async erasedAmong(db: Db, patientIds: readonly string[]): Promise<Set<string>> {
    const erased = new Set<string>();
    for (let i = 0; i < patientIds.length; i += 500) {
      const chunk = patientIds.slice(i, i + 500);
      if (chunk.length === 0) continue;
      const rows = await db.selectFrom('patient_state').select('patient_id').where('patient_id', 'in', chunk).execute();
      for (const r of rows) erased.add(r.patient_id);
    }
    return erased;
  }

  /**
   * Decrypt rows that must all be under `subject`'s key. The clear `patient_id` column is not
   * in the associated data, so a row whose key subject is not the patient's it was read for
   * (an edited `patient_id`) is refused rather than shown in the wrong chart.
   */
  private async decryptRows(rows: ReadonlyArray<{ resource_type: string; resource_id: string; key_subject: string; key_version: number; body: Buffer }>, subject: string): Promise<FhirResource[]> {
    const keys = new Map<string, DataKey | undefined>();
    const out: FhirResource[] = [];
    for (const row of rows) {
      if (row.key_subject !== subject) throw new WardError('storage.decrypt_failed', 'a record is not stored under the key of the chart it was read for', { status: 500 });
      const cacheKey = `${row.key_subject}\u0000${row.key_version}`;
      let key = keys.get(cacheKey);
      if (!keys.has(cacheKey)) {
        key = await this.keys.existingKey(this.db, row.key_subject, row.key_version);
        keys.set(cacheKey, key);
      }
      if (key === undefined) throw new WardError('records.key_destroyed', 'a record\'s data key no longer exists (the patient was erased)', { status: 410 });
      const plain = this.sealer.open(key.key, Buffer.from(row.body), cipherBindingOf(row.resource_type, row.resource_id, row.key_subject, row.key_version));
      out.push(JSON.parse(plain.toString('utf8')) as FhirResource);
    }
    return out;
  }
}

/** Literal relative references (`Type/id`) anywhere in a value. */
export function collectReferences(value: unknown, found: (type: string, id: string) => void): void {
  if (Array.isArray(value)) {
    for (const v of value) collectReferences(v, found);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  for (const [k, v] of Object.entries(value)) {
    if (k === 'reference' && typeof v === 'string') {
      const m = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/.exec(v);
      if (m?.[1] !== undefined && m[2] !== undefined) found(m[1], m[2]);
    } else {
      collectReferences(v, found);
    }
  }
}
