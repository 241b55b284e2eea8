/**
 * `ward patient export|erase|hold|release-hold|holds`: patient rights. Export writes everything
 * held about a patient plus the accounting of disclosures (45 CFR 164.524, 164.528); erase
 * crypto-shreds the patient's data (GDPR Art. 17) unless a legal hold or the retention rule
 * applies. Every one of them is audited, refusals included.
 */
import { existsSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { CliIo } from './cli-io.js';
import { CliExit } from './cli-io.js';
import { dataDirOption } from './cli-options.js';
import { consoleUser } from './console-user.js';
import { formatTable } from './format-table.js';
import { withRuntime } from './with-runtime.js';
import { WardError } from '../shared/ward-error.js';

export function registerPatientCommand(program: Command, io: CliIo): void {
  const patient = program.command('patient').description('patient rights: export, erase, legal holds');

  patient
    .command('export')
    .description('write everything held about a patient and the accounting of disclosures (FHIR Bundle)')
    .argument('<id>', 'patient id')
    .requiredOption('--out <file>', 'where to write the Bundle (created 0600; refuses to overwrite)')
    .addOption(dataDirOption())
    .action(async (id: string, opts: { out: string; data?: string }) => {
      await withRuntime(io, opts, async (rt) => {
        // Refuse before reading: a refused write must not enter the accounting as a disclosure
        // (the refusal itself is audited as denied).
        if (existsSync(opts.out)) throw new WardError('export.file_exists', `${opts.out} already exists; refusing to overwrite (nothing was exported)`, { status: 409 });
        const bundle = await rt.records.exportPatient(id, consoleUser(), { observerId: 'ward' });
        try {
          writeFileSync(opts.out, `${JSON.stringify(bundle, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
        } catch (e) {
          throw new CliExit(1, `cannot write ${opts.out}: ${(e as NodeJS.ErrnoException).code ?? 'error'} (the export was audited but not written)`);
        }
        const entries = Array.isArray(bundle.entry) ? bundle.entry.length : 0;
        io.out(`wrote ${entries} entries for patient ${id} to ${opts.out}\n`);
      }, 'patient.export');
    });

  patient
    .command('erase')
    .description('erase a patient by destroying their data key (crypto-shredding)')
    .argument('<id>', 'patient id')
    .addOption(dataDirOption())
    .action(async (id: string, opts: { data?: string }) => {
      await withRuntime(io, opts, async (rt) => {
        const r = await rt.records.erasePatient(id, consoleUser());
        io.out(`erased patient ${id}: data key destroyed, ${r.resources} resource(s) and ${r.indexEntries} index entries deleted\n`);
        try {
          await rt.afterErase();
        } catch (e) {
          // The erasure stands; say loudly that the database still holds old page images.
          io.err(`warning: ${e instanceof Error ? e.message : 'purge failed'}\n`);
          process.exitCode = 4;
        }
      });
    });

  patient
    .command('hold')
    .description('place a legal hold (erasure is refused until it is released)')
    .argument('<id>', 'patient id')
    .requiredOption('--reason <code>', 'a code: litigation, investigation, regulator-request, ...')
    .addOption(dataDirOption())
    .action(async (id: string, opts: { reason: string; data?: string }) => {
      await withRuntime(io, opts, async (rt) => {
        const h = await rt.records.placeHold(id, opts.reason, consoleUser());
        io.out(`legal hold ${h.id} (${h.reason}) placed on patient ${id}\n`);
      }, 'patient.hold');
    });

  patient
    .command('release-hold')
    .description('release a legal hold')
    .argument('<hold-id>', 'hold id')
    .addOption(dataDirOption())
    .action(async (holdId: string, opts: { data?: string }) => {
      await withRuntime(io, opts, async (rt) => {
        const h = await rt.records.releaseHold(holdId, consoleUser());
        io.out(`legal hold ${h.id} on patient ${h.patientId} released\n`);
      }, 'patient.hold_release');
    });

  patient
    .command('holds')
    .description('list legal holds')
    .option('--patient <id>', 'only this patient')
    .addOption(dataDirOption())
    .action(async (opts: { patient?: string; data?: string }) => {
      await withRuntime(io, opts, async (rt) => {
        const holds = await rt.records.holds(opts.patient);
        io.out(formatTable(['id', 'patient', 'reason', 'placed', 'by', 'released'], holds.map((h) => [h.id, h.patientId, h.reason, h.placedAt, h.placedBy, h.releasedAt ?? ''])));
      });
    });
}
