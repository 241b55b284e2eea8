/**
 * Import: validated resources from an import source are attached to their patient
 * (compartment), encrypted and stored in batches, each batch one audited transaction; bad
 * resources are reported with their location and the good ones kept. `atomic` stores all
 * or nothing: everything goes in one transaction that is rolled back if anything was bad.
 */
import type { AuditLog } from '../audit/audit-log.js';
import type { AuditEntryInput } from '../audit/audit-entry.js';
import { auditEntryOf } from '../audit/audit-entry-of.js';
import type { ImportItem } from './import/import-item.js';
import type { RecordStore, RefusedResource, ResourceToStore } from './record-store.js';
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

const REFUSALS: Record<RefusedResource['code'], string> = {
  'records.patient_erased': 'the patient was erased; their records are not accepted again',
  'records.compartment_changed': 'a resource with this type and id is held for another patient (or as shared); ids may not move between charts',
};

export class RecordImporter {
  constructor(
    private readonly store: RecordStore,
    private readonly audit: AuditLog,
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

    /** Store one batch; report the resources the store refused (erased patient, another chart). */
    const flush = async (batch: Array<{ location: string; item: ResourceToStore }>, storeBatch: (items: ResourceToStore[]) => Promise<RefusedResource[]>): Promise<void> => {
      if (batch.length === 0) return;
      const refused = new Map((await storeBatch(batch.map((b) => b.item))).map((r) => [r.item, r.code]));
      for (const b of batch) {
        const code = refused.get(b.item);
        if (code !== undefined) problem({ location: b.location, code, problems: [REFUSALS[code]] });
        else if (b.item.patientId !== undefined) patients.add(b.item.patientId);
      }
    };

    const run = async (storeBatch: (items: ResourceToStore[]) => Promise<RefusedResource[]>): Promise<void> => {
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
          await flush(batch, storeBatch);
          batch = [];
        }
      }
      await flush(batch, storeBatch);
    };

    if (!options.atomic) {
      await run(async (batch) => {
        const { refused } = await this.audit.transact(async (trx, record) => {
          const result = await this.store.put(trx, batch);
          const stored = batch.length - result.refused.length;
          record(auditEntryOf(options.who, 'record.import', 'success', { details: { resources: stored, refused: result.refused.length, atomic: false } }));
          return result;
        });
        report.stored += batch.length - refused.length;
        return refused;
      });
    } else {
      try {
        await this.audit.transact(async (trx, record) => {
          await run(async (batch) => {
            const { refused } = await this.store.put(trx, batch);
            report.stored += batch.length - refused.length;
            return refused;
          });
          // All or nothing: any bad resource rolls back everything stored above.
          if (report.invalid > 0) throw new AtomicAbort();
          record(auditEntryOf(options.who, 'record.import', 'success', { details: { resources: report.stored, atomic: true } }));
        });
      } catch (e) {
        if (!(e instanceof AtomicAbort)) throw e;
        report.stored = 0;
        report.committed = false;
        patients.clear();
        await this.audit.append(auditEntryOf(options.who, 'record.import', 'error', { reason: 'records.import_rolled_back', details: { invalid: report.invalid, atomic: true } }));
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

