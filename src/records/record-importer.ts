/**
 * Import: validated resources from an import source are attached to their patient
 * (compartment), encrypted and stored in batches, each batch one audited transaction; bad
 * resources are reported with their location and the good ones kept. `atomic` stores all
 * or nothing: everything goes in one transaction that is rolled back if anything was bad.
 */
import type { AuditLog } from '../audit/audit-log.js';
import type { AuditEntryInput } from '../audit/audit-entry.js';
import type { Kysely } from 'kysely';
import type { WardSchema } from '../storage/schema.js';
import type { ImportItem } from './import/import-item.js';
import type { RecordStore, ResourceToStore } from './record-store.js';
import { patientOf } from './patient-compartment.js';
import { activityYearOf } from './clinical-date.js';
import type { FhirResource } from './fhir-resource.js';

export interface ImportProblem {
  location: string;
  code: string;
  problems: string[];
}

export interface ImportReport {
  stored: number;
  invalid: number;
  skipped: number;
  /** Skipped resources by type (types Ward does not keep). */
  skippedTypes: Record<string, number>;
  problems: ImportProblem[];
  /** Patients that received resources. */
  patients: number;
  /** Atomic imports with problems store nothing. */
  committed: boolean;
}

export interface ImportOptions {
  atomic: boolean;
  who: AuditEntryInput['who'];
  batchSize?: number;
  /** At most this many problems are kept in the report (all are counted). */
  maxProblems?: number;
}

class AtomicAbort extends Error {}

export class RecordImporter {
  constructor(
    private readonly store: RecordStore,
    private readonly audit: AuditLog,
    private readonly db: Kysely<WardSchema>,
  ) {}

  async import(items: AsyncIterable<ImportItem>, options: ImportOptions): Promise<ImportReport> {
    const report: ImportReport = { stored: 0, invalid: 0, skipped: 0, skippedTypes: {}, problems: [], patients: 0, committed: true };
    const patients = new Set<string>();
    const maxProblems = options.maxProblems ?? 1000;
    const problem = (p: ImportProblem): void => {
      report.invalid += 1;
      if (report.problems.length < maxProblems) report.problems.push(p);
    };
    const batchSize = options.batchSize ?? 500;

    const classify = async (batch: Array<{ location: string; item: ResourceToStore }>, storeBatch: (items: ResourceToStore[]) => Promise<void>): Promise<void> => {
      if (batch.length === 0) return;
      const erased = await this.store.erasedAmong(this.db, [...new Set(batch.flatMap((b) => (b.item.patientId === undefined ? [] : [b.item.patientId])))]);
      const keep: ResourceToStore[] = [];
      for (const b of batch) {
        if (b.item.patientId !== undefined && erased.has(b.item.patientId)) problem({ location: b.location, code: 'records.patient_erased', problems: ['the patient was erased; their records are not accepted again'] });
        else keep.push(b.item);
      }
      await storeBatch(keep);
      for (const k of keep) if (k.patientId !== undefined) patients.add(k.patientId);
    };

    const run = async (storeBatch: (items: ResourceToStore[]) => Promise<void>): Promise<void> => {
      let batch: Array<{ location: string; item: ResourceToStore }> = [];
      for await (const item of items) {
        if (item.kind === 'invalid') {
          problem({ location: item.location, code: item.code, problems: item.problems });
          continue;
        }
        if (item.kind === 'skipped') {
          report.skipped += 1;
          report.skippedTypes[item.resourceType] = (report.skippedTypes[item.resourceType] ?? 0) + 1;
          continue;
        }
        const prepared = prepare(item.resource);
        if ('problem' in prepared) {
          problem({ location: item.location, ...prepared.problem });
          continue;
        }
        batch.push({ location: item.location, item: prepared });
        if (batch.length >= batchSize) {
          await classify(batch, storeBatch);
          batch = [];
        }
      }
      await classify(batch, storeBatch);
    };

    if (!options.atomic) {
      await run(async (batch) => {
        if (batch.length === 0) return;
        await this.audit.transact(async (trx, record) => {
          await this.store.put(trx, batch);
          record({ who: options.who, action: 'record.import', outcome: 'success', details: { resources: batch.length, atomic: false } });
        });
        report.stored += batch.length;
      });
    } else {
      try {
        await this.audit.transact(async (trx, record) => {
          await run(async (batch) => {
            if (batch.length === 0) return;
            await this.store.put(trx, batch);
            report.stored += batch.length;
          });
          // All or nothing: any bad resource rolls back everything stored above.
          if (report.invalid > 0) throw new AtomicAbort();
          record({ who: options.who, action: 'record.import', outcome: 'success', details: { resources: report.stored, atomic: true } });
        });
      } catch (e) {
        if (!(e instanceof AtomicAbort)) throw e;
        report.stored = 0;
        report.committed = false;
        patients.clear();
        await this.audit.append({ who: options.who, action: 'record.import', outcome: 'error', reason: 'records.import_rolled_back', details: { invalid: report.invalid, atomic: true } });
      }
    }
    report.patients = patients.size;
    return report;
  }
}

/** Attach a validated resource to its patient, or say why it cannot be stored. */
function prepare(resource: FhirResource): ResourceToStore | { problem: { code: string; problems: string[] } } {
  if (resource.id === undefined) return { problem: { code: 'records.invalid_resource', problems: [`${resource.resourceType}.id: required`] } };
  const owner = patientOf(resource);
  if (owner.kind === 'unresolved') {
    // A patient's data must never be stored unattached to the patient (it could not be
    // shown, exported or erased with them).
    return { problem: { code: 'records.patient_unresolved', problems: [`${resource.resourceType}: no literal Patient reference in its patient element`] } };
  }
  return {
    resource: resource as FhirResource & { id: string },
    patientId: owner.kind === 'patient' ? owner.patientId : undefined,
    activityYear: activityYearOf(resource),
  };
}

